/**
 * An upload resent with the same client_id posts one message and stores one file, over HTTP and
 * over the chat socket, one after the other or at once; a refused upload leaves nothing on disk.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveFixture, settle, startLive } from './live-support.ts';

describe('idempotent uploads', () => {
  let live: LiveFixture;
  beforeAll(async () => {
    live = await startLive({ UPLOAD_CHUNK_BYTES: '1024', UPLOAD_MAX_PENDING: '5' });
  });
  afterAll(() => live.close());

  /** Every stored file and every partial one, by id. */
  function onDisk(): { stored: string[]; partial: string[] } {
    const root = join(live.chat.dataDir, 'files');
    const shards = readdirSync(root).filter((name) => name !== '.partial');
    return {
      stored: shards.flatMap((shard) => readdirSync(join(root, shard))).sort(),
      partial: readdirSync(join(root, '.partial')),
    };
  }

  async function setUp() {
    const [alice, bob] = [await live.signUp('alice'), await live.signUp('bob')];
    const slug = await live.chat.room(alice, [bob]);
    return { alice, bob, slug, bobRoom: await live.chat.enter(bob, slug) };
  }

  it('stores the file once when an HTTP upload is resent with its client_id', async () => {
    const { alice, slug, bobRoom } = await setUp();
    const before = onDisk().stored;
    const fields = { client_id: 'scan-1', message: 'the scan' };
    const first = await live.api.upload(alice, slug, randomBytes(3000), { fields });
    expect(first.status).toBe(201);
    const again = await live.api.upload(alice, slug, randomBytes(3000), { fields });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(onDisk().stored).toEqual([...before, first.body.file_id].sort());
    await settle();
    expect(bobRoom.unread().filter((f) => f.type === 'chat_message')).toHaveLength(1);
  });

  it('keeps one file when the same upload arrives twice at once', async () => {
    const { alice, slug } = await setUp();
    const before = onDisk().stored;
    const fields = { client_id: 'race-1' };
    const answers = await Promise.all([
      live.api.upload(alice, slug, randomBytes(20_000), { fields }),
      live.api.upload(alice, slug, randomBytes(20_000), { fields }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 201]);
    const [one, two] = answers.map((a) => a.body);
    expect(two).toEqual(one);
    const kept = one.file_id;
    expect(onDisk().stored).toEqual([...before, kept].sort());
    const history = await live.api.history(alice, slug);
    expect(history.messages).toHaveLength(1);
    expect(await live.server.storage.findFile(kept)).toBeDefined();
  });

  it('refuses a client_id already used in another room before writing anything', async () => {
    const { alice, slug } = await setUp();
    const other = await live.chat.room(alice);
    const otherRoom = await live.chat.enter(alice, other);
    expect(
      await otherRoom.request({ type: 'chat_message', message: 'hi', client_id: 'taken-1' }),
    ).toMatchObject({
      type: 'ack',
    });
    const before = onDisk();
    const refused = await live.api.upload(alice, slug, randomBytes(2000), {
      fields: { client_id: 'taken-1' },
    });
    expect(refused).toMatchObject({ status: 400, body: { code: 'INVALID_MESSAGE', field: 'client_id' } });
    expect(onDisk()).toEqual(before);
  });

  it('discards the second copy of a chunked upload whose client_id was already posted', async () => {
    const { alice, slug } = await setUp();
    const socket = await live.chat.enter(alice, slug);
    const before = onDisk().stored;
    const upload = async () => {
      const bytes = randomBytes(1500);
      const started = await socket.request({
        type: 'upload_file',
        file_name: 'a.txt',
        file_type: 'text/plain',
        file_size: bytes.length,
        client_id: 'chunked-1',
      });
      let last: Record<string, unknown> = {};
      for (let i = 0; i < (started.chunk_count as number); i++) {
        last = await socket.request({
          type: 'upload_chunk',
          upload_id: started.upload_id,
          chunk_index: i,
          chunk_data: bytes.subarray(i * 1024, (i + 1) * 1024).toString('base64'),
        });
      }
      return last;
    };
    const first = await upload();
    const second = await upload();
    expect(second).toMatchObject({ type: 'ack', complete: true, message_id: first.message_id });
    expect(onDisk().stored).toEqual([...before, first.file_id].sort());
    expect(await live.server.storage.findFile(second.file_id as string)).toBeUndefined();
  });
});
