import type { LayerMessage, LayerOptions, LayerStats, Receiver } from './channel-layer.ts';

interface Waiting {
  message: LayerMessage;
  deadline: number;
}

/**
 * The bounded, ordered inbox of one local channel. An idle receiver is called at once (the
 * broadcast fast path never allocates); a busy one gets later messages in order once it settles.
 */
export class Mailbox {
  private readonly waiting: Waiting[] = [];
  private busy = false;
  private closed = false;

  constructor(
    private readonly receiver: Receiver,
    private readonly options: LayerOptions,
    private readonly stats: LayerStats,
    private readonly onError: (error: unknown) => void,
  ) {}

  deliver(message: LayerMessage): void {
    if (this.closed) return;
    if (!this.busy) {
      this.run(message);
      return;
    }
    if (this.waiting.length >= this.options.capacity) {
      this.stats.droppedOverCapacity++;
      return;
    }
    this.waiting.push({ message, deadline: Date.now() + this.options.expirySeconds * 1000 });
  }

  close(): void {
    this.closed = true;
    this.waiting.length = 0;
  }

  private run(message: LayerMessage): void {
    let result: void | Promise<void>;
    try {
      result = this.receiver(message);
    } catch (error) {
      this.onError(error);
      return;
    }
    if (result === undefined) return;
    this.busy = true;
    result.then(
      () => this.next(),
      (error: unknown) => {
        this.onError(error);
        this.next();
      },
    );
  }

  private next(): void {
    this.busy = false;
    const now = Date.now();
    while (!this.busy && !this.closed) {
      const item = this.waiting.shift();
      if (!item) return;
      if (item.deadline < now) {
        this.stats.droppedExpired++;
        continue;
      }
      this.run(item.message);
    }
  }
}
