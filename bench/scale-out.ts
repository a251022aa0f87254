/**
 * Scale-out: Switchboard as two node processes sharing one Redis (and, for chat, one PostgreSQL),
 * under the same loads as the single-node cases, measured beside the single-node in-memory figure
 * in the same run.
 *
 * - fan-out: one room, 1,000 subscribers split across two `switchboard-room` nodes on a Redis
 *   channel layer (and Redis rate limiter), publishers on both nodes at max rate with a bounded
 *   window for 10 s, then at half the single node's max rate: deliveries/s and p50/p99 latency.
 * - persisted chat on PostgreSQL: two real chat nodes (`apps/chat/src/main.ts`) on a fresh
 *   database, a 100-member room split across them: acked `chat_message`/s.
 * - Redis commands per broadcast, from INFO commandstats of a private redis-server that nothing
 *   else uses (so the count is exact): what one broadcast costs in Redis, whatever the room size.
 *
 * Loopback only; every count and phase is bounded; the database is dropped and every process
 * stopped at the end, also on failure.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { TokenService } from '@switchboard/chat/src/auth/tokens.ts';
import { openStorage } from '@switchboard/chat/src/storage/open-storage.ts';
import { type ChatNode, startChatNode } from '@switchboard/chat/test/support/chat-node.ts';
import { freshDatabase } from '@switchboard/chat/test/support/services.ts';
import { RedisServerProcess, redisServerInstalled } from '@switchboard/redis/testing';
import { Redis } from 'ioredis';
import type WebSocket from 'ws';
import { BENCH_ROOM } from './lib/chat-frame.ts';
import { ChatRoomLoad } from './lib/chat-room-load.ts';
import { closeClients, openClients } from './lib/clients.ts';
import { FanOutLoad, type PhaseResult } from './lib/fan-out-load.ts';
import { openFanOutRoom } from './lib/fan-out-room.ts';
import { CHAT_LOAD, FAN_OUT_LOAD } from './lib/loads.ts';
import { ServerProcess } from './lib/server-process.ts';
import { benchSecret, signTokens } from './lib/tokens.ts';

const NODES = 2;

export async function benchScaleOut(): Promise<Record<string, number>> {
  if (!redisServerInstalled()) throw new Error('the scale-out bench runs a private redis-server: install it');
  // Everything here shares the machine's cores: a busy machine skews the figures, so say how busy.
  const figures: Record<string, number> = { 'machine load average (1 min) at start': loadavg()[0]! };
  const redis = await RedisServerProcess.start();
  try {
    await fanOut(redis.url, figures);
    await persistedChatOnPostgres(redis.url, figures);
  } finally {
    await redis.kill();
  }
  return figures;
}

// --- fan-out ------------------------------------------------------------------------------------

interface FanOutRun {
  /** Every message published in all phases (warm-up included), for per-broadcast counts. */
  published: number;
  max: PhaseResult;
  maxCpuCores: number;
  half: PhaseResult;
}

async function fanOut(redisUrl: string, figures: Record<string, number>): Promise<void> {
  const single = await openFanOutRoom('switchboard', {
    subscribers: FAN_OUT_LOAD.subscribers,
    publishers: FAN_OUT_LOAD.publishers,
  });
  let reference: FanOutRun;
  try {
    reference = await loadFanOut(single.load, [single.server]);
  } finally {
    await single.close();
  }
  const halfRate = reference.max.publishesPerSecond / 2;
  // Run again at the same half-load rate, so the latencies compare at one load.
  const crossNode = await openCrossNodeRoom(redisUrl);
  let scaled: FanOutRun;
  let commands: CommandCounts;
  try {
    const before = await crossNode.commandStats();
    scaled = await loadFanOut(crossNode.load, crossNode.servers, halfRate);
    commands = countsSince(before, await crossNode.commandStats());
  } finally {
    await crossNode.close();
  }

  figures['fan-out deliveries/s, 1 node in-memory'] = reference.max.deliveriesPerSecond;
  figures['fan-out deliveries/s, 2 nodes + Redis'] = scaled.max.deliveriesPerSecond;
  figures['fan-out 2 nodes / 1 node deliveries ratio (goal >= 0.6)'] =
    scaled.max.deliveriesPerSecond / reference.max.deliveriesPerSecond;
  figures['fan-out server CPU cores, 1 node'] = reference.maxCpuCores;
  figures['fan-out server CPU cores, 2 nodes together'] = scaled.maxCpuCores;
  figures['fan-out p50 ms at max rate, 1 node'] = reference.max.p50Ms;
  figures['fan-out p99 ms at max rate, 1 node'] = reference.max.p99Ms;
  figures['fan-out p50 ms at max rate, 2 nodes'] = scaled.max.p50Ms;
  figures['fan-out p99 ms at max rate, 2 nodes'] = scaled.max.p99Ms;
  figures['fan-out half-load deliveries/s (both)'] = scaled.half.deliveriesPerSecond;
  figures['fan-out p50 ms at half load, 1 node'] = reference.half.p50Ms;
  figures['fan-out p99 ms at half load, 1 node'] = reference.half.p99Ms;
  figures['fan-out p50 ms at half load, 2 nodes'] = scaled.half.p50Ms;
  figures['fan-out p99 ms at half load, 2 nodes'] = scaled.half.p99Ms;
  figures['fan-out p99 ms added by the second node at half load (goal <= 5)'] =
    scaled.half.p99Ms - reference.half.p99Ms;
  figures['fan-out subscribers lost, 2 nodes'] = scaled.max.subscribersLost + scaled.half.subscribersLost;
  const perBroadcast = (count: number | undefined) => (count ?? 0) / scaled.published;
  figures['redis PUBLISH per broadcast'] = perBroadcast(commands.publish);
  figures['redis EVALSHA per broadcast (rate limiter)'] = perBroadcast(commands.evalsha);
  figures['redis commands sent per broadcast, all kinds'] = perBroadcast(commands.sent);
  figures['redis commands run per broadcast, incl. inside the limiter script'] = perBroadcast(commands.total);
}

/** Warm-up, then max rate (with server CPU), then a paced phase at `halfRate` (default: half of max). */
async function loadFanOut(load: FanOutLoad, servers: ServerProcess[], halfRate?: number): Promise<FanOutRun> {
  const warmUp = await load.runAtMaxRate(FAN_OUT_LOAD.warmUpSeconds, FAN_OUT_LOAD.window);
  await load.drain();
  const cpuBefore = await cpuSecondsOf(servers);
  const max = await load.runAtMaxRate(FAN_OUT_LOAD.maxRateSeconds, FAN_OUT_LOAD.window);
  const maxCpuCores = ((await cpuSecondsOf(servers)) - cpuBefore) / max.seconds;
  await load.drain();
  const half = await load.runAtRate(halfRate ?? max.publishesPerSecond / 2, FAN_OUT_LOAD.halfLoadSeconds);
  await load.drain();
  return { published: warmUp.published + max.published + half.published, max, maxCpuCores, half };
}

async function cpuSecondsOf(servers: ServerProcess[]): Promise<number> {
  const usages = await Promise.all(servers.map((server) => server.usage()));
  return usages.reduce((sum, usage) => sum + usage.cpuSeconds, 0);
}

/** Two framework nodes on one Redis; subscribers and publishers alternate between them. */
async function openCrossNodeRoom(redisUrl: string) {
  const jwtSecret = benchSecret();
  const redis = { url: redisUrl, prefix: `sbbench:${randomBytes(4).toString('hex')}:` };
  const servers = await Promise.all(
    Array.from({ length: NODES }, () => ServerProcess.start('switchboard-room', { jwtSecret, redis })),
  );
  const stats = new Redis(redisUrl);
  let clients: WebSocket[] = [];
  try {
    const tokens = await signTokens(jwtSecret, FAN_OUT_LOAD.subscribers + FAN_OUT_LOAD.publishers);
    const urlOf = (index: number, token: string, listen: boolean) =>
      `ws://127.0.0.1:${servers[index % NODES]!.port}/ws/room/${BENCH_ROOM}/?token=${token}${listen ? '' : '&listen=0'}`;
    const subscribers = await openClients(FAN_OUT_LOAD.subscribers, (i) => urlOf(i, tokens[i]!, true));
    clients = subscribers;
    const publishers = await openClients(FAN_OUT_LOAD.publishers, (i) =>
      urlOf(i, tokens[FAN_OUT_LOAD.subscribers + i]!, false),
    );
    clients = [...subscribers, ...publishers];
    const load = new FanOutLoad(subscribers, publishers);
    return {
      servers,
      load,
      commandStats: () => commandStats(stats),
      close: async () => {
        load.close();
        stats.disconnect();
        await Promise.all(servers.map((server) => server.stop()));
      },
    };
  } catch (error) {
    closeClients(clients);
    stats.disconnect();
    await Promise.all(servers.map((server) => server.stop()));
    throw error;
  }
}

// --- Redis command counts -------------------------------------------------------------------------

/**
 * Calls per command name (lower case); `total` is every command Redis ran, `sent` only those a
 * client sent (commandstats also counts the commands a Lua script runs: the rate limiter's).
 */
type CommandCounts = Record<string, number> & { total: number; sent: number };

/** What the rate limiter's script runs inside one EVALSHA (see packages/redis/src/rate-limiter.ts). */
const LIMITER_SCRIPT_COMMANDS = new Set(['time', 'zremrangebyscore', 'zcard', 'zadd', 'pexpire', 'zrange']);

async function commandStats(redis: Redis): Promise<Record<string, number>> {
  const text = await redis.info('commandstats');
  const calls: Record<string, number> = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2]);
  return calls;
}

/** Commands run between two snapshots, leaving out the INFO calls that took them. */
function countsSince(before: Record<string, number>, after: Record<string, number>): CommandCounts {
  const counts: CommandCounts = { total: 0, sent: 0 };
  for (const [name, calls] of Object.entries(after)) {
    if (name === 'info') continue;
    const delta = calls - (before[name] ?? 0);
    if (delta === 0) continue;
    counts[name] = delta;
    counts.total += delta;
    if (!LIMITER_SCRIPT_COMMANDS.has(name)) counts.sent += delta;
  }
  return counts;
}

// --- persisted chat on PostgreSQL -----------------------------------------------------------------

async function persistedChatOnPostgres(redisUrl: string, figures: Record<string, number>): Promise<void> {
  const database = await freshDatabase('sb_bench');
  const nodes: ChatNode[] = [];
  let members: WebSocket[] = [];
  let load: ChatRoomLoad | undefined;
  const stats = new Redis(redisUrl);
  try {
    const jwtSecret = benchSecret();
    const { slug, tokens } = await seedRoom(database.url, jwtSecret);
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: `sbbench:${randomBytes(4).toString('hex')}:`,
      JWT_SECRET: jwtSecret,
      WS_RATE_LIMIT: '100000',
      WS_RATE_WINDOW_SECONDS: '1',
    };
    nodes.push(...(await Promise.all(['bench-a', 'bench-b'].map((name) => startChatNode(name, env)))));
    members = await openClients(
      CHAT_LOAD.members,
      (i) => `${nodes[i % NODES]!.url.replace(/^http/, 'ws')}/ws/chat/${slug}/?token=${tokens[i]}`,
    );
    load = new ChatRoomLoad(members, CHAT_LOAD.window);
    await load.run(CHAT_LOAD.warmUpSeconds);
    await load.drain();

    const pids = nodes.map((node) => node.process.pid);
    const cpuBefore = processCpuSeconds(pids);
    const statsBefore = await commandStats(stats);
    const run = await load.run(CHAT_LOAD.measureSeconds);
    const cpuCores = (processCpuSeconds(pids) - cpuBefore) / run.seconds;
    await load.drain();
    const commands = countsSince(statsBefore, await commandStats(stats));

    figures['PostgreSQL chat acked messages/s, 100 members on 2 nodes (goal >= 5000)'] = run.ackedPerSecond;
    figures['PostgreSQL chat broadcast deliveries/s'] = run.deliveriesPerSecond;
    figures['PostgreSQL chat ack p50 ms'] = run.ackP50Ms;
    figures['PostgreSQL chat ack p99 ms'] = run.ackP99Ms;
    figures['PostgreSQL chat server CPU cores, 2 nodes together'] = cpuCores;
    figures['PostgreSQL chat error replies'] = run.errors;
    figures['PostgreSQL chat members lost'] = run.membersLost;
    // Approximate: the messages still in flight when the phase ends are published but not counted.
    const perAck = (count: number | undefined) => (count ?? 0) / Math.max(run.acked, 1);
    figures['PostgreSQL chat redis PUBLISH per acked message'] = perAck(commands.publish);
    figures['PostgreSQL chat redis commands sent per acked message'] = perAck(commands.sent);
    if (run.errors > 0) console.error(`[bench] scale-out: first error reply: ${run.firstError}`);
  } finally {
    load?.close();
    closeClients(members);
    stats.disconnect();
    await Promise.all(nodes.map((node) => node.stop()));
    await database.drop();
  }
}

/**
 * One public room with CHAT_LOAD.members users, written straight through the storage module (password
 * hashing is slow on purpose and not what this measures), and an access token per member.
 */
async function seedRoom(databaseUrl: string, jwtSecret: string): Promise<{ slug: string; tokens: string[] }> {
  const storage = await openStorage({ databaseUrl, dataDir: tmpdir() });
  try {
    await storage.migrate();
    const users = [];
    for (let i = 0; i < CHAT_LOAD.members; i++) {
      users.push(await storage.createUser(`bench${i}`, 'not-a-password-hash: bench users never log in'));
    }
    const room = await storage.createRoom({
      slug: 'bench',
      name: 'Bench',
      isPrivate: false,
      isDirect: false,
      hostId: users[0]!.id,
    });
    for (const user of users) await storage.addMember(room.id, user.id);
    const issuer = new TokenService(new TextEncoder().encode(jwtSecret));
    const tokens = await Promise.all(users.map(async (user) => (await issuer.issue(user)).access));
    return { slug: room.slug, tokens };
  } finally {
    await storage.close();
  }
}

/** User + system CPU seconds of processes, from /proc (Linux; clock ticks are 1/100 s there). */
function processCpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100;
}
