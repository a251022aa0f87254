/**
 * Live features under load, on the real chat server in its own process (SQLite, in-memory
 * layer), one public room of 1,000 members, loopback only, bounded in time and counts:
 *
 * - presence churn: status sockets of users who are otherwise offline open (and receive their
 *   snapshot) and close as fast as CHURN_CONCURRENCY workers manage, for CHURN_SECONDS; every
 *   open announces the user online and every close (after the 5 s grace period) offline to the
 *   room's 999 peers, of which OBSERVERS hold a status socket and count what arrives.
 * - typing: all 1,000 members in the room on chat sockets; TYPISTS of them send
 *   FRAMES_PER_TYPIST `typing` frames each (acked) with the default throttle (one broadcast per
 *   typist per 2 s); every member counts the typing events it receives.
 *
 * Server CPU is measured in the server process, apart from this load generator.
 */
import type WebSocket from 'ws';
import { closeClients, openClient, openClients } from './lib/clients.ts';
import { measureServerCpu, ServerProcess } from './lib/server-process.ts';
import type { ChatServerInfo, ChatServerOptions } from './lib/servers/chat.ts';

const MEMBERS = 1000;
const OBSERVERS = 200;
const CHURN_CONCURRENCY = 20;
const CHURN_SECONDS = 8;
const TYPISTS = 100;
const FRAMES_PER_TYPIST = 50;
const PHASE_TIMEOUT_MS = 60_000;

export async function benchLive(): Promise<Record<string, number>> {
  const options: ChatServerOptions = { members: MEMBERS, ratePerSecond: 100_000 };
  const server = await ServerProcess.start<ChatServerInfo>('chat', options);
  try {
    return { ...(await presenceChurn(server)), ...(await typingInBigRoom(server)) };
  } finally {
    await server.stop();
  }
}

async function presenceChurn(server: ServerProcess<ChatServerInfo>): Promise<Record<string, number>> {
  const statusUrl = (member: number) =>
    `ws://127.0.0.1:${server.port}/ws/status/?token=${server.info.tokens[member]}`;
  const observers = await openClients(OBSERVERS, statusUrl, { concurrency: 50 });
  try {
    let deliveries = 0;
    for (const ws of observers) {
      ws.on('message', (data: Buffer) => {
        if (data.includes('"type":"user_status"')) deliveries++;
      });
    }
    await sleep(1000); // the observers' own arrivals settle first
    deliveries = 0;

    let nextMember = OBSERVERS;
    let cycles = 0;
    const deadline = performance.now() + CHURN_SECONDS * 1000;
    const worker = async () => {
      while (performance.now() < deadline) {
        const member = nextMember;
        nextMember = nextMember + 1 < MEMBERS ? nextMember + 1 : OBSERVERS;
        const ws = await openClient(statusUrl(member));
        await firstFrame(ws); // the snapshot: the server has registered the socket
        ws.close();
        await new Promise((resolve) => ws.once('close', resolve));
        cycles++;
      }
    };
    const measured = await measureServerCpu(server, () =>
      Promise.all(Array.from({ length: CHURN_CONCURRENCY }, worker)),
    );
    const received = deliveries;
    return {
      'presence churn: status sockets opened+closed per s': cycles / measured.wallSeconds,
      'presence churn: user_status deliveries per s (to 200 of 999 peers)': received / measured.wallSeconds,
      'presence churn: status announcements per s': received / OBSERVERS / measured.wallSeconds,
      'presence churn: server CPU (cores)': measured.cpuSeconds / measured.wallSeconds,
      'presence churn: open+close cycles per server CPU-second': cycles / measured.cpuSeconds,
    };
  } finally {
    closeClients(observers);
  }
}

async function typingInBigRoom(server: ServerProcess<ChatServerInfo>): Promise<Record<string, number>> {
  const { slug, tokens } = server.info;
  const members = await openClients(
    MEMBERS,
    (member) => `ws://127.0.0.1:${server.port}/ws/chat/${slug}/?token=${tokens[member]}`,
    { concurrency: 50 },
  );
  try {
    let delivered = 0;
    let acked = 0;
    let refused = 0;
    for (const ws of members) {
      ws.on('message', (data: Buffer) => {
        if (data.includes('"type":"typing"')) delivered++;
        else if (data.includes('"type":"ack"')) acked++;
        else if (data.includes('"type":"error"')) refused++;
      });
    }
    await sleep(1000); // replay, `synced` and presence of 1,000 arrivals settle first

    const expected = TYPISTS * FRAMES_PER_TYPIST;
    const measured = await measureServerCpu(server, async () => {
      for (let typist = 0; typist < TYPISTS; typist++) {
        const ws = members[typist]!;
        for (let n = 0; n < FRAMES_PER_TYPIST; n++) {
          ws.send(`{"type":"typing","is_typing":true,"ref":"t${n}"}`);
        }
      }
      await until(() => acked + refused >= expected, PHASE_TIMEOUT_MS);
    });
    // Deliveries still on their way when the last ack arrived.
    await until(() => delivered % (MEMBERS - 1) === 0, 2000).catch(() => {});
    return {
      'typing: frames handled per s (1,000-member room, 100 typists)': expected / measured.wallSeconds,
      'typing: broadcasts after the throttle': delivered / (MEMBERS - 1),
      'typing: events delivered per s': delivered / measured.wallSeconds,
      'typing: server CPU (cores)': measured.cpuSeconds / measured.wallSeconds,
      'typing: frames handled per server CPU-second': expected / measured.cpuSeconds,
      'typing: frames refused': refused,
    };
  } finally {
    closeClients(members);
  }
}

function firstFrame(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no frame within 10 s')), 10_000);
    ws.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
