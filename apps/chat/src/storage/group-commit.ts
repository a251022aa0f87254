/**
 * Group commit: calls that arrive while the database is busy (or within the same event-loop turn)
 * are committed together in one transaction, so one durable sync serves many callers. Each caller
 * still gets its own result or error: when a batch fails for a reason that may belong to one item
 * (a constraint, a missing row), the batch is retried one item per transaction, in order.
 */
import { OverloadedError } from './storage.ts';

export interface GroupCommitOptions {
  /** Most items written in one transaction. */
  maxBatch: number;
  /** Most items waiting; beyond it `submit` rejects with OverloadedError instead of queueing. */
  maxPending: number;
  /** Whether a batch's failure may be caused by a single item, so retrying items alone makes sense. */
  isItemError: (error: unknown) => boolean;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<I, O> {
  private pending: Pending<I, O>[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;

  /** `commitBatch` writes the items in one transaction and returns their results in order. */
  constructor(
    private readonly commitBatch: (items: I[]) => Promise<O[]>,
    private readonly options: GroupCommitOptions,
  ) {}

  submit(item: I): Promise<O> {
    if (this.closed) return Promise.reject(new Error('Storage is closed.'));
    if (this.pending.length >= this.options.maxPending) {
      return Promise.reject(new OverloadedError('Too many writes waiting; try again shortly.'));
    }
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      // setImmediate runs after the current turn's I/O callbacks, collecting every call made in it.
      this.flushing ??= new Promise<void>((done) => setImmediate(() => this.flush().finally(done)));
    });
  }

  /** Stops accepting items and waits until every accepted one is settled. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        await this.commit(this.pending.splice(0, this.options.maxBatch));
      }
    } finally {
      this.flushing = null;
    }
  }

  private async commit(batch: Pending<I, O>[]): Promise<void> {
    try {
      const results = await this.commitBatch(batch.map((p) => p.item));
      for (const [i, p] of batch.entries()) p.resolve(results[i]!);
      return;
    } catch (error) {
      if (batch.length === 1 || !this.options.isItemError(error)) {
        for (const p of batch) p.reject(error);
        return;
      }
    }
    for (const p of batch) {
      try {
        const [result] = await this.commitBatch([p.item]);
        p.resolve(result!);
      } catch (error) {
        p.reject(error);
      }
    }
  }
}
