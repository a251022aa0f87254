/**
 * The resume cursor of one chat room: the highest `seq` seen. Every change of a room (new, edited,
 * deleted message) carries the room's next seq, so anything at or below the cursor is a duplicate
 * (a replay overlapping live traffic) and reconnecting with `after_seq=cursor` misses nothing.
 */
import { changeSeq } from '@switchboard/protocol/room-change';
import type { ChatServerFrame } from './frames.ts';

export class RoomCursor {
  /** Undefined until a resume point is known: then the first connection starts from "now". */
  #lastSeq: number | undefined;

  constructor(afterSeq?: number) {
    this.#lastSeq = afterSeq;
  }

  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  /** Moves the cursor to `seq` unless it is already further. */
  resumeAfter(seq: number): void {
    this.#lastSeq = Math.max(this.#lastSeq ?? seq, seq);
  }

  /** False for a change already seen; otherwise advances the cursor and returns true. */
  admit(frame: ChatServerFrame): boolean {
    if (frame.type === 'synced') {
      this.resumeAfter(frame.last_seq);
      return true;
    }
    const seq = changeSeq(frame);
    if (seq === undefined) return true;
    if (this.#lastSeq !== undefined && seq <= this.#lastSeq) return false;
    this.#lastSeq = seq;
    return true;
  }
}
