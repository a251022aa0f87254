/**
 * Keeps one connection's view of a room gapless and in `seq` order. Pub/sub is at-most-once and
 * two nodes may publish their changes in a different order than they committed them, so a change
 * that arrives ahead of a missing one is held back; if the missing one does not show up soon, it
 * is read from storage. The common case (the next seq) costs one comparison.
 */
import { CloseCode, changeSeq } from '@switchboard/protocol';
import type { ConnectionContext, LayerMessage } from '@switchboard/server';

/** How long a gap may stay open before storage fills it. */
const GAP_WAIT_MS = 150;
/** Changes held for one connection before it is told to resume instead. */
const MAX_HELD = 1000;

/** The room's changes after `afterSeq`, oldest first, as frames (from storage). */
export type FillGap = (afterSeq: number) => AsyncIterable<LayerMessage>;

type Client = Pick<ConnectionContext, 'send' | 'close' | 'log'>;

export class RoomSequencer {
  private readonly held = new Map<number, LayerMessage>();
  private gapTimer: NodeJS.Timeout | undefined;
  private filling = false;

  /** `lastSeq`: the highest seq this client has been sent, with nothing missing below it. */
  constructor(
    private readonly client: Client,
    private lastSeq: number,
    private readonly fill: FillGap,
  ) {}

  /**
   * The forward guard for room changes: true means "send the shared frame now". Anything else is
   * either a duplicate (dropped) or held and sent later, in order, by `release`.
   */
  admit(event: LayerMessage): boolean {
    const seq = changeSeq(event);
    if (seq === undefined) return true;
    if (seq <= this.lastSeq) return false;
    if (seq === this.lastSeq + 1 && !this.filling) {
      this.lastSeq = seq;
      if (this.held.size > 0) queueMicrotask(() => this.release());
      return true;
    }
    if (this.held.size >= MAX_HELD) {
      this.client.close(CloseCode.TRY_AGAIN_LATER, 'fell behind: reconnect with after_seq');
      return false;
    }
    this.held.set(seq, event);
    this.gapTimer ??= setTimeout(() => void this.fillFromStorage(), GAP_WAIT_MS);
    return false;
  }

  /**
   * Reads whatever this connection may have missed from storage now, without waiting for the next
   * live change to reveal a gap: after the layer was down, a quiet room would otherwise stay stale.
   */
  catchUp(): void {
    if (!this.filling) void this.fillFromStorage();
  }

  stop(): void {
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.held.clear();
  }

  /** Sends held changes that are next in line. */
  private release(): void {
    for (let next = this.held.get(this.lastSeq + 1); next; next = this.held.get(this.lastSeq + 1)) {
      this.held.delete(this.lastSeq + 1);
      this.lastSeq++;
      this.client.send(next);
    }
    if (this.held.size === 0 && this.gapTimer) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
    } else if (this.held.size > 0) {
      this.gapTimer ??= setTimeout(() => void this.fillFromStorage(), GAP_WAIT_MS);
    }
  }

  private async fillFromStorage(): Promise<void> {
    this.gapTimer = undefined;
    if (this.filling) return;
    this.filling = true;
    try {
      for await (const change of this.fill(this.lastSeq)) {
        const seq = changeSeq(change)!;
        if (seq !== this.lastSeq + 1) break;
        this.held.delete(seq);
        this.lastSeq = seq;
        this.client.send(change);
      }
      for (const seq of this.held.keys()) if (seq <= this.lastSeq) this.held.delete(seq);
    } catch (error) {
      this.client.log.warn(
        { err: error },
        'could not fill a gap in the room stream; asking the client to resume',
      );
      this.client.close(CloseCode.TRY_AGAIN_LATER, 'missed changes: reconnect with after_seq');
    } finally {
      this.filling = false;
    }
    this.release();
  }
}
