/**
 * What one user may take: rooms created per hour, uploads started per minute, bytes stored in
 * all (over HTTP and the chat socket alike), and lists that come in bounded pages. Every refusal
 * has its code: 429 RATE_LIMIT_EXCEEDED with Retry-After for rates, 413 QUOTA_EXCEEDED for bytes.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LiveFixture, startLive } from './live-support.ts';

describe('per-user limits', () => {
  let live: LiveFixture | undefined;
  afterEach(async () => {
    await live?.close();
    live = undefined;
  });

  const storedFiles = (fixture: LiveFixture) => {
    const root = join(fixture.chat.dataDir, 'files');
    return readdirSync(root)
      .filter((name) => name !== '.partial')
      .flatMap((shard) => readdirSync(join(root, shard)));
  };

  it('refuses more than ROOMS_PER_HOUR new rooms per user with 429 and Retry-After', async () => {
    live = await startLive({ ROOMS_PER_HOUR: '3' });
    const [alice, bob] = [await live.signUp('alice'), await live.signUp('bob')];
    for (let i = 0; i < 3; i++) await live.api.createRoom(alice);
    const refused = await fetch(`${live.server.url}/api/rooms/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.access}`, 'content-type': 'application/json' },
      body: JSON.stringify({ slug: 'one-too-many', name: 'x' }),
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
    expect(await refused.json()).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    expect(await live.server.storage.findRoom('one-too-many')).toBeUndefined();
    // A new direct room counts too; one that exists already does not.
    const carol = await live.signUp('carol');
    const direct = await live.call('POST', '/api/direct/', {
      token: alice.access,
      body: { username: carol.username },
    });
    expect(direct).toMatchObject({ status: 429, body: { code: 'RATE_LIMIT_EXCEEDED' } });
    expect(
      (await live.call('POST', '/api/direct/', { token: bob.access, body: { username: alice.username } }))
        .status,
    ).toBe(201);
    expect(
      (await live.call('POST', '/api/direct/', { token: alice.access, body: { username: bob.username } }))
        .status,
    ).toBe(200);
    await live.api.createRoom(bob);
  });

  it('pages the room list and the read positions with after_id and a bounded limit', async () => {
    live = await startLive();
    const [alice, bob, carol] = [
      await live.signUp('alice'),
      await live.signUp('bob'),
      await live.signUp('carol'),
    ];
    const slugs = [];
    for (let i = 0; i < 5; i++) slugs.push(await live.chat.room(alice, [bob, carol]));
    const seen: string[] = [];
    let after: number | null = 0;
    let pages = 0;
    while (after !== null) {
      const page = await live.call('GET', `/api/rooms/?limit=2&after_id=${after}`, { token: alice.access });
      expect(page.status).toBe(200);
      expect(page.body.rooms.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.rooms.map((r: { slug: string }) => r.slug));
      after = page.body.next_after_id;
      pages++;
    }
    expect([seen, pages]).toEqual([slugs, 3]);
    for (const bad of [
      'limit=0',
      'limit=201',
      'limit=x',
      'after_id=-1',
      'after_id=2147483648',
      'after_id=1e400',
    ]) {
      const answer = await live.call('GET', `/api/rooms/?${bad}`, { token: alice.access });
      expect([bad, answer.status, answer.body.code]).toEqual([bad, 400, 'INVALID_MESSAGE']);
    }

    const path = `/api/rooms/${slugs[0]}/read-receipts/`;
    const first = await live.call('GET', `${path}?limit=2`, { token: alice.access });
    expect(first.body.receipts).toHaveLength(2);
    const rest = await live.call('GET', `${path}?limit=2&after_id=${first.body.next_after_id}`, {
      token: alice.access,
    });
    expect(rest.body).toMatchObject({ receipts: [{ user: { id: carol.id } }], next_after_id: null });
  });

  it('holds every user to UPLOAD_QUOTA_BYTES over HTTP and the socket, leaving nothing on disk', async () => {
    live = await startLive({ UPLOAD_QUOTA_BYTES: '10000', UPLOAD_CHUNK_BYTES: '4096' });
    const [alice, bob] = [await live.signUp('alice'), await live.signUp('bob')];
    const slug = await live.chat.room(alice, [bob]);
    expect((await live.api.upload(alice, slug, randomBytes(6000))).status).toBe(201);
    const over = await live.api.upload(alice, slug, randomBytes(6000));
    expect(over).toMatchObject({ status: 413, body: { code: 'QUOTA_EXCEEDED', field: 'file_size' } });
    expect(storedFiles(live)).toHaveLength(1);

    const socket = await live.chat.enter(alice, slug);
    const announce = (size: number) =>
      socket.request({ type: 'upload_file', file_name: 'a.txt', file_type: 'text/plain', file_size: size });
    expect(await announce(4001)).toMatchObject({ type: 'error', code: 'QUOTA_EXCEEDED' });
    // Two uploads that each fit, but not together: the second is refused when it completes.
    const uploads = [await announce(4000), await announce(4000)];
    const finish = (upload: Record<string, unknown>) =>
      socket.request({
        type: 'upload_chunk',
        upload_id: upload.upload_id,
        chunk_index: 0,
        chunk_data: randomBytes(4000).toString('base64'),
      });
    expect(await finish(uploads[0]!)).toMatchObject({ type: 'ack', complete: true });
    expect(await finish(uploads[1]!)).toMatchObject({ type: 'error', code: 'QUOTA_EXCEEDED' });
    expect(storedFiles(live)).toHaveLength(2);
    expect(await live.server.storage.uploadedBytes(alice.id)).toBe(10_000);
    // Another user has a quota of their own.
    expect((await live.api.upload(bob, slug, randomBytes(6000))).status).toBe(201);
  });

  it('refuses more than UPLOADS_PER_MINUTE uploads per user, HTTP and socket together', async () => {
    live = await startLive({ UPLOADS_PER_MINUTE: '2' });
    const alice = await live.signUp('alice');
    const slug = await live.chat.room(alice);
    expect((await live.api.upload(alice, slug, randomBytes(10))).status).toBe(201);
    const socket = await live.chat.enter(alice, slug);
    const announce = () =>
      socket.request({ type: 'upload_file', file_name: 'a.txt', file_type: 'text/plain', file_size: 10 });
    expect(await announce()).toMatchObject({ type: 'ack' });
    expect(await announce()).toMatchObject({ type: 'error', code: 'RATE_LIMIT_EXCEEDED' });
    const refused = await live.api.upload(alice, slug, randomBytes(10));
    expect(refused).toMatchObject({ status: 429, body: { code: 'RATE_LIMIT_EXCEEDED' } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(storedFiles(live)).toHaveLength(1);
  });
});
