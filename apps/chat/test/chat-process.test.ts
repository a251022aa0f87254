/**
 * The chat server as a process: an ack means the message is durably stored, across a graceful
 * restart (SIGTERM: exit 0, sockets closed with 1001) and a hard kill (SIGKILL); and a bad
 * environment stops start-up with a message naming the variable.
 */
import { rmSync } from 'node:fs';
import { TestClient } from '@switchboard/server/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ChatApi } from './support/chat-api.ts';
import { tempDataDir } from './support/chat-fixture.ts';
import { ChatProcess } from './support/chat-process.ts';

const dataDirs: string[] = [];
function dataDir(): string {
  const dir = tempDataDir();
  dataDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe('durability across restarts of the server process', () => {
  afterEach(async () => {
    await ChatProcess.killAll();
  });

  it('keeps every acked message through SIGTERM and through SIGKILL', { timeout: 40_000 }, async () => {
    const dir = dataDir();

    // 1. Send and get the ack.
    const first = await ChatProcess.start(dir);
    let api = new ChatApi(first.url);
    const alice = await api.signUp('alice');
    const slug = await api.createRoom(alice);
    const socket = await TestClient.connect(api.wsUrl(slug, { token: alice.access }));
    await socket.next('synced');
    const kept = await socket.request({
      type: 'chat_message',
      message: 'survives a restart',
      client_id: 'd-1',
    });
    expect(kept).toMatchObject({ type: 'ack', seq: 1 });

    // 2. Graceful stop: the socket is told the server is going away, the process exits 0.
    const closed = socket.closed(15_000);
    expect(await first.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect((await closed).code).toBe(1001);

    // 3. Same data directory: the message is in history and in a replay from 0.
    const second = await ChatProcess.start(dir);
    api = new ChatApi(second.url);
    expect((await api.history(alice, slug)).messages).toEqual([
      expect.objectContaining({ id: kept.message_id, seq: 1, content: 'survives a restart' }),
    ]);
    const resumed = await TestClient.connect(api.wsUrl(slug, { token: alice.access, after_seq: 0 }));
    expect(await resumed.next()).toMatchObject({
      type: 'chat_message',
      message: { id: kept.message_id, seq: 1, content: 'survives a restart' },
    });
    expect(await resumed.next()).toEqual({ type: 'synced', room: slug, last_seq: 1 });

    // 4. Hard kill right after the ack: acked means committed.
    const killed = await resumed.request({ type: 'chat_message', message: 'survives a kill' });
    expect(killed).toMatchObject({ type: 'ack', seq: 2 });
    expect(await second.proc.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    await resumed.closed();

    // 5. Both messages are back, and a resend from before the restarts is still recognised.
    const third = await ChatProcess.start(dir);
    api = new ChatApi(third.url);
    expect((await api.history(alice, slug)).messages.map((m) => [m.seq, m.content])).toEqual([
      [2, 'survives a kill'],
      [1, 'survives a restart'],
    ]);
    const again = await TestClient.connect(api.wsUrl(slug, { token: alice.access, after_seq: 0 }));
    const replay = [await again.next(), await again.next(), await again.next()];
    expect(replay.map((f) => f.type)).toEqual(['chat_message', 'chat_message', 'synced']);
    expect(replay[2]).toMatchObject({ last_seq: 2 });
    expect(
      await again.request({ type: 'chat_message', message: 'survives a restart', client_id: 'd-1' }),
    ).toMatchObject({ type: 'ack', duplicate: true, message_id: kept.message_id, seq: 1 });
    expect(await third.proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});

describe.concurrent('start-up with an invalid environment', () => {
  it.each([
    ['PORT', 'abc'],
    ['DATABASE_URL', 'mysql://x'],
    ['JWT_SECRET', 'short'],
  ])('stops on %s=%s with a non-zero exit and a message naming the variable', async (name, value) => {
    const proc = ChatProcess.spawn(dataDir(), { [name]: value });
    const exit = await Promise.race([
      proc.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still running')), 15_000).unref()),
    ]).finally(() => proc.stop('SIGKILL'));
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(proc.stderr).toMatch(new RegExp(`\\b${name}\\b`));
    expect(proc.stdout).not.toContain('listening');
  });
});
