/**
 * Several chat nodes as real processes (`node --import tsx apps/chat/src/main.ts`) sharing one
 * Redis and one PostgreSQL database and nothing else. Clients on different nodes chat in one room;
 * every client must end with exactly the stored history: each message once, in seq order, seqs
 * gapless — with concurrent writers on both nodes, with a node SIGKILLed mid-stream (its clients
 * resume on another node with after_seq), and across a Redis outage.
 *
 * Needs Redis at 127.0.0.1:6379 (each run uses its own key prefix), PostgreSQL at 127.0.0.1:5432
 * (each run creates and drops its own database) and the redis-server binary (the outage case runs
 * a private one). Skipped with the reason printed when they are missing, unless CI=true.
 */
import { randomBytes } from 'node:crypto';
import type { ChatMessage } from '@switchboard/protocol';
import { RedisClusterProcess, RedisServerProcess, redisServerInstalled } from '@switchboard/redis/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatApi, ChatUser } from './support/chat-api.ts';
import { type ChatNode, type ChatNodeEnv, startChatNode } from './support/chat-node.ts';
import { type Ack, RoomClient } from './support/room-client.ts';
import { type FreshDatabase, freshDatabase, REDIS_URL, servicesAvailable } from './support/services.ts';

const available = await servicesAvailable('the scale-out suite', ['postgres', 'redis']);
const redisServerPresent = redisServerInstalled();
if (!redisServerPresent) {
  const reason = 'the Redis outage case needs the redis-server binary';
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: not skipping)`);
  console.warn(`\n  SKIPPING ${reason}.\n`);
}

const runId = randomBytes(4).toString('hex');
let database: FreshDatabase;
const nodes: ChatNode[] = [];
const clients: RoomClient[] = [];

/** The environment every node of this run shares; only the Redis URL may differ per group. */
function nodeEnv(redisUrl: string): ChatNodeEnv {
  return {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: `sbtest:${runId}:`,
    JWT_SECRET: `scale-out-test-${runId}`.padEnd(48, 'x'),
    // The writers here send faster than a person; the limit itself is tested elsewhere.
    WS_RATE_LIMIT: '100000',
  };
}

async function startNodes<Names extends string[]>(
  redisUrl: string,
  ...names: Names
): Promise<{ [K in keyof Names]: ChatNode }> {
  const started = await Promise.all(names.map((name) => startChatNode(name, nodeEnv(redisUrl))));
  nodes.push(...started);
  return started as { [K in keyof Names]: ChatNode };
}

const wsBase = (node: ChatNode) => node.url.replace(/^http/, 'ws');

async function openClient(
  name: string,
  user: ChatUser,
  slug: string,
  on: ChatNode[],
  afterSeq?: number,
): Promise<RoomClient> {
  const client = await RoomClient.open({
    name,
    nodes: on.map(wsBase),
    slug,
    token: user.access,
    ...(afterSeq === undefined ? {} : { afterSeq }),
  });
  clients.push(client);
  return client;
}

/** A room owned by the first user with every other one joined. */
async function roomOf(api: ChatApi, users: ChatUser[]): Promise<string> {
  const [owner, ...others] = users;
  const slug = await api.createRoom(owner!);
  for (const user of others) await api.join(user, slug);
  return slug;
}

/** The whole stored history of a room, oldest first, read over REST. */
async function storedHistory(api: ChatApi, user: ChatUser, slug: string): Promise<ChatMessage[]> {
  const newestFirst: ChatMessage[] = [];
  for (let query = 'limit=200'; ; ) {
    const page = await api.history(user, slug, query);
    newestFirst.push(...page.messages);
    if (page.next_before_seq === null) break;
    query = `limit=200&before_seq=${page.next_before_seq}`;
  }
  return newestFirst.reverse();
}

const summary = (messages: ChatMessage[]) => messages.map((m) => [m.seq, m.id, m.content, m.client_id]);

/** Waits until every client has the last stored message, then checks each got exactly the history. */
async function expectEveryoneHasExactly(history: ChatMessage[], everyone: RoomClient[], from = 1) {
  const last = history[history.length - 1]!.seq;
  await Promise.all(everyone.map((client) => client.waitForSeq(last)));
  const expected = summary(history.filter((m) => m.seq >= from));
  for (const client of everyone) {
    expect({ client: client.name, duplicates: client.duplicates, outOfOrder: client.outOfOrder }).toEqual({
      client: client.name,
      duplicates: [],
      outOfOrder: [],
    });
    expect(summary(client.messages), client.name).toEqual(expected);
  }
}

/** Sends `count` messages with at most `window` unacked at a time; resolves with every ack. */
async function sendMany(client: RoomClient, count: number, window: number): Promise<Ack[]> {
  const acks: Ack[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      acks.push(await client.send(`${client.name} #${i}`, `${client.name}-${runId}-${i}`));
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return acks;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

beforeAll(async () => {
  if (available) database = await freshDatabase('sb_test');
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.kill()));
  await database?.drop();
});

describe.skipIf(!available)('two chat nodes on one Redis and one PostgreSQL', () => {
  let a: ChatNode;
  let b: ChatNode;

  beforeAll(async () => {
    // Started together, as a deployment would: both run the migrations against the one database.
    [a, b] = await startNodes(REDIS_URL, 'a', 'b');
  });

  it('clients on different nodes see every message once, in seq order', async () => {
    const [alice, bob, carol] = await Promise.all([
      a.api.signUp('alice'),
      a.api.signUp('bob'),
      b.api.signUp('carol'),
    ]);
    const slug = await roomOf(b.api, [alice!, bob!, carol!]);
    const onA = await openClient('alice@a', alice!, slug, [a]);
    const onB = await openClient('bob@b', bob!, slug, [b]);
    const alsoB = await openClient('carol@b', carol!, slug, [b]);

    const acks: Ack[] = [];
    for (let i = 0; i < 10; i++) {
      acks.push(await onA.send(`from a ${i}`, `alice-${runId}-${i}`));
      acks.push(await onB.send(`from b ${i}`, `bob-${runId}-${i}`));
    }
    expect(acks.map((ack) => ack.seq)).toEqual(range(1, 20));

    const history = await storedHistory(a.api, alice!, slug);
    expect(history.map((m) => m.seq)).toEqual(range(1, 20));
    await expectEveryoneHasExactly(history, [onA, onB, alsoB]);
  });

  it('concurrent writers on both nodes get gapless, unique seqs, delivered in order everywhere', async () => {
    const users = await Promise.all(['w1', 'w2', 'w3', 'w4', 'reader'].map((name) => a.api.signUp(name)));
    const slug = await roomOf(a.api, users);
    const writers = await Promise.all(
      users
        .slice(0, 4)
        .map((user, i) => openClient(`writer${i + 1}@${i % 2 ? 'b' : 'a'}`, user, slug, [i % 2 ? b : a])),
    );
    const readers = await Promise.all([
      openClient('reader@a', users[4]!, slug, [a]),
      openClient('reader@b', users[4]!, slug, [b]),
    ]);

    const acks = (await Promise.all(writers.map((writer) => sendMany(writer, 40, 8)))).flat();
    expect(acks.every((ack) => !ack.duplicate)).toBe(true);
    expect(acks.map((ack) => ack.seq).sort((x, y) => x - y)).toEqual(range(1, 160));

    const history = await storedHistory(b.api, users[0]!, slug);
    expect(history.map((m) => m.seq)).toEqual(range(1, 160));
    await expectEveryoneHasExactly(history, [...writers, ...readers]);
  });

  it('a client_id is stored once across nodes, even when sent to both at once', async () => {
    const [carol, observer] = await Promise.all([a.api.signUp('carol'), b.api.signUp('observer')]);
    const slug = await roomOf(a.api, [carol!, observer!]);
    const carolOnA = await openClient('carol@a', carol!, slug, [a]);
    const carolOnB = await openClient('carol@b', carol!, slug, [b]);
    const watcher = await openClient('observer@a', observer!, slug, [a]);

    const clientId = `offline-${runId}`;
    const [viaA, viaB] = await Promise.all([
      carolOnA.send('sent twice', clientId),
      carolOnB.send('sent twice', clientId),
    ]);
    expect(viaA.message_id).toBe(viaB.message_id);
    expect(viaA.seq).toBe(viaB.seq);
    expect([viaA.duplicate, viaB.duplicate].sort()).toEqual([false, true]);

    const again = await carolOnB.send('sent twice', clientId);
    expect(again).toMatchObject({ message_id: viaA.message_id, seq: viaA.seq, duplicate: true });
    await carolOnA.send('next', `next-${runId}`);

    const history = await storedHistory(a.api, carol!, slug);
    expect(history.map((m) => [m.seq, m.content])).toEqual([
      [1, 'sent twice'],
      [2, 'next'],
    ]);
    await expectEveryoneHasExactly(history, [carolOnA, carolOnB, watcher]);
  });

  it('a node SIGKILLed mid-stream: its clients resume on another node and end with the stored history', async () => {
    const [victim] = await startNodes(REDIS_URL, 'victim');
    const users = await Promise.all(
      ['steady', 'doomed', 'watcher-a', 'watcher-v'].map((n) => a.api.signUp(n)),
    );
    const slug = await roomOf(a.api, users);
    // Clients of the victim fail over to node a, as a load balancer would send them.
    const steadyWriter = await openClient('steady@b', users[0]!, slug, [b]);
    const doomedWriter = await openClient('doomed@victim', users[1]!, slug, [victim, a]);
    const watcherA = await openClient('watcher@a', users[2]!, slug, [a]);
    const watcherV = await openClient('watcher@victim', users[3]!, slug, [victim, a]);

    const writing = Promise.all([sendMany(steadyWriter, 60, 4), sendMany(doomedWriter, 60, 4)]);
    await watcherV.waitForSeq(30);
    await victim.kill();
    const acks = (await writing).flat();

    expect(doomedWriter.reconnects).toBe(1);
    expect(watcherV.reconnects).toBe(1);
    expect(doomedWriter.node).toBe(1);

    // Every message was stored exactly once, whether its first attempt died with the node or not.
    const history = await storedHistory(a.api, users[0]!, slug);
    expect(history.map((m) => m.seq)).toEqual(range(1, 120));
    expect(new Set(history.map((m) => m.client_id)).size).toBe(120);
    expect(new Set(acks.map((ack) => ack.message_id))).toEqual(new Set(history.map((m) => m.id)));
    await expectEveryoneHasExactly(history, [steadyWriter, doomedWriter, watcherA, watcherV]);
  });
});

describe.skipIf(!available || !redisServerPresent)('chat nodes through a Redis outage', () => {
  let redis: RedisServerProcess;
  let a: ChatNode;
  let b: ChatNode;

  beforeAll(async () => {
    redis = await RedisServerProcess.start();
    [a, b] = await startNodes(redis.url, 'outage-a', 'outage-b');
  });

  afterAll(async () => {
    await redis?.kill();
  });

  const readyz = async (node: ChatNode) =>
    (await node.get('/readyz')) as { status: number; body: { checks: { layer: boolean } } };
  const metric = async (node: ChatNode, name: string) => {
    const text = String((await node.get('/metrics')).body);
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  };
  const eventually = async (what: string, check: () => Promise<boolean>, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('nodes keep serving and report it; afterwards after_seq resume and live clients lose nothing', async () => {
    const users = await Promise.all(['alice', 'bob', 'dave', 'erin'].map((n) => a.api.signUp(n)));
    const [alice, bob, dave, erin] = users as [ChatUser, ChatUser, ChatUser, ChatUser];
    const slug = await roomOf(a.api, users);
    const aliceOnA = await openClient('alice@a', alice, slug, [a]);
    const bobOnB = await openClient('bob@b', bob, slug, [b]);
    let daveOnB = await openClient('dave@b', dave, slug, [b]);
    await aliceOnA.send('before', `before-${runId}`);
    await Promise.all([bobOnB.waitForSeq(1), daveOnB.waitForSeq(1)]);

    await redis.kill();
    for (const node of [a, b]) {
      await eventually(`${node.name} reports not ready`, async () => (await readyz(node)).status === 503);
      expect((await readyz(node)).body.checks.layer).toBe(false);
      expect(await metric(node, 'channel_layer_redis_connected')).toBe(0);
      await node.process.waitForLine((line) => line.includes('Redis connection lost'));
    }

    // Node a still stores and acks; its own clients still get the messages.
    for (let i = 1; i <= 3; i++) {
      expect(await aliceOnA.send(`during ${i}`, `during-${runId}-${i}`)).toMatchObject({ seq: 1 + i });
    }
    await aliceOnA.waitForSeq(4);
    // Node b still accepts a new client and replays the stored history to it.
    const erinOnB = await openClient('erin@b', erin, slug, [b], 0);
    await erinOnB.waitForSeq(4);

    await redis.restart();
    for (const node of [a, b]) {
      await eventually(`${node.name} reports ready again`, async () => (await readyz(node)).status === 200);
      expect(await metric(node, 'channel_layer_redis_connected')).toBe(1);
      expect(await metric(node, 'channel_layer_redis_reconnects')).toBeGreaterThanOrEqual(1);
      await node.process.waitForLine((line) => line.includes('Redis connection restored'));
    }

    // Bob stayed connected to a now quiet room: his node re-reads it once Redis is back.
    await bobOnB.waitForSeq(4);

    // Dave resumes from the last seq he had: the gap left by the outage is filled from storage.
    const daveHad = daveOnB.lastSeq;
    await daveOnB.close();
    daveOnB = await openClient('dave@b again', dave, slug, [b], daveHad);

    await aliceOnA.send('after', `after-${runId}`);
    const history = await storedHistory(b.api, bob, slug);
    expect(history.map((m) => m.content)).toEqual(['before', 'during 1', 'during 2', 'during 3', 'after']);
    await expectEveryoneHasExactly(history, [aliceOnA, bobOnB, erinOnB]);
    await expectEveryoneHasExactly(history, [daveOnB], daveHad + 1);
  });
});

describe.skipIf(!available || !redisServerPresent)('chat nodes on a Redis Cluster', () => {
  let cluster: RedisClusterProcess;
  let a: ChatNode;
  let b: ChatNode;

  beforeAll(async () => {
    cluster = await RedisClusterProcess.start(3, 1);
    [a, b] = await startNodes(cluster.url, 'cluster-a', 'cluster-b');
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('loses no acked message when the master serving the room fails over; every client ends synced', async () => {
    const users = await Promise.all(['ann', 'ben', 'cid'].map((n) => a.api.signUp(n)));
    const [ann, ben, cid] = users as [ChatUser, ChatUser, ChatUser];
    const slug = await roomOf(a.api, users);
    const annOnA = await openClient('ann@a', ann, slug, [a]);
    const benOnB = await openClient('ben@b', ben, slug, [b]);
    const cidOnB = await openClient('cid@b', cid, slug, [b]);
    for (let i = 0; i < 5; i++) await annOnA.send(`before ${i}`, `c-before-${runId}-${i}`);
    await Promise.all([benOnB.waitForSeq(5), cidOnB.waitForSeq(5)]);

    // The master that carries this room's broadcasts dies; its replica takes over.
    const rooms = (await a.api.call('GET', '/api/rooms/', { token: ann.access })).body.rooms as {
      id: number;
      slug: string;
    }[];
    const roomId = rooms.find((room) => room.slug === slug)!.id;
    const victim = await cluster.masterFor(`sbtest:${runId}:group:room.${roomId}`);
    const failing = cluster.failMaster(victim);
    // Writes go on through the failover: every one is acked from storage.
    for (let i = 0; i < 10; i++) await annOnA.send(`during ${i}`, `c-during-${runId}-${i}`);
    await failing;
    // Both nodes saw it as an outage of the layer, and its end (which re-reads every room).
    for (const node of [a, b]) {
      await node.process.waitForLine((line) => line.includes('channel layer: Redis connection restored'));
    }
    for (let i = 0; i < 5; i++) await annOnA.send(`after ${i}`, `c-after-${runId}-${i}`);

    const history = await storedHistory(b.api, ben, slug);
    expect(history.map((m) => m.seq)).toEqual(range(1, 20));
    await expectEveryoneHasExactly(history, [annOnA, benOnB, cidOnB]);
  }, 90_000);
});
