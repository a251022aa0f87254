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
  /**
   * Batches in flight at once (default 1). More than one overlaps one batch's round trips with
   * another's commit, for a database reached over a network; a single-connection database gains nothing.
   */
  concurrency?: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<I, O> {
  private pending: Pending<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private readonly drained: (() => void)[] = [];

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
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate runs after the current turn's I/O callbacks, collecting every call made in it.
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Stops accepting items and waits until every accepted one is settled. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pending.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  /** Starts batches while there is work and room; each finished batch pumps again. */
  private pump(): void {
    const concurrency = this.options.concurrency ?? 1;
    while (this.pending.length > 0 && this.inFlight < concurrency) {
      const batch = this.pending.splice(0, this.options.maxBatch);
      this.inFlight++;
      void this.commit(batch).finally(() => {
        this.inFlight--;
        if (this.pending.length > 0) this.pump();
        else if (this.inFlight === 0) for (const resolve of this.drained.splice(0)) resolve();
      });
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
