/**
 * Samples every running node's resident memory (`process_resident_memory_bytes` from its
 * /metrics) through the run, and checks it stays bounded: under an absolute limit, and, for each
 * process that lived long enough, not climbing through its life. A leak per connection, per
 * message or per reconnect shows as a steady climb under a soak that keeps reconnecting hundreds
 * of clients; a healthy node levels off once its caches and pools are warm.
 *
 * The growth check looks at one process at a time (a restarted node starts low and warms up
 * again, which is not growth), skips its warm-up, and compares the peak of the second half of
 * the rest of its life with the first half's: peaks, because garbage collection makes RSS
 * saw-tooth. A process needs WARM_UP_SECONDS + MIN_OBSERVED_SECONDS of life to be judged, so the
 * 45-second soak only checks the limit; `npm run chaos` (3 minutes and more) checks both.
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
  /** The peak of a process's second half may exceed its first half's by this factor… */
  growthFactor: number;
  /** …plus this slack (small runs, GC timing). */
  growthSlackBytes: number;
}

export const DEFAULT_MEMORY_BOUND: MemoryBound = {
  limitBytes: 768 * 2 ** 20,
  growthFactor: 1.05,
  growthSlackBytes: 32 * 2 ** 20,
};

/** A process's first seconds: modules load, pools fill, V8 sizes its heap. Not judged. */
const WARM_UP_SECONDS = 30;
/** Time after the warm-up needed to tell a climb from noise. */
const MIN_OBSERVED_SECONDS = 60;

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
export function memoryProblems(samples: RssSample[], bound: MemoryBound): MemoryProblem[] {
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
    for (const { incarnation, judged } of judgedLives(mine)) {
      const from = judged[0]!.at;
      const to = judged[judged.length - 1]!.at;
      const half = (from + to) / 2;
      const peak = (list: RssSample[]) => Math.max(...list.map((s) => s.rssBytes));
      const first = peak(judged.filter((s) => s.at < half));
      const second = peak(judged.filter((s) => s.at >= half));
      if (second > first * bound.growthFactor + bound.growthSlackBytes) {
        problems.push({
          node,
          what: `RSS kept growing in process ${incarnation}: peak ${mb(first)} from ${from.toFixed(0)} s, ${mb(second)} from ${half.toFixed(0)} s to ${to.toFixed(0)} s`,
          samples: judged,
        });
      }
    }
  }
  return problems;
}

/** How many processes lived long enough for their growth to be judged (the rest: the limit only). */
export function processesJudgedForGrowth(samples: RssSample[]): number {
  const nodes = new Set(samples.map((s) => s.node));
  return [...nodes].reduce((n, node) => n + judgedLives(samples.filter((s) => s.node === node)).length, 0);
}

/** One node's processes that lived long enough to judge, with their samples after the warm-up. */
function judgedLives(mine: RssSample[]): { incarnation: number; judged: RssSample[] }[] {
  return [...new Set(mine.map((s) => s.incarnation))].flatMap((incarnation) => {
    const life = mine.filter((s) => s.incarnation === incarnation);
    const judged = life.filter((s) => s.at >= life[0]!.at + WARM_UP_SECONDS);
    const span = judged.length < 2 ? 0 : judged[judged.length - 1]!.at - judged[0]!.at;
    return span >= MIN_OBSERVED_SECONDS ? [{ incarnation, judged }] : [];
  });
}

export function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MB`;
}
