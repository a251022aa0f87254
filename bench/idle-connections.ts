/**
 * Idle connections: server RSS per open connection at 10,000 connections, for the bare `ws`
 * server and for Switchboard (authenticated with a JWT, a member of a room group). RSS is read in
 * the server child after a full GC, before and after the clients connect.
 */
import { BENCH_ROOM } from './lib/chat-frame.ts';
import { closeClients, openClients } from './lib/clients.ts';
import type { FigureSink } from './lib/report.ts';
import { ServerProcess, type ServerUsage } from './lib/server-process.ts';
import { benchSecret, signTokens } from './lib/tokens.ts';

const CONNECTIONS = 10_000;
const CONNECT_CONCURRENCY = 200;
/** Lets buffers from the handshakes be released before the heap is measured. */
const SETTLE_MS = 1000;
const GOAL_RATIO = 1.5;

interface IdleFootprint {
  rssPerConnection: number;
  heapPerConnection: number;
  connectSeconds: number;
}

async function settledUsage(server: ServerProcess): Promise<ServerUsage> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  await server.collectGarbage();
  return server.usage();
}

async function measure(kind: 'bare-ws' | 'switchboard'): Promise<IdleFootprint> {
  const jwtSecret = benchSecret();
  const server =
    kind === 'bare-ws'
      ? await ServerProcess.start('bare-ws', {})
      : await ServerProcess.start('switchboard-room', { jwtSecret });
  let clients: Awaited<ReturnType<typeof openClients>> = [];
  try {
    const base = `ws://127.0.0.1:${server.port}`;
    const tokens = kind === 'switchboard' ? await signTokens(jwtSecret, CONNECTIONS) : [];
    const urlOf =
      kind === 'bare-ws'
        ? () => `${base}/`
        : (i: number) => `${base}/ws/room/${BENCH_ROOM}/?token=${tokens[i]}`;
    // One connection first, so that lazily loaded code and first-use allocations are in the baseline.
    closeClients(await openClients(1, urlOf));
    const before = await settledUsage(server);
    const started = performance.now();
    clients = await openClients(CONNECTIONS, urlOf, { concurrency: CONNECT_CONCURRENCY });
    const connectSeconds = (performance.now() - started) / 1000;
    const after = await settledUsage(server);
    return {
      rssPerConnection: (after.rssBytes - before.rssBytes) / CONNECTIONS,
      heapPerConnection: (after.heapUsedBytes - before.heapUsedBytes) / CONNECTIONS,
      connectSeconds,
    };
  } finally {
    closeClients(clients);
    await server.stop();
  }
}

export async function benchIdleConnections(sink: FigureSink): Promise<void> {
  const KiB = 1024;
  const bare = await measure('bare-ws');
  sink.add(
    `server RSS per idle connection at ${CONNECTIONS} (bare ws)`,
    bare.rssPerConnection / KiB,
    'KiB',
    undefined,
    `JS heap ${(bare.heapPerConnection / KiB).toFixed(1)} KiB; connected in ${bare.connectSeconds.toFixed(1)} s`,
  );
  const framework = await measure('switchboard');
  sink.add(
    `server RSS per idle connection at ${CONNECTIONS} (switchboard)`,
    framework.rssPerConnection / KiB,
    'KiB',
    bare.rssPerConnection / KiB,
    `authenticated, in a room group; JS heap ${(framework.heapPerConnection / KiB).toFixed(1)} KiB; ` +
      `connected in ${framework.connectSeconds.toFixed(1)} s; goal <= ${GOAL_RATIO}x`,
  );
}
