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

  /** Breaks, holds, mends. Resolves once the part works again (a restarted node listens). */
  async play(fault: Fault): Promise<void> {
    this.counts[fault.kind] += 1;
    this.note(`fault ${describeFault(fault)}: start`);
    const node = fault.node ?? 0;
    const slot = this.cluster.slots[node]!;
    switch (fault.kind) {
      case 'node-kill':
      case 'node-term':
        await this.cluster.stopNode(node, fault.kind === 'node-kill' ? 'SIGKILL' : 'SIGTERM');
        this.note(`fault #${fault.number}: node ${node} is down`);
        await sleep(fault.holdMs);
        await this.cluster.startNode(node);
        break;
      case 'node-pause':
        this.cluster.pauseNode(node);
        await sleep(fault.holdMs);
        this.cluster.resumeNode(node);
        break;
      case 'redis-restart':
        await this.cluster.killRedis();
        await sleep(fault.holdMs);
        await this.cluster.startRedis();
        break;
      case 'postgres-cut':
        await this.cluster.postgresRelay.cut();
        await sleep(fault.holdMs);
        await this.cluster.postgresRelay.restore();
        break;
      case 'relay-cut':
        await slot.relay.cut();
        await sleep(fault.holdMs);
        await slot.relay.restore();
        break;
      case 'relay-stall':
        slot.relay.stall();
        await sleep(fault.holdMs);
        slot.relay.unstall();
        break;
    }
    this.note(`fault #${fault.number}: healed`);
  }
}
