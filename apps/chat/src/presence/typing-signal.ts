/**
 * The typing indicator of one chat socket: never stored, throttled, and ended by the server.
 *
 * - `is_typing: true` is broadcast at most once per throttle window; refreshes in between only
 *   keep the indicator alive. A start inside the window of the last broadcast is dropped (the
 *   client's next refresh brings it), so a socket causes at most two broadcasts per window.
 * - `is_typing: false` is broadcast only when the indicator is on.
 * - Without a refresh for `timeoutMs` (or when the socket sends a message or closes) the server
 *   broadcasts `is_typing: false` itself, so no indicator outlives its typist.
 */
export interface TypingTiming {
  throttleMs: number;
  timeoutMs: number;
}

export class TypingSignal {
  private on = false;
  private lastBroadcastAt = Number.NEGATIVE_INFINITY;
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly broadcast: (isTyping: boolean) => Promise<void>,
    private readonly timing: TypingTiming,
  ) {}

  update(isTyping: boolean): Promise<void> {
    if (!isTyping) return this.stop();
    const now = Date.now();
    const due = now - this.lastBroadcastAt >= this.timing.throttleMs;
    if (!this.on && !due) return Promise.resolve();
    this.armExpiry();
    if (!due) return Promise.resolve();
    this.on = true;
    this.lastBroadcastAt = now;
    return this.broadcast(true);
  }

  /** Ends the indicator if it is on. */
  stop(): Promise<void> {
    clearTimeout(this.expiry);
    this.expiry = undefined;
    if (!this.on) return Promise.resolve();
    this.on = false;
    return this.broadcast(false);
  }

  private armExpiry(): void {
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => {
      this.stop().catch(() => {
        // Fire and forget: a layer hiccup loses one ephemeral event, which clients also expire.
      });
    }, this.timing.timeoutMs);
    this.expiry.unref();
  }
}
