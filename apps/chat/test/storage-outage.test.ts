/**
 * PostgreSQL going away under a running chat server, played with a TCP relay in front of the
 * machine's PostgreSQL that the test cuts (open connections drop, new ones are refused) and
 * restores. The sender of a message that cannot be stored hears SERVICE_UNAVAILABLE, never an
 * ack; the server stays up, says it is not ready, and serves again once the database is back.
 */
import type { TestClient } from '@switchboard/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatUser } from './support/chat-api.ts';
import { ChatFixture } from './support/chat-fixture.ts';
import { type FreshDatabase, freshDatabase, PG_ADMIN_URL, servicesAvailable } from './support/services.ts';
import { TcpProxy } from './support/tcp-proxy.ts';

const available = await servicesAvailable('the PostgreSQL outage suite', ['postgres']);

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!available)('chat server when PostgreSQL is unavailable', () => {
  let database: FreshDatabase;
  let proxy: TcpProxy;
  let chat: ChatFixture;
  let alice: ChatUser;
  let bob: ChatUser;
  let slug: string;
  let aliceSocket: TestClient;
  let bobSocket: TestClient;

  const readiness = async () => {
    const response = await fetch(`${chat.server.url}/readyz`);
    return { status: response.status, body: (await response.json()) as { checks: { storage: boolean } } };
  };

  beforeAll(async () => {
    database = await freshDatabase('sb_test');
    const admin = new URL(PG_ADMIN_URL);
    proxy = await TcpProxy.start({ host: admin.hostname, port: Number(admin.port || 5432) });
    chat = await ChatFixture.start({ DATABASE_URL: database.urlVia(proxy.address) });
    alice = await chat.signUp('alice');
    bob = await chat.signUp('bob');
    slug = await chat.room(alice, [bob]);
    aliceSocket = await chat.enter(alice, slug);
    bobSocket = await chat.enter(bob, slug);
  });

  afterAll(async () => {
    await proxy?.restore();
    await chat?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('refuses writes with SERVICE_UNAVAILABLE while down, reports not ready, and recovers', async () => {
    const first = await aliceSocket.request({ type: 'chat_message', message: 'before', client_id: 'c-1' });
    expect(first).toMatchObject({ type: 'ack', seq: 1 });
    expect((await readiness()).status).toBe(200);

    await proxy.cut();

    const refused = await aliceSocket.request({ type: 'chat_message', message: 'during', client_id: 'c-2' });
    expect(refused).toMatchObject({ type: 'error', code: 'SERVICE_UNAVAILABLE', error: expect.any(String) });
    // The connection stays open: the sender may retry on it.
    expect(aliceSocket.isOpen).toBe(true);

    const ready = await readiness();
    expect(ready.status).toBe(503);
    expect(ready.body.checks.storage).toBe(false);
    expect((await fetch(`${chat.server.url}/healthz`)).status).toBe(200);

    // A socket opening now cannot be authorised for the room: it is told why and to come back later.
    const late = await chat.connect(bob, slug);
    expect(await late.next('error')).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect((await late.closed()).code).toBe(1013);

    await proxy.restore();
    await eventually('the server reports ready again', async () => (await readiness()).status === 200);

    // The refused message was not stored: resending it (same client_id) stores it now, with the
    // next seq, so the failed attempt left no hole.
    const retried = await aliceSocket.request({ type: 'chat_message', message: 'during', client_id: 'c-2' });
    expect(retried).toMatchObject({ type: 'ack', seq: 2, duplicate: false });
    const after = await bobSocket.request({ type: 'chat_message', message: 'after' });
    expect(after).toMatchObject({ type: 'ack', seq: 3 });

    // Bob saw exactly the stored messages; the failed attempt was never acked or broadcast.
    const seen: string[] = [];
    while (seen.length < 3)
      seen.push(((await bobSocket.next('chat_message')).message as { content: string }).content);
    expect(seen).toEqual(['before', 'during', 'after']);
    const history = await chat.api.history(alice, slug);
    expect(history.messages.map((m) => [m.seq, m.content])).toEqual([
      [3, 'after'],
      [2, 'during'],
      [1, 'before'],
    ]);
    const acksForRefused = aliceSocket.frames.filter((f) => f.type === 'ack' && f.ref === refused.ref);
    expect(acksForRefused).toEqual([]);
  });
});
