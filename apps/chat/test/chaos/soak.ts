/**
 * A chaos soak, Jepsen style: a three-node chat cluster (cluster.ts) under a seeded schedule of
 * faults (fault-schedule.ts, played by faults.ts) while SDK clients chat in ten rooms
 * (chaos-clients.ts); then the faults stop, the clients settle, and the checker (checker.ts)
 * compares the database with every client's history. `npm run chaos` and apps/chat/test/chaos.test.ts
 * both run `runSoak`; the printed seed replays the same faults (`--seed`).
 *
 * Phases: seed accounts → start the cluster → connect every client → faults + traffic for the
 * run's duration → the last fault, with new messages stopped as it strikes → heal
 * everything → wait (bounded) until every client is connected, has nothing left to send and
 * has its room's last seq → check.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { TokenService } from '../../src/auth/tokens.ts';
import { openStorage } from '../../src/storage/open-storage.ts';
import { ChaosClient, type ClientAccount } from './chaos-clients.ts';
import { check, formatViolation, readRoomHeads, readStore, type Violation } from './checker.ts';
import { ChaosCluster } from './cluster.ts';
import { FAULT_KINDS, type FaultKind, FaultSchedule } from './fault-schedule.ts';
import { FaultInjector } from './faults.ts';
import {
  DEFAULT_MEMORY_BOUND,
  type MemoryBound,
  MemoryMonitor,
  mb,
  memoryProblems,
  processesJudgedForGrowth,
} from './memory-monitor.ts';
import { SeededRandom } from './seeded-random.ts';

export interface SoakOptions {
  seed: number;
  /** How long faults and traffic go on (the setup and the settling come on top). */
  durationMs: number;
  clients: number;
  rooms: number;
  nodes: number;
  /** Mean time between two messages of one client. */
  meanSendIntervalMs: number;
  /** Longest wait for the clients to settle once the faults stop. */
  settleTimeoutMs: number;
  faultKinds: readonly FaultKind[];
  memory: MemoryBound;
  log: (line: string) => void;
}

export const DEFAULT_SOAK: Omit<SoakOptions, 'seed' | 'log'> = {
  durationMs: 3 * 60_000,
  clients: 300,
  rooms: 10,
  nodes: 3,
  meanSendIntervalMs: 8_000,
  settleTimeoutMs: 60_000,
  faultKinds: FAULT_KINDS,
  memory: DEFAULT_MEMORY_BOUND,
};

export interface SoakReport {
  seed: number;
  clients: number;
  rooms: number;
  /** Seconds of faults and traffic, and of the whole run including setup and settling. */
  faultSeconds: number;
  totalSeconds: number;
  settleSeconds: number;
  faults: Record<FaultKind, number>;
  /** Distinct messages the clients sent, of them acked at least once, and rows stored. */
  sent: number;
  acked: number;
  /** Acks that said "already stored" (a resend whose first ack was lost). */
  duplicateAcks: number;
  stored: number;
  /** SDK rejections seen by the application (timeouts, "try later"), and the reconnects. */
  rejections: number;
  reconnects: number;
  peakRssBytes: number[];
  /** Node processes that lived long enough for the memory growth check (others: the limit only). */
  processesJudgedForGrowth: number;
  violations: Violation[];
  /** The command that replays this run's fault schedule. */
  replay: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const startedAt = performance.now();
  const clock = () => (performance.now() - startedAt) / 1000;
  const log = options.log;
  const random = new SeededRandom(options.seed);
  const runId = randomBytes(3).toString('hex');
  const jwtSecret = randomBytes(32).toString('base64url');
  const replay = replayCommand(options);
  log(
    `chaos soak: seed ${options.seed}, ${options.clients} clients in ${options.rooms} rooms, ${options.nodes} nodes`,
  );
  log(`replay with: ${replay}`);

  let accounts: ClientAccount[] = [];
  const cluster = await ChaosCluster.start(
    { nodes: options.nodes, runId, jwtSecret, log },
    async (databaseUrl) => {
      accounts = await seedAccounts(databaseUrl, options, jwtSecret);
    },
  );
  const clients = accounts.map(
    (account) =>
      new ChaosClient(
        account,
        cluster.relayUrls,
        random.fork(account.name),
        { meanSendIntervalMs: options.meanSendIntervalMs, maxQueued: 50 },
        clock,
      ),
  );
  const injector = new FaultInjector(cluster, clock, log);
  const memory = new MemoryMonitor(cluster, clock);
  try {
    for (const client of clients) client.connect();
    await waitFor('every client connected', 60_000, () => clients.every((c) => c.status === 'open'));
    log(`[${clock().toFixed(1)} s] cluster up, ${clients.length} clients connected`);

    // Faults and traffic.
    memory.start();
    const faultsFrom = clock();
    const faultsUntil = faultsFrom + options.durationMs / 1000;
    for (const client of clients) client.startSending();
    const schedule = new FaultSchedule(random.fork('faults'), options.nodes, options.faultKinds);
    const stopSending = () => {
      for (const client of clients) client.stopSending();
    };
    for (let last = false; !last; ) {
      const fault = schedule.next();
      last = clock() + (fault.gapMs + fault.holdMs) / 1000 >= faultsUntil;
      await sleep(fault.gapMs);
      // The last fault strikes live traffic and the clients stop writing new messages as it
      // strikes: what it broke must be mended by the system itself, since no later message will
      // reveal a gap (as in a room that goes quiet).
      await injector.play(fault, last ? stopSending : undefined);
    }
    const faultSeconds = clock() - faultsFrom;

    // Settle.
    stopSending();
    await cluster.healAll();
    injector.note('faults over, sending stopped: settling');
    const settleFrom = clock();
    const settled = await settle(clients, cluster.database.url, options.settleTimeoutMs, (line) =>
      log(`[${clock().toFixed(1)} s] ${line}`),
    );
    const settleSeconds = clock() - settleFrom;
    injector.note(settled ? 'settled' : 'settle timed out: checking what there is');
    memory.stop();

    // Check.
    const store = await readStore(cluster.database.url);
    const violations = check({
      store,
      clients,
      timeline: injector.timeline,
      memory: memoryProblems(memory.samples, options.memory),
    });
    const sent = clients.flatMap((c) => [...c.sent.values()]);
    return {
      seed: options.seed,
      clients: clients.length,
      rooms: options.rooms,
      faultSeconds,
      totalSeconds: clock(),
      settleSeconds,
      faults: injector.counts,
      sent: sent.length,
      acked: sent.filter((m) => m.acks.length > 0).length,
      duplicateAcks: sent.reduce((n, m) => n + m.acks.filter((ack) => ack.duplicate).length, 0),
      stored: [...store.values()].reduce((n, room) => n + room.messages.length, 0),
      rejections: sent.reduce((n, m) => n + m.rejections.length, 0),
      reconnects: clients.reduce((n, c) => n + c.reconnects, 0),
      peakRssBytes: memory.peaks(),
      processesJudgedForGrowth: processesJudgedForGrowth(memory.samples),
      violations,
      replay,
    };
  } finally {
    memory.stop();
    for (const client of clients) client.close();
    await cluster.stop();
  }
}

/** `npm run chaos -- …` with every option that differs from the defaults: the same faults again. */
function replayCommand(options: SoakOptions): string {
  const flags = [
    `--seed ${options.seed}`,
    `--minutes ${options.durationMs / 60_000}`,
    `--clients ${options.clients}`,
  ];
  if (options.rooms !== DEFAULT_SOAK.rooms) flags.push(`--rooms ${options.rooms}`);
  if (options.meanSendIntervalMs !== DEFAULT_SOAK.meanSendIntervalMs) {
    flags.push(`--send-interval-ms ${options.meanSendIntervalMs}`);
  }
  if (options.faultKinds.join() !== DEFAULT_SOAK.faultKinds.join())
    flags.push(`--faults ${options.faultKinds.join(',')}`);
  return `npm run chaos -- ${flags.join(' ')}`;
}

/**
 * Users and rooms written straight through the storage module (password hashing is slow on
 * purpose and not what a soak is about), and a token per user that outlives the run.
 */
async function seedAccounts(
  databaseUrl: string,
  options: SoakOptions,
  jwtSecret: string,
): Promise<ClientAccount[]> {
  const storage = await openStorage({ databaseUrl, dataDir: tmpdir() });
  try {
    await storage.migrate();
    const tokens = new TokenService(new TextEncoder().encode(jwtSecret), {
      accessTtlSeconds: Math.ceil(options.durationMs / 1000) + 3_600,
    });
    const roomIds: number[] = [];
    const accounts: ClientAccount[] = [];
    for (let i = 0; i < options.clients; i++) {
      const name = `c${i}`;
      const user = await storage.createUser(name, 'not-a-password-hash: soak users never sign in');
      const roomIndex = i % options.rooms;
      const slug = `chaos-room-${roomIndex}`;
      if (roomIds[roomIndex] === undefined) {
        const room = await storage.createRoom({
          slug,
          name: slug,
          isPrivate: false,
          isDirect: false,
          hostId: user.id,
        });
        roomIds[roomIndex] = room.id;
      }
      await storage.addMember(roomIds[roomIndex]!, user.id);
      accounts.push({
        name,
        userId: user.id,
        room: slug,
        token: (await tokens.issue(user)).access,
        home: i % options.nodes,
      });
    }
    return accounts;
  } finally {
    await storage.close();
  }
}

/** Waits until every client is settled and has its room's last seq; false if the time ran out. */
async function settle(
  clients: ChaosClient[],
  databaseUrl: string,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  let lastReport = 0;
  for (;;) {
    const heads = await readRoomHeads(databaseUrl);
    const behind = clients.filter(
      (c) => !c.settled || (c.received.at(-1)?.seq ?? 0) !== (heads.get(c.account.room) ?? 0),
    );
    if (behind.length === 0) return true;
    if (performance.now() > deadline) return false;
    if (performance.now() - lastReport > 5_000) {
      lastReport = performance.now();
      const sample = behind.slice(0, 5).map((c) => `${c.name} ${c.status} at ${c.received.at(-1)?.seq ?? 0}`);
      log(`settling: ${behind.length} clients not there yet (${sample.join(', ')}…)`);
    }
    await sleep(500);
  }
}

async function waitFor(what: string, timeoutMs: number, done: () => boolean): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

/** The report as printed at the end of a run; violations with their histories. */
export function formatReport(report: SoakReport, maxViolations = 20): string {
  const faults = Object.entries(report.faults)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  const total = Object.values(report.faults).reduce((a, b) => a + b, 0);
  const lines = [
    `chaos soak, seed ${report.seed}: ${report.clients} clients, ${report.rooms} rooms`,
    `  duration: ${report.faultSeconds.toFixed(0)} s of faults and traffic, settled in ${report.settleSeconds.toFixed(1)} s, ${report.totalSeconds.toFixed(0)} s in all`,
    `  faults: ${total} (${faults})`,
    `  messages: ${report.sent} sent, ${report.acked} acked (${report.duplicateAcks} acks of resends as duplicates), ${report.stored} stored`,
    `  clients: ${report.rejections} SDK rejections seen by the app (ack timeouts, "try later"), ${report.reconnects} reconnects`,
    `  peak RSS per node: ${report.peakRssBytes.map(mb).join(', ')}; ${report.processesJudgedForGrowth} node processes lived long enough to judge their growth`,
    `  violations: ${report.violations.length}`,
  ];
  for (const violation of report.violations.slice(0, maxViolations)) {
    const shown = { ...violation, history: violation.history.slice(-80) };
    lines.push(formatViolation(shown));
  }
  if (report.violations.length > maxViolations) {
    lines.push(`  … and ${report.violations.length - maxViolations} more violations`);
  }
  if (report.violations.length > 0) lines.push(`  replay: ${report.replay}`);
  return lines.join('\n');
}
