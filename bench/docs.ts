/**
 * Collaborative documents (`npm run bench -- docs`):
 *
 * 1. editing: 50 stock y-websocket providers in one document, each inserting a small marker at a
 *    fixed rate; server CPU (from /proc, the server in its own process) per delivered update and
 *    editor→editor latency p50/p99, for this server (SQLite, store-then-broadcast) and for
 *    y-websocket@1.5.4's bin/server.js (in memory, no durability) under the same load.
 * 2. cold load: a document of 100,000 small stored updates, time to answer a sync step 1
 *    (load + `Y.diffUpdate`) before and after compaction, and stored bytes per update.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { openSqliteStorage } from '../apps/chat/src/storage/open-storage.ts';
import { type ChatNodeEnv, startChatNode } from '../apps/chat/test/support/chat-node.ts';

const EDITORS = 50;
const INSERTS_PER_SECOND = 1;
const SECONDS = 8;
/**
 * Stored updates of the cold-load case. 20,000 by default: one `Y.mergeUpdates` over 20,000
 * separate single-character updates took 10.1 s here (compacted: 14 ms), and 100,000 did not finish
 * within 3 minutes — it grows faster than linearly, which is why the server compacts every 500.
 * BENCH_DOCS_COLD_UPDATES=100000 for the full case (beyond run.ts's 120 s per module).
 */
const COLD_UPDATES = Number(process.env.BENCH_DOCS_COLD_UPDATES ?? 20_000);
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** utime + stime of a process, in seconds (Linux /proc; clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;

interface EditingResult {
  cpuMicrosPerDelivery: number;
  p50: number;
  p99: number;
  delivered: number;
  expected: number;
}

/** Runs the editing load against `url(i)` (the provider's server URL and room for editor i). */
async function editingLoad(
  pid: number,
  connect: (i: number, doc: Y.Doc) => WebsocketProvider,
): Promise<EditingResult> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const docs = Array.from({ length: EDITORS }, () => new Y.Doc());
  const providers = docs.map((doc, i) => connect(i, doc));
  await Promise.all(providers.map((p) => (p.synced ? undefined : new Promise((r) => p.once('synced', r)))));
  for (const [i, doc] of docs.entries()) {
    doc.getText('content').observe((event, transaction) => {
      if (transaction.local) return;
      for (const op of event.delta) {
        if (typeof op.insert !== 'string') continue;
        for (const marker of op.insert.match(/<\d+:\d+>/g) ?? []) {
          const at = sentAt.get(marker);
          if (at !== undefined && !marker.startsWith(`<${i}:`)) latencies.push(performance.now() - at);
        }
      }
    });
  }
  const cpuBefore = cpuSeconds(pid);
  let sent = 0;
  const timers = docs.map((doc, i) => {
    let n = 0;
    return setInterval(() => {
      const marker = `<${i}:${n++}>`;
      sentAt.set(marker, performance.now());
      sent++;
      const text = doc.getText('content');
      text.insert(Math.floor(Math.random() * (text.length + 1)), marker);
    }, 1000 / INSERTS_PER_SECOND);
  });
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  for (const timer of timers) clearInterval(timer);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const cpu = cpuSeconds(pid) - cpuBefore;
  for (const p of providers) p.destroy();
  latencies.sort((a, b) => a - b);
  return {
    cpuMicrosPerDelivery: (cpu * 1e6) / Math.max(1, latencies.length),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    delivered: latencies.length,
    expected: sent * (EDITORS - 1),
  };
}

async function benchSwitchboard(): Promise<EditingResult> {
  const node = await startChatNode('bench-docs', {
    JWT_SECRET: 'bench-docs-'.padEnd(48, 'x'),
    WS_RATE_LIMIT: '100000',
    AUTH_RATE_LIMIT: '1000',
  } as unknown as ChatNodeEnv);
  try {
    const users: Awaited<ReturnType<typeof node.api.signUp>>[] = [];
    for (let i = 0; i < 10; i++) users.push(await node.api.signUp(`ed${i}`));
    const slug = await node.api.createRoom(users[0]!);
    for (const user of users.slice(1)) await node.api.join(user, slug);
    const base = `${node.url.replace(/^http/, 'ws')}/ws/docs/${slug}`;
    return await editingLoad(
      node.process.pid,
      (i, doc) =>
        new WebsocketProvider(base, 'bench', doc, {
          params: { token: users[i % users.length]!.access },
          // biome-ignore lint/suspicious/noExplicitAny: ws as the provider's WebSocket
          WebSocketPolyfill: WebSocket as any,
          disableBc: true,
        }),
    );
  } finally {
    await node.kill();
  }
}

async function benchYWebsocket(): Promise<EditingResult> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, ['node_modules/y-websocket/bin/server.js'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) =>
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('running') && resolve()),
  );
  try {
    return await editingLoad(
      child.pid!,
      (_i, doc) =>
        new WebsocketProvider(`ws://127.0.0.1:${port}`, 'bench', doc, {
          // biome-ignore lint/suspicious/noExplicitAny: ws as the provider's WebSocket
          WebSocketPolyfill: WebSocket as any,
          disableBc: true,
        }),
    );
  } finally {
    child.kill('SIGKILL');
  }
}

export async function benchColdLoad(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-docs-'));
  const storage = await openSqliteStorage(join(dir, 'bench.sqlite'));
  try {
    await storage.migrate();
    const user = await storage.createUser('bench', 'x');
    const room = await storage.createRoom({
      slug: 'bench',
      name: 'bench',
      isPrivate: false,
      isDirect: false,
      hostId: user.id,
    });
    const record = await storage.documents.findOrCreate(room.id, 'cold');
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (update: Uint8Array) => updates.push(update));
    const text = doc.getText('content');
    for (let i = 0; i < COLD_UPDATES; i++) text.insert(Math.floor(Math.random() * (text.length + 1)), 'x');
    // In waves below group commit's bound on waiting writes.
    for (let i = 0; i < updates.length; i += 10_000) {
      await Promise.all(
        updates.slice(i, i + 10_000).map((data) => storage.documents.append({ documentId: record.id, data })),
      );
    }
    const [stored] = await storage.documents.list(room.id);
    const step1 = async () => {
      const started = performance.now();
      const merged = await storage.documents.load(record.id);
      Y.diffUpdate(merged, new Uint8Array([0]));
      return performance.now() - started;
    };
    console.error(`cold load: ${COLD_UPDATES} updates stored`);
    const before = await step1();
    const compactStarted = performance.now();
    await storage.documents.compact(record.id);
    const compactMs = performance.now() - compactStarted;
    const after = await step1();
    const [compacted] = await storage.documents.list(room.id);
    return {
      [`cold load ${COLD_UPDATES} updates: sync step 2 ms (uncompacted)`]: before,
      [`cold load ${COLD_UPDATES} updates: sync step 2 ms (compacted)`]: after,
      [`compaction of ${COLD_UPDATES} updates ms`]: compactMs,
      'stored bytes per update (uncompacted)': stored!.sizeBytes / COLD_UPDATES,
      'stored bytes per update (compacted)': compacted!.sizeBytes / COLD_UPDATES,
    };
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchDocs(): Promise<Record<string, number>> {
  const ours = await benchSwitchboard();
  console.error('switchboard', ours);
  const reference = await benchYWebsocket();
  console.error('y-websocket', reference);
  const figures: Record<string, number> = {
    'switchboard: server CPU µs per delivered update': ours.cpuMicrosPerDelivery,
    'switchboard: editor→editor p50 ms': ours.p50,
    'switchboard: editor→editor p99 ms': ours.p99,
    'switchboard: delivered / expected %': (100 * ours.delivered) / ours.expected,
    'y-websocket 1.5.4: server CPU µs per delivered update': reference.cpuMicrosPerDelivery,
    'y-websocket 1.5.4: editor→editor p50 ms': reference.p50,
    'y-websocket 1.5.4: editor→editor p99 ms': reference.p99,
    'y-websocket 1.5.4: delivered / expected %': (100 * reference.delivered) / reference.expected,
    'CPU per delivery, switchboard / y-websocket': ours.cpuMicrosPerDelivery / reference.cpuMicrosPerDelivery,
  };
  return { ...figures, ...(await benchColdLoad()) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await benchDocs();
  for (const [name, value] of Object.entries(figures)) console.log(`${name}: ${value.toFixed(2)}`);
  process.exit(0);
}
