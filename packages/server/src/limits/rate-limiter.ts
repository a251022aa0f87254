/**
 * Rolling-window rate limiting. The in-process limiter is the default; the Redis package provides
 * one with the same contract that counts across all of a key's connections and nodes.
 */

export interface RateDecision {
  allowed: boolean;
  /** Seconds until one more hit would be allowed; 0 when allowed. */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Counts one hit for `key` and says whether it is within `limit` hits per `windowSeconds`. */
  hit(key: string, limit: number, windowSeconds: number): RateDecision | Promise<RateDecision>;
  /**
   * Says what `hit` would decide now without counting anything: for limits that count only some
   * outcomes (failed sign-ins), checked before the attempt and hit only when it fails.
   */
  peek(key: string, limit: number, windowSeconds: number): RateDecision | Promise<RateDecision>;
  close?(): Promise<void>;
}

/**
 * A sliding-log limiter: the limit holds over any window of the given length (a rolling window,
 * not fixed buckets a burst can straddle to get twice the rate). Each key keeps at most
 * `limit` timestamps in a ring, so memory per key is bounded by the limit, and idle keys are swept.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly logs = new Map<string, { stamps: number[]; next: number; lastSeen: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  hit(key: string, limit: number, windowSeconds: number): RateDecision {
    const now = this.now();
    const windowMs = windowSeconds * 1000;
    let log = this.logs.get(key);
    if (!log) {
      log = { stamps: [], next: 0, lastSeen: now };
      this.logs.set(key, log);
    }
    log.lastSeen = now;
    if (log.stamps.length < limit) {
      log.stamps.push(now);
      return { allowed: true, retryAfterSeconds: 0 };
    }
    // The ring is full: the oldest stamp decides whether the window has room again.
    const oldest = log.stamps[log.next]!;
    if (now - oldest >= windowMs) {
      log.stamps[log.next] = now;
      log.next = (log.next + 1) % limit;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)) };
  }

  peek(key: string, limit: number, windowSeconds: number): RateDecision {
    const log = this.logs.get(key);
    if (!log || log.stamps.length < limit) return { allowed: true, retryAfterSeconds: 0 };
    const waitMs = log.stamps[log.next]! + windowSeconds * 1000 - this.now();
    if (waitMs <= 0) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  private sweep(): void {
    const cutoff = this.now() - 3_600_000;
    for (const [key, log] of this.logs) if (log.lastSeen < cutoff) this.logs.delete(key);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.logs.clear();
  }
}
