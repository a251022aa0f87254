/**
 * Coalesces the frames written within one tick into the server's `batch` envelope
 * (`{"type":"batch","frames":[…]}`, at most 32 frames), so a burst of sends (a reconnect flushing
 * the offline queue, an app sending several updates at once) leaves as one WebSocket frame. The
 * server handles each inner frame exactly as if it came alone, so nothing else changes.
 */
export const MAX_BATCH_FRAMES = 32;

export class FrameBatcher {
  #pending: string[] = [];
  #length = 0;
  #scheduled = false;

  constructor(
    /** Writes one text frame to the current socket. */
    private readonly send: (text: string) => void,
    /** The largest frame the server takes, in UTF-8 bytes. */
    private readonly maxFrameBytes: number,
  ) {}

  write(text: string): void {
    // Three bytes per UTF-16 unit is the most UTF-8 can take: a batch never outgrows the limit.
    if (
      this.#pending.length >= MAX_BATCH_FRAMES ||
      (this.#length + text.length + 40) * 3 > this.maxFrameBytes
    )
      this.flush();
    this.#pending.push(text);
    this.#length += text.length + 1;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  flush(): void {
    this.#scheduled = false;
    const frames = this.#pending;
    if (frames.length === 0) return;
    this.#pending = [];
    this.#length = 0;
    this.send(frames.length === 1 ? frames[0]! : `{"type":"batch","frames":[${frames.join(',')}]}`);
  }
}
