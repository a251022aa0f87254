/**
 * The faults of a soak, drawn from a seed: which fault, on which node, for how long, and how long
 * the cluster gets to breathe before the next one. Faults come one at a time, so at least two of
 * the three nodes serve at any moment and every fault has a clear start and end in the logs.
 *
 * Kinds are dealt like cards from a shuffled deck (reshuffled when empty), so even a short run
 * meets every kind of fault instead of, by bad luck, seven node pauses.
 */
import type { SeededRandom } from './seeded-random.ts';

export const FAULT_KINDS = [
  /** SIGKILL a node (no goodbye to anyone), keep it down a while, start it again. */
  'node-kill',
  /** SIGTERM a node (graceful drain: sockets closed with 1001), then start it again. */
  'node-term',
  /** SIGSTOP a node, then SIGCONT: a process that stops answering but keeps its sockets. */
  'node-pause',
  /** Kill the Redis server and start it again, empty: pub/sub and presence are lost. */
  'redis-restart',
  /** Cut every node off PostgreSQL (the relay in front of it) for a few seconds. */
  'postgres-cut',
  /**
   * The same cut, timed to fall right after a `commit` reached PostgreSQL: the transaction is
   * stored, its node never hears so and tells its clients it was not (SERVICE_UNAVAILABLE).
   */
  'postgres-commit-lost',
  /** Cut a node's client relay: every client socket through it drops, new ones are refused. */
  'relay-cut',
  /** Stall a node's client relay: its sockets stay open and carry nothing (half-open links). */
  'relay-stall',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  /** 1, 2, 3, … in the order the faults happen. */
  number: number;
  kind: FaultKind;
  /** The node (0-based) whose process or relay is hit; undefined for Redis and PostgreSQL. */
  node: number | undefined;
  /** How long the fault lasts before it is healed (a node down, a relay stalled, …). */
  holdMs: number;
  /** Quiet time before the fault starts. */
  gapMs: number;
}

/** How long each kind of fault lasts, in ms: long enough to matter, short enough to heal by itself. */
const HOLD_MS: Record<FaultKind, [number, number]> = {
  'node-kill': [500, 3_000],
  'node-term': [500, 3_000],
  'node-pause': [1_000, 6_000],
  'redis-restart': [300, 2_500],
  'postgres-cut': [1_000, 5_000],
  'postgres-commit-lost': [1_000, 4_000],
  'relay-cut': [500, 4_000],
  // Below the SDK's 15 s ack timeout and the server's 30 s heartbeat: the links come back on their own.
  'relay-stall': [2_000, 8_000],
};
const GAP_MS: [number, number] = [500, 3_000];

const TARGETS_A_NODE: ReadonlySet<FaultKind> = new Set([
  'node-kill',
  'node-term',
  'node-pause',
  'relay-cut',
  'relay-stall',
]);

export class FaultSchedule {
  private deck: FaultKind[] = [];
  private drawn = 0;

  /**
   * @param kinds the kinds to deal (all by default; fewer to replay one kind of trouble)
   * @param nodes how many nodes there are to aim at
   */
  constructor(
    private readonly random: SeededRandom,
    private readonly nodes: number,
    private readonly kinds: readonly FaultKind[] = FAULT_KINDS,
  ) {
    if (kinds.length === 0) throw new Error('A fault schedule needs at least one kind of fault.');
  }

  /** The next fault. The same seed deals the same sequence. */
  next(): Fault {
    if (this.deck.length === 0) this.deck = this.random.shuffle(this.kinds);
    const kind = this.deck.pop()!;
    const [minHold, maxHold] = HOLD_MS[kind];
    return {
      number: ++this.drawn,
      kind,
      node: TARGETS_A_NODE.has(kind) ? this.random.int(0, this.nodes - 1) : undefined,
      holdMs: Math.round(this.random.between(minHold, maxHold)),
      gapMs: Math.round(this.random.between(GAP_MS[0], GAP_MS[1])),
    };
  }
}

export function describeFault(fault: Fault): string {
  const where = fault.node === undefined ? '' : ` node ${fault.node}`;
  return `#${fault.number} ${fault.kind}${where} for ${(fault.holdMs / 1000).toFixed(1)} s`;
}

/** Parses `node-kill,relay-stall` (a CLI flag) into kinds; throws on an unknown name. */
export function parseFaultKinds(list: string): FaultKind[] {
  return list.split(',').map((name) => {
    const kind = FAULT_KINDS.find((k) => k === name.trim());
    if (!kind) throw new Error(`Unknown fault kind "${name}"; known: ${FAULT_KINDS.join(', ')}.`);
    return kind;
  });
}
