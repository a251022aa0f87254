/**
 * Plays a fault on the cluster: break the part, hold it broken, mend it. Counts faults by kind
 * and keeps a timeline (seconds since the start of the run) that the checker prints next to the
 * history of any violation, so a failure reads as "what the client saw while what was broken".
 */
import type { ChaosCluster } from './cluster.ts';
import { describeFault, FAULT_KINDS, type Fault, type FaultKind } from './fault-schedule.ts';

export interface TimelineEntry {
  /** Seconds since the start of the run. */
  at: number;
  text: string;
}

/** How long a commit-lost fault waits for a commit to cut after (traffic makes one every few ms). */
const COMMIT_WAIT_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class FaultInjector {
  readonly counts = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  readonly timeline: TimelineEntry[] = [];

  constructor(
    private readonly cluster: ChaosCluster,
    /** Seconds since the start of the run. */
    private readonly clock: () => number,
    private readonly log: (line: string) => void,
  ) {}

  note(text: string): void {
    this.timeline.push({ at: this.clock(), text });
    this.log(`[${this.clock().toFixed(1)} s] ${text}`);
  }

  /**
   * Breaks, holds, mends. Resolves once the part works again (a restarted node listens).
   * `struck` is called once the part is broken.
   */
  async play(fault: Fault, struck?: () => void): Promise<void> {
    this.counts[fault.kind] += 1;
    this.note(
      `fault ${describeFault(fault)}: start${struck ? ' (the last one: no new messages once it strikes)' : ''}`,
    );
    await this.strike(fault);
    struck?.();
    await sleep(fault.holdMs);
    await this.mend(fault);
    this.note(`fault #${fault.number}: healed`);
  }

  private async strike(fault: Fault): Promise<void> {
    const slot = this.cluster.slots[fault.node ?? 0]!;
    switch (fault.kind) {
      case 'node-kill':
      case 'node-term':
        await this.cluster.stopNode(slot.index, fault.kind === 'node-kill' ? 'SIGKILL' : 'SIGTERM');
        this.note(`fault #${fault.number}: node ${slot.index} is down`);
        return;
      case 'node-pause':
        return this.cluster.pauseNode(slot.index);
      case 'redis-restart':
        return this.cluster.killRedis();
      case 'postgres-cut':
        return this.cluster.postgresRelay.cut();
      case 'postgres-commit-lost': {
        const outcome = await this.cluster.postgresRelay.cutAfter('commit', COMMIT_WAIT_MS);
        const how = outcome === 'tripped' ? 'right after a commit' : '(no commit came)';
        this.note(`fault #${fault.number}: PostgreSQL cut ${how}`);
        return;
      }
      case 'relay-cut':
        return slot.relay.cut();
      case 'relay-stall':
        return slot.relay.stall();
    }
  }

  private async mend(fault: Fault): Promise<void> {
    const slot = this.cluster.slots[fault.node ?? 0]!;
    switch (fault.kind) {
      case 'node-kill':
      case 'node-term':
        return this.cluster.startNode(slot.index);
      case 'node-pause':
        return this.cluster.resumeNode(slot.index);
      case 'redis-restart':
        return this.cluster.startRedis();
      case 'postgres-cut':
      case 'postgres-commit-lost':
        return this.cluster.postgresRelay.restore();
      case 'relay-cut':
        return slot.relay.restore();
      case 'relay-stall':
        return slot.relay.unstall();
    }
  }
}
