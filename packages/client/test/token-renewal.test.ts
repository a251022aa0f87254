/**
 * In-band token renewal against the real chat server (a child process) over real sockets: a
 * connection whose token lives two seconds renews it with an `auth` frame before each expiry and
 * stays on the same socket; a renewal the server refuses ends in 4401, then the SDK refreshes and
 * reconnects as for any 4401.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ChatRoomConnection, type ConnectionState, type SwitchboardApi } from '../src/index.ts';
import { jwtExpiry, renewalDelay } from '../src/token-renewal.ts';
import { shortLivedAccessToken, signUp, uniqueSlug } from './helpers/accounts.ts';
import { type ChatProcess, startChatProcess } from './helpers/chat-process.ts';

let server: ChatProcess;
let alice: SwitchboardApi;
let bob: SwitchboardApi;
const connections: ChatRoomConnection[] = [];

beforeAll(async () => {
  server = await startChatProcess();
  [alice, bob] = await Promise.all([signUp(server.url, 'alice'), signUp(server.url, 'bob')]);
});

afterEach(() => {
  for (const connection of connections.splice(0)) connection.close();
});

afterAll(async () => {
  await server?.dispose();
});

async function roomOf(api: SwitchboardApi): Promise<string> {
  const slug = uniqueSlug();
  await api.createRoom({ slug, name: slug });
  return slug;
}

function untilState(connection: ChatRoomConnection, status: ConnectionState['status'], timeout = 10_000) {
  return new Promise<void>((resolve, reject) => {
    if (connection.state.status === status) return resolve();
    const timer = setTimeout(() => reject(new Error(`still ${connection.state.status}`)), timeout);
    const off = connection.onStateChange((state) => {
      if (state.status !== status) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('in-band token renewal', () => {
  it('renews a two-second token before each expiry and never leaves the socket', async () => {
    const me = await alice.me();
    const room = await roomOf(alice);
    let token = shortLivedAccessToken(server.jwtSecret, me, 2);
    let renewals = 0;
    const connection = new ChatRoomConnection({
      server: server.url,
      room,
      afterSeq: 0,
      WebSocket,
      token: () => token,
      refreshToken: async () => {
        renewals += 1;
        token = shortLivedAccessToken(server.jwtSecret, me, 2);
        return token;
      },
    });
    connections.push(connection);
    const states: string[] = [];
    connection.onStateChange((state) => states.push(state.status));
    connection.connect();
    await untilState(connection, 'open');
    // Three lifetimes of the first token.
    await sleep(5000);
    expect(states).toEqual(['connecting', 'open']);
    expect(renewals).toBeGreaterThanOrEqual(3);
    await expect(connection.sendMessage('still on the first socket')).resolves.toMatchObject({ seq: 1 });
  });

  it('on a refused renewal (4401) refreshes once more and reconnects', async () => {
    const me = await alice.me();
    const room = await roomOf(alice);
    let token = shortLivedAccessToken(server.jwtSecret, me, 2);
    const handedOut: string[] = [];
    const connection = new ChatRoomConnection({
      server: server.url,
      room,
      afterSeq: 0,
      WebSocket,
      backoff: { baseMs: 50, capMs: 200 },
      token: () => token,
      refreshToken: async () => {
        // First the renewal, with a token of someone else (the server must refuse it), then the
        // refresh after the 4401, with a good token that lives long enough for the test.
        const next = handedOut.length === 0 ? (bob.accessToken() ?? '') : (alice.accessToken() ?? '');
        handedOut.push(next);
        token = next;
        return next;
      },
    });
    connections.push(connection);
    const states: ConnectionState[] = [];
    connection.onStateChange((state) => states.push(state));
    connection.connect();
    await untilState(connection, 'open');
    await sleep(2500);
    await untilState(connection, 'open');
    expect(handedOut).toHaveLength(2);
    expect(states.find((state) => state.status === 'reconnecting')).toMatchObject({
      code: 4401,
      reason: 'The token names another user.',
    });
    await expect(connection.sendMessage('after the reconnect')).resolves.toMatchObject({ seq: 1 });
  });
});

describe('renewal timing', () => {
  it('renews at 80 % of the lifetime or 30 s before expiry, whichever is sooner, never before half', () => {
    expect(renewalDelay(15 * 60_000, 0)).toBe(0.8 * 15 * 60_000);
    expect(renewalDelay(100_000, 0)).toBe(70_000);
    expect(renewalDelay(2_000, 0)).toBe(1_000);
    expect(renewalDelay(1_000, 5_000)).toBe(0);
  });

  it('reads exp from a JWT and nothing from anything else', () => {
    const token = shortLivedAccessToken('secret', { id: 1, username: 'a' }, 60);
    expect(jwtExpiry(token)).toBe((Math.floor(Date.now() / 1000) + 60) * 1000);
    for (const opaque of ['', 'opaque', 'a.b.c', 'a.bm90IGpzb24.c', `x.${btoa('{"exp":"soon"}')}.y`])
      expect(jwtExpiry(opaque)).toBeUndefined();
  });
});
