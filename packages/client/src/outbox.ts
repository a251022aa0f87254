/**
 * The offline queue: every frame that expects a reply stays here, in send order, until the server
 * acks it (or refuses it). Frames written while the socket is open are here too, so that a drop
 * before the ack can resend them; the server's `client_id` idempotency makes that resend harmless.
 */
import { QueueFullError } from './errors.ts';
import type { TypedFrame } from './frames.ts';
import type { OutboxStorage } from './outbox-storage.ts';

/** A frame as stored: it always carries the `ref` its reply will quote. */
export type QueuedFrame<Frame extends TypedFrame = TypedFrame> = Frame & { ref: string };

export interface OutboxEntry<Frame extends TypedFrame = TypedFrame> {
  frame: QueuedFrame<Frame>;
  /** Written to the current socket and waiting for its reply. */
  written: boolean;
}

export class Outbox<Frame extends TypedFrame = TypedFrame> {
  readonly #entries = new Map<string, OutboxEntry<Frame>>();
  readonly #storage: OutboxStorage;
  readonly #key: string;
  readonly limit: number;

  constructor(storage: OutboxStorage, key: string, limit: number) {
    this.#storage = storage;
    this.#key = key;
    this.limit = limit;
    for (const frame of loadFrames(storage.read(key)).slice(-limit)) {
      this.#entries.set(frame.ref, { frame: frame as QueuedFrame<Frame>, written: false });
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Appends a frame; throws QueueFullError when the bound is reached. */
  add(frame: QueuedFrame<Frame>): OutboxEntry<Frame> {
    if (this.#entries.size >= this.limit) {
      throw new QueueFullError(`The offline queue holds ${this.limit} frames already.`);
    }
    const entry = { frame, written: false };
    this.#entries.set(frame.ref, entry);
    this.#save();
    return entry;
  }

  get(ref: string): OutboxEntry<Frame> | undefined {
    return this.#entries.get(ref);
  }

  remove(ref: string): boolean {
    const removed = this.#entries.delete(ref);
    if (removed) this.#save();
    return removed;
  }

  clear(): void {
    this.#entries.clear();
    this.#save();
  }

  /** Entries in send order. */
  entries(): OutboxEntry<Frame>[] {
    return [...this.#entries.values()];
  }

  #save(): void {
    this.#storage.write(
      this.#key,
      this.entries().map((entry) => entry.frame),
    );
  }
}

function loadFrames(saved: unknown): QueuedFrame[] {
  if (!Array.isArray(saved)) return [];
  return saved.filter(
    (frame): frame is QueuedFrame =>
      typeof frame === 'object' &&
      frame !== null &&
      typeof (frame as QueuedFrame).type === 'string' &&
      typeof (frame as QueuedFrame).ref === 'string',
  );
}
