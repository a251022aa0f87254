/**
 * Whether a decoded frame may run: the principal's rate bucket (shared by all of its connections,
 * and across nodes when the limiter is Redis), and this connection's own record of refusals.
 * A client that keeps going after refusals is not listening, and is let go with 4429: after more
 * rate refusals in a row than its allowance, or more unusable frames than `invalidFrames` allows
 * per window (each may have cost a full parse, so they are counted here, in memory, not in the
 * limiter).
 */
import { FrameworkErrorCode } from '@switchboard/protocol/envelope';
import type { RateRule } from '../consumer/consumer.ts';
import { WsError } from '../errors.ts';
import type { RateLimiter } from '../limits/rate-limiter.ts';

export type Verdict = { allowed: true } | { allowed: false; refusal: WsError; letGo: boolean };

const ALLOWED: Verdict = { allowed: true };

export class Admission {
  private refusedInRow = 0;
  private invalidCount = 0;
  /** When the current invalid-frame window began (ms, performance clock). */
  private invalidSince = 0;

  constructor(
    private readonly limiter: RateLimiter,
    private readonly invalidFrames: RateRule,
    private readonly warn: (error: unknown) => void,
  ) {}

  /** One hit against `key`'s bucket. A limiter outage allows: it must not take the server down. */
  async admit(key: string, rule: RateRule): Promise<Verdict> {
    let decision: { allowed: boolean; retryAfterSeconds: number };
    try {
      decision = await this.limiter.hit(key, rule.limit, rule.windowSeconds);
    } catch (error) {
      this.warn(error);
      return ALLOWED;
    }
    if (decision.allowed) {
      this.refusedInRow = 0;
      return ALLOWED;
    }
    const refusal = new WsError(
      FrameworkErrorCode.RATE_LIMIT_EXCEEDED,
      'Rate limit exceeded. Please slow down.',
      {
        retryAfter: decision.retryAfterSeconds,
      },
    );
    return { allowed: false, refusal, letGo: ++this.refusedInRow > rule.limit };
  }

  /** Counts a frame refused before any handler ran; true when the connection should be let go. */
  unusable(now: number): boolean {
    if (now - this.invalidSince > this.invalidFrames.windowSeconds * 1000) {
      this.invalidSince = now;
      this.invalidCount = 0;
    }
    return ++this.invalidCount > this.invalidFrames.limit;
  }
}
