/**
 * The live signals of one open room, beside its messages: who is typing, how far each member has
 * read, and this user's own typing. One instance per room view (see LiveRoom.tsx); components
 * read it with useSyncExternalStore.
 *
 * - Typing: an indicator is dropped 6 s after its last `is_typing: true` even if the server's
 *   `is_typing: false` never arrives (the server ends one after 5 s without a refresh). Our own
 *   typing is sent at most every 2 s while keys are pressed, and ended 4 s after the last one.
 * - Receipts: the members' read positions load from REST, then follow `read_receipt` frames.
 *   Each reader is shown under the newest rendered message they have read.
 */
import type { ChatRoomConnection } from '@switchboard/client';
import type { UserRef } from '@switchboard/protocol';
import { getJson } from './live-api.ts';

const TYPING_SHOWN_MS = 6_000;
const TYPING_SEND_EVERY_MS = 2_000;
const TYPING_IDLE_MS = 4_000;

export interface Reader {
  user: UserRef;
  seq: number;
}

export class RoomSignals {
  private readonly listeners = new Set<() => void>();
  private readonly typingUntil = new Map<number, { user: UserRef; until: number }>();
  private readonly readers = new Map<number, Reader>();
  private readonly renderedSeqs = new Map<number, number>();
  private typingSnapshot: UserRef[] = [];
  private readersAt = new Map<number, UserRef[]>();
  private version = 0;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly sweep: ReturnType<typeof setInterval>;
  private lastTypingSent = 0;
  private typingIdle: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly slug: string,
    private readonly connection: ChatRoomConnection | null,
    private readonly username: string,
  ) {
    if (connection) {
      this.unsubscribe.push(
        connection.on('typing', (frame) => this.onTyping(frame.user, frame.is_typing)),
        connection.on('read_receipt', (frame) => this.onReceipt({ user: frame.user, seq: frame.seq })),
      );
    }
    this.sweep = setInterval(() => this.expireTyping(), 1_000);
    getJson<{ receipts: Reader[] }>(`/api/rooms/${encodeURIComponent(slug)}/read-receipts/`).then(
      ({ receipts }) => {
        for (const receipt of receipts) this.onReceipt(receipt);
      },
      () => {
        // Receipts are a nicety: without the starting positions, live ones still show.
      },
    );
  }

  dispose(): void {
    for (const stop of this.unsubscribe) stop();
    clearInterval(this.sweep);
    this.stopTyping();
    this.listeners.clear();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  /** The users typing now (never this user). */
  typing(): UserRef[] {
    return this.typingSnapshot;
  }

  /** Every member with their read position (from the REST list and later receipts). */
  members(): UserRef[] {
    return [...this.readers.values()].map((reader) => reader.user);
  }

  /** Readers other than this user whose newest read, rendered message is the one with `seq`. */
  readersOf(seq: number): UserRef[] {
    return this.readersAt.get(seq) ?? [];
  }

  /** A message on screen: receipts attach to rendered messages only. Returns the undo. */
  registerMessage(seq: number): () => void {
    this.renderedSeqs.set(seq, (this.renderedSeqs.get(seq) ?? 0) + 1);
    this.changed();
    return () => {
      const left = (this.renderedSeqs.get(seq) ?? 1) - 1;
      if (left > 0) this.renderedSeqs.set(seq, left);
      else this.renderedSeqs.delete(seq);
      this.changed();
    };
  }

  /** The user pressed a key in the composer. */
  keystroke(): void {
    if (!this.connection) return;
    const now = Date.now();
    if (now - this.lastTypingSent >= TYPING_SEND_EVERY_MS) {
      if (this.connection.sendEphemeral({ type: 'typing', is_typing: true })) this.lastTypingSent = now;
    }
    clearTimeout(this.typingIdle);
    this.typingIdle = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  private stopTyping(): void {
    clearTimeout(this.typingIdle);
    if (this.lastTypingSent === 0) return;
    this.lastTypingSent = 0;
    this.connection?.sendEphemeral({ type: 'typing', is_typing: false });
  }

  private onTyping(user: UserRef, isTyping: boolean): void {
    if (user.username === this.username) return;
    if (isTyping) this.typingUntil.set(user.id, { user, until: Date.now() + TYPING_SHOWN_MS });
    else if (!this.typingUntil.delete(user.id)) return;
    this.changed();
  }

  private expireTyping(): void {
    const now = Date.now();
    let expired = false;
    for (const [id, entry] of this.typingUntil) {
      if (entry.until <= now) expired = this.typingUntil.delete(id);
    }
    if (expired) this.changed();
  }

  private onReceipt(receipt: Reader): void {
    const known = this.readers.get(receipt.user.id);
    if (known && known.seq >= receipt.seq) return;
    this.readers.set(receipt.user.id, receipt);
    this.changed();
  }

  private changed(): void {
    this.typingSnapshot = [...this.typingUntil.values()].map((entry) => entry.user);
    this.readersAt = this.placeReaders();
    this.version++;
    for (const listener of this.listeners) listener();
  }

  private placeReaders(): Map<number, UserRef[]> {
    const seqs = [...this.renderedSeqs.keys()].sort((a, b) => a - b);
    const placed = new Map<number, UserRef[]>();
    for (const reader of this.readers.values()) {
      if (reader.user.username === this.username || reader.seq === 0) continue;
      const at = newestAtOrBelow(seqs, reader.seq);
      if (at === undefined) continue;
      placed.set(at, [...(placed.get(at) ?? []), reader.user]);
    }
    return placed;
  }
}

function newestAtOrBelow(sorted: number[], seq: number): number | undefined {
  let low = 0;
  let high = sorted.length - 1;
  let found: number | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (sorted[middle]! <= seq) {
      found = sorted[middle];
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}
