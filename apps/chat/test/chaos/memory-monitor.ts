/**
 * Samples every running node's resident memory (`process_resident_memory_bytes` from its
 * /metrics) through the run, and checks it stays bounded: under an absolute limit, and not
 * climbing from the middle of the run to its end. A leak per connection, per message or per
 * reconnect shows as a steady climb under a soak that keeps reconnecting hundreds of clients; a
 * healthy node levels off once its caches and pools are warm.
 *
 * The growth check compares peaks, not single samples: garbage collection makes RSS saw-tooth.
 * Restarted nodes start low again, which can only hide growth, never invent it; the limit still
 * catches a node that grows big between restarts.
 */
import type { ChaosCluster } from './cluster.ts';

export interface RssSample {
  node: number;
  /** Which process of the slot (1 = the first). */
  incarnation: number;
  /** Seconds since the start of the run. */
  at: number;
  rssBytes: number;
}

export interface MemoryBound {
  /** No sample may exceed this. */
  limitBytes: number;
  /** The peak of the last third of the run may exceed the middle third's by this factor… */
  growthFactor: number;
  /** …plus this slack (small runs, GC timing). */
  growthSlackBytes: number;
}

export const DEFAULT_MEMORY_BOUND: MemoryBound = {
  limitBytes: 768 * 2 ** 20,
  growthFactor: 1.5,
  growthSlackBytes: 64 * 2 ** 20,
};

const SAMPLE_EVERY_MS = 2_000;
/** A paused node does not answer; do not let it hold up the sampling. */
const SCRAPE_TIMEOUT_MS = 1_500;

export class MemoryMonitor {
  readonly samples: RssSample[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly clock: () => number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), SAMPLE_EVERY_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The highest sample per node, in bytes. */
  peaks(): number[] {
    const peaks = this.cluster.slots.map(() => 0);
    for (const s of this.samples) peaks[s.node] = Math.max(peaks[s.node]!, s.rssBytes);
    return peaks;
  }

  private async sample(): Promise<void> {
    await Promise.all(
      this.cluster.liveNodes.map(async ({ slot, node }) => {
        try {
          const response = await fetch(`${node.url}/metrics`, {
            signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS),
          });
          const line = (await response.text())
            .split('\n')
            .find((l) => l.startsWith('process_resident_memory_bytes '));
          if (line === undefined) return;
          this.samples.push({
            node: slot.index,
            incarnation: slot.incarnation,
            at: this.clock(),
            rssBytes: Number(line.split(' ')[1]),
          });
        } catch {
          // Down, paused or restarting: nothing to sample this round.
        }
      }),
    );
  }
}

export interface MemoryProblem {
  node: number;
  what: string;
  samples: RssSample[];
}

/** What breaks the bound, per node; empty when memory stayed bounded. */
export function memoryProblems(
  samples: RssSample[],
  runSeconds: number,
  bound: MemoryBound,
): MemoryProblem[] {
  const problems: MemoryProblem[] = [];
  const nodes = [...new Set(samples.map((s) => s.node))].sort();
  for (const node of nodes) {
    const mine = samples.filter((s) => s.node === node);
    const over = mine.filter((s) => s.rssBytes > bound.limitBytes);
    if (over.length > 0) {
      problems.push({
        node,
        what: `RSS above the limit of ${mb(bound.limitBytes)}`,
        samples: over.slice(0, 10),
      });
    }
    const peakOf = (from: number, to: number) =>
      Math.max(0, ...mine.filter((s) => s.at >= from && s.at < to).map((s) => s.rssBytes));
    const third = runSeconds / 3;
    const middle = peakOf(third, 2 * third);
    const last = peakOf(2 * third, Number.POSITIVE_INFINITY);
    if (middle > 0 && last > middle * bound.growthFactor + bound.growthSlackBytes) {
      problems.push({
        node,
        what: `RSS kept growing: peak ${mb(last)} in the last third of the run, ${mb(middle)} in the middle third`,
        samples: mine.filter((s) => s.at >= third),
      });
    }
  }
  return problems;
}

export function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MB`;
}
