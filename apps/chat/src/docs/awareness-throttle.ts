/**
 * Coalesces one socket's awareness updates: a cursor that moves on every keystroke is published
 * at most once per interval (default 250 ms: 4 per second), with the latest state of each client
 * id; a goodbye (`null` state) leaves at once. Peers see the newest state a little later instead
 * of every intermediate one, and a burst from one client costs one publish.
 */
import { type AwarenessEntry, LEFT } from './awareness-states.ts';

export const AWARENESS_INTERVAL_MS = 250;

export class AwarenessThrottle {
  private readonly pending = new Map<number, AwarenessEntry>();
  private timer: NodeJS.Timeout | undefined;
  private lastPublishedAt = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly publish: (entries: AwarenessEntry[]) => void,
    private readonly intervalMs = AWARENESS_INTERVAL_MS,
  ) {}

  push(entry: AwarenessEntry): void {
    if (this.closed) return;
    this.pending.set(entry.clientId, entry);
    const wait = this.lastPublishedAt + this.intervalMs - performance.now();
    if (entry.state === LEFT || wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  /** Drops whatever is pending: the socket is gone and says goodbye for itself. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.pending.clear();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const entries = [...this.pending.values()];
    this.pending.clear();
    this.lastPublishedAt = performance.now();
    this.publish(entries);
  }
}
