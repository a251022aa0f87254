/**
 * Latency samples with bounded memory: a fixed-size reservoir (Vitter's algorithm R), so a long
 * run at a high rate keeps a uniform sample instead of every value.
 */
export class LatencySamples {
  private readonly samples: Float64Array;
  private seen = 0;

  constructor(capacity = 100_000) {
    this.samples = new Float64Array(capacity);
  }

  add(ms: number): void {
    const capacity = this.samples.length;
    if (this.seen < capacity) this.samples[this.seen] = ms;
    else {
      const slot = Math.floor(Math.random() * (this.seen + 1));
      if (slot < capacity) this.samples[slot] = ms;
    }
    this.seen++;
  }

  get count(): number {
    return this.seen;
  }

  /** The q-quantile (0..1) in ms; NaN without samples. */
  quantile(q: number): number {
    const n = Math.min(this.seen, this.samples.length);
    if (n === 0) return Number.NaN;
    const sorted = this.samples.slice(0, n).sort();
    return sorted[Math.min(n - 1, Math.floor(q * n))]!;
  }
}
