import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ChatRoomConnection } from '@switchboard/client';
import { build, type Rolldown } from 'vite';
import WebSocket from 'ws';
import { startBenchChatServer } from './lib/bench-chat-server.ts';

const WINDOW = 64;
const WARM_UP_MS = 1_000;
const MEASURE_MS = 5_000;
const SDK_ENTRY = fileURLToPath(new URL('../packages/client/src/index.ts', import.meta.url));

export async function benchClientSdk(): Promise<Record<string, number>> {
  const bundle = await sdkBundleSize();
  const throughput = await ackedSendRate();
  return {
    client_sdk_acked_messages_per_s: throughput.perSecond,
    client_sdk_window: WINDOW,
    client_sdk_bundle_min_bytes: bundle.minified,
    client_sdk_bundle_gzip_bytes: bundle.gzip,
  };
}

/** Sends with at most WINDOW frames awaiting their ack; counts acks during the measured interval. */
async function ackedSendRate(): Promise<{ perSecond: number }> {
  const { server, dataDir } = await startBenchChatServer({
    // The per-connection rate limit protects servers from clients; here the client is the subject.
    WS_RATE_LIMIT: '100000000',
  });
  // The user is made through storage: password hashing is deliberately slow and not measured here.
  const user = await server.storage.createUser('sdk-bench', 'not-a-password-hash: never signs in');
  await server.storage.createRoom({
    slug: 'sdk-bench',
    name: 'SDK bench',
    isPrivate: false,
    isDirect: false,
    hostId: user.id,
  });
  const { access } = await server.tokens.issue(user);
  const room = new ChatRoomConnection({
    server: server.url,
    room: 'sdk-bench',
    afterSeq: 0,
    token: () => access,
    WebSocket,
    outbox: { limit: WINDOW },
  });
  try {
    room.connect();
    await new Promise<void>((resolve, reject) => {
      const stop = room.onStateChange((state) => {
        if (state.status === 'open') resolve();
        if (state.status === 'failed') reject(new Error(`cannot connect: ${state.reason}`));
        if (state.status === 'open' || state.status === 'failed') stop();
      });
    });

    let acked = 0;
    let counting = false;
    let running = true;
    let sent = 0;
    const sender = async () => {
      while (running) {
        await room.sendMessage(`bench message ${sent++}`);
        if (counting) acked += 1;
      }
    };
    const senders = Array.from({ length: WINDOW }, sender);
    await sleep(WARM_UP_MS);
    counting = true;
    const started = performance.now();
    await sleep(MEASURE_MS);
    counting = false;
    const elapsed = (performance.now() - started) / 1000;
    running = false;
    await Promise.all(senders);
    return { perSecond: Math.round(acked / elapsed) };
  } finally {
    room.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The SDK bundled for browsers as an app would get it (all exports, minified), kept in memory. */
async function sdkBundleSize(): Promise<{ minified: number; gzip: number }> {
  const result = await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      write: false,
      minify: true,
      target: 'es2022',
      lib: { entry: SDK_ENTRY, formats: ['es'], fileName: 'switchboard-client' },
    },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[];
  const code = outputs
    .flatMap((output) => output.output)
    .filter((chunk) => chunk.type === 'chunk')
    .map((chunk) => chunk.code)
    .join('\n');
  const bytes = Buffer.from(code);
  return { minified: bytes.byteLength, gzip: gzipSync(bytes, { level: 9 }).byteLength };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// `node --import tsx bench/client-sdk.ts` runs just this case.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  benchClientSdk().then((figures) => console.table(figures));
}
