import { describe, expect, it } from 'vitest';
import { backoffDelay, defaultBackoff } from '../src/backoff.ts';

describe('backoffDelay (exponential, full jitter)', () => {
  const options = { ...defaultBackoff };

  it('defaults to a 1 s base, a 30 s cap, retrying forever', () => {
    expect(defaultBackoff).toEqual({ baseMs: 1_000, capMs: 30_000, maxAttempts: Number.POSITIVE_INFINITY });
  });

  it('with the largest random value the delay is just under the capped exponential', () => {
    const top = () => 0.999_999;
    const ceilings = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000];
    ceilings.forEach((ceiling, retry) => {
      const delay = backoffDelay(retry, options, top);
      expect(delay).toBeLessThan(ceiling);
      expect(delay).toBeGreaterThanOrEqual(ceiling - 1);
    });
  });

  it('with random 0 the delay is 0 on every retry (full jitter reaches down to zero)', () => {
    for (let retry = 0; retry < 10; retry++) expect(backoffDelay(retry, options, () => 0)).toBe(0);
  });

  it('scales linearly with the random value inside the window', () => {
    expect(backoffDelay(2, options, () => 0.5)).toBe(2_000);
    expect(backoffDelay(3, options, () => 0.25)).toBe(2_000);
  });

  it('stays within the cap for huge retry counts (no overflow to Infinity or NaN)', () => {
    const delay = backoffDelay(5_000, options, () => 0.5);
    expect(delay).toBe(15_000);
  });

  it('honours a custom base and cap', () => {
    const custom = { baseMs: 100, capMs: 500, maxAttempts: 3 };
    expect(backoffDelay(0, custom, () => 0.999)).toBe(99);
    expect(backoffDelay(4, custom, () => 0.999)).toBe(499);
  });

  it('with Math.random every delay lies in [0, ceiling)', () => {
    for (let retry = 0; retry < 12; retry++) {
      const ceiling = Math.min(30_000, 1_000 * 2 ** retry);
      for (let sample = 0; sample < 50; sample++) {
        const delay = backoffDelay(retry, options);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
      }
    }
  });
});
