/**
 * What one user may upload, over HTTP and the chat socket alike: a number of uploads started per
 * minute (429 RATE_LIMIT_EXCEEDED with a wait; shared across nodes when the limiter is Redis)
 * and a total of stored bytes (QUOTA_EXCEEDED). The byte quota is checked when an upload starts,
 * with the size it declares, and again with the real size before the file is recorded, so
 * uploads running side by side cannot pass it together by more than they are each checked for.
 */
import { ErrorCode } from '@switchboard/protocol';
import { type RateLimiter, WsError } from '@switchboard/server';
import { orUnavailable } from '../domain/storage-unavailable.ts';
import type { Storage } from '../storage/storage.ts';
import { formatBytes } from './file-policy.ts';

export interface UploadQuotaLimits {
  quotaBytes: number;
  perMinute: number;
}

export class UploadQuota {
  constructor(
    private readonly storage: Storage,
    private readonly rateLimiter: RateLimiter,
    readonly limits: UploadQuotaLimits,
  ) {}

  /** Before any byte is written: counts the upload against the rate, checks the declared size. */
  async admit(userId: number, declaredBytes: number): Promise<void> {
    const decision = await this.rateLimiter.hit(`uploads:${userId}`, this.limits.perMinute, 60);
    if (!decision.allowed) {
      throw new WsError(
        ErrorCode.RATE_LIMIT_EXCEEDED,
        `At most ${this.limits.perMinute} uploads per minute. Try again in ${decision.retryAfterSeconds} s.`,
        { retryAfter: decision.retryAfterSeconds },
      );
    }
    await this.checkBytes(userId, declaredBytes);
  }

  /** Refuses if `bytes` more would take the user's stored uploads over the quota. */
  async checkBytes(userId: number, bytes: number): Promise<void> {
    const used = await orUnavailable(this.storage.uploadedBytes(userId));
    if (used + bytes <= this.limits.quotaBytes) return;
    throw new WsError(
      ErrorCode.QUOTA_EXCEEDED,
      `Your uploads would exceed your quota of ${formatBytes(this.limits.quotaBytes)} (${formatBytes(used)} used).`,
      { field: 'file_size' },
    );
  }
}
