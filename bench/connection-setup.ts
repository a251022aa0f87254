/**
 * Connection setup: server CPU per new connection, from the upgrade to the first frame the client
 * reads, for the bare `ws` server and for Switchboard (JWT verified, a room group joined, the
 * consumer's first frame sent). Each client closes as soon as its first frame arrives; a fixed
 * number of handshakes are kept in flight, so the figure is the server's cost, not a rate the
 * generator happens to reach on a shared machine.
 */
import WebSocket from 'ws';
import { BENCH_ROOM } from './lib/chat-frame.ts';
import type { FigureSink } from './lib/report.ts';
import { ServerProcess } from './lib/server-process.ts';
import { benchSecret, signTokens } from './lib/tokens.ts';

const SETUPS = 3000;
const IN_FLIGHT = 50;
const WARM_UP = 200;
/** The two servers are measured in alternation and each keeps its median: the machine is shared. */
const ROUNDS = 3;
const GOAL_RATIO = 1.5;

interface SetupCost {
  cpuMsPerSetup: number;
  setupsPerSecond: number;
}

/** Opens `count` connections, `IN_FLIGHT` at a time, each closed once its first frame arrives. */
async function churn(count: number, urlOf: (index: number) => string): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(urlOf(index), { perMessageDeflate: false, skipUTF8Validation: true });
        ws.once('message', () => {
          ws.terminate();
          resolve();
        });
        ws.once('error', reject);
        ws.once('unexpected-response', (_request, response) =>
          reject(new Error(`HTTP ${response.statusCode}`)),
        );
      });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

async function measure(kind: 'bare-ws' | 'switchboard-room'): Promise<SetupCost> {
  const jwtSecret = benchSecret();
  const server = await ServerProcess.start(kind, kind === 'bare-ws' ? {} : { jwtSecret });
  try {
    const base = `ws://127.0.0.1:${server.port}`;
    const tokens = kind === 'bare-ws' ? [] : await signTokens(jwtSecret, SETUPS + WARM_UP);
    const urlOf =
      kind === 'bare-ws'
        ? () => `${base}/?welcome=1`
        : (i: number) => `${base}/ws/room/${BENCH_ROOM}/?welcome=1&token=${tokens[i]}`;
    await churn(WARM_UP, (i) => urlOf(SETUPS + i));
    const before = await server.usage();
    const started = performance.now();
    await churn(SETUPS, urlOf);
    const seconds = (performance.now() - started) / 1000;
    const after = await server.usage();
    return {
      cpuMsPerSetup: ((after.cpuSeconds - before.cpuSeconds) * 1000) / SETUPS,
      setupsPerSecond: SETUPS / seconds,
    };
  } finally {
    await server.stop();
  }
}

const median = (values: number[]) => values.sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

export async function benchConnectionSetup(sink: FigureSink): Promise<void> {
  const runs: Record<'bare-ws' | 'switchboard-room', SetupCost[]> = { 'bare-ws': [], 'switchboard-room': [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ['bare-ws', 'switchboard-room'] as const) runs[kind].push(await measure(kind));
  }
  const summary = (costs: SetupCost[]): SetupCost => ({
    cpuMsPerSetup: median(costs.map((cost) => cost.cpuMsPerSetup)),
    setupsPerSecond: median(costs.map((cost) => cost.setupsPerSecond)),
  });
  const bare = summary(runs['bare-ws']);
  const framework = summary(runs['switchboard-room']);
  sink.add(
    'server CPU per connection setup (bare ws)',
    bare.cpuMsPerSetup * 1000,
    'µs',
    undefined,
    `${bare.setupsPerSecond.toFixed(0)} setups/s with ${IN_FLIGHT} in flight`,
  );
  sink.add(
    'server CPU per connection setup (switchboard)',
    framework.cpuMsPerSetup * 1000,
    'µs',
    bare.cpuMsPerSetup * 1000,
    `JWT + group join + first frame; ${framework.setupsPerSecond.toFixed(0)} setups/s; goal <= ${GOAL_RATIO}x`,
  );
}
