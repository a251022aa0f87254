/**
 * File attachments over real sockets and HTTP against the real chat server: the chunked upload
 * on the chat socket (progress, out-of-order and repeated chunks, checks, limits, expiry), the
 * multipart upload, and the authorised download with its safety headers. Every bad input gets
 * its own answer.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestClient } from '@switchboard/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveFixture, settle, startLive } from './live-support.ts';
import type { ChatUser } from './support/chat-api.ts';

const CHUNK = 1024;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const chunkOf = (bytes: Buffer, index: number) =>
  bytes.subarray(index * CHUNK, (index + 1) * CHUNK).toString('base64');

describe('file attachments', () => {
  let live: LiveFixture;
  beforeAll(async () => {
    live = await startLive({
      UPLOAD_CHUNK_BYTES: String(CHUNK),
      MAX_UPLOAD_BYTES: String(16 * 1024),
      UPLOAD_MAX_PENDING: '2',
      UPLOAD_ALLOWED_TYPES: 'image/png,text/plain,application/pdf',
    });
  });
  afterAll(() => live.close());

  async function roomOf() {
    const [alice, bob] = [await live.signUp('alice'), await live.signUp('bob')];
    const slug = await live.chat.room(alice, [bob]);
    return {
      alice,
      bob,
      slug,
      aliceRoom: await live.chat.enter(alice, slug),
      bobRoom: await live.chat.enter(bob, slug),
    };
  }

  const download = (user: ChatUser, url: string) =>
    fetch(`${live.server.url}${url}`, { headers: { authorization: `Bearer ${user.access}` } });

  async function startUpload(client: TestClient, fields: Record<string, unknown>) {
    return client.request({
      type: 'upload_file',
      file_name: 'notes.txt',
      file_type: 'text/plain',
      ...fields,
    });
  }

  it('takes chunks in any order, repeats included, reports progress, and posts the file as a message', async () => {
    const { alice, bob, slug, aliceRoom, bobRoom } = await roomOf();
    const bytes = randomBytes(CHUNK * 2 + 100);
    const started = await startUpload(aliceRoom, {
      file_name: 'diagram.png',
      file_type: 'image/png',
      file_size: bytes.length,
      sha256: sha256(bytes),
      message: 'the new layout',
    });
    expect(started).toMatchObject({ type: 'ack', chunk_size: CHUNK, chunk_count: 3 });
    const uploadId = started.upload_id as string;

    const send = (index: number) =>
      aliceRoom.request({
        type: 'upload_chunk',
        upload_id: uploadId,
        chunk_index: index,
        chunk_data: chunkOf(bytes, index),
      });
    expect(await send(2)).toMatchObject({ type: 'ack', received_bytes: 100, complete: false });
    expect(await aliceRoom.next('upload_progress')).toEqual({
      type: 'upload_progress',
      upload_id: uploadId,
      received_bytes: 100,
      total_bytes: bytes.length,
      complete: false,
    });
    expect(await send(0)).toMatchObject({ received_bytes: CHUNK + 100 });
    expect(await send(0)).toMatchObject({ received_bytes: CHUNK + 100 }); // a repeat changes nothing
    const done = await send(1);
    expect(done).toMatchObject({ type: 'ack', complete: true, received_bytes: bytes.length, seq: 1 });
    const again = await send(1); // the last chunk resent (say, its ack was lost): same answer
    expect(again).toMatchObject({ complete: true, message_id: done.message_id, file_id: done.file_id });

    const broadcast = await bobRoom.next('chat_message');
    expect(broadcast.message).toMatchObject({
      id: done.message_id,
      content: 'the new layout',
      author: { id: alice.id },
      attachments: [
        {
          id: done.file_id,
          file_name: 'diagram.png',
          file_size: bytes.length,
          file_type: 'image/png',
          url: `/api/files/${done.file_id}/`,
        },
      ],
    });
    await settle();
    expect(bobRoom.unread().filter((f) => f.type === 'chat_message')).toEqual([]);
    const history = await live.api.history(bob, slug);
    expect(history.messages[0]?.attachments).toHaveLength(1);

    const file = await download(bob, `/api/files/${done.file_id}/`);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
    expect(file.headers.get('content-disposition')).toBe(
      `attachment; filename="diagram.png"; filename*=UTF-8''diagram.png`,
    );
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(file.headers.get('content-type')).toBe('image/png');
    const preview = await download(bob, `/api/files/${done.file_id}/?inline=1`);
    expect(preview.headers.get('content-disposition')).toMatch(/^inline; /);
    await preview.arrayBuffer();
  });

  it('serves anything but safe images as an opaque attachment, even when asked inline', async () => {
    const { alice, aliceRoom } = await roomOf();
    const bytes = Buffer.from('<script>alert(1)</script>');
    const started = await startUpload(aliceRoom, { file_name: 'x.txt', file_size: bytes.length });
    const done = await aliceRoom.request({
      type: 'upload_chunk',
      upload_id: started.upload_id,
      chunk_index: 0,
      chunk_data: bytes.toString('base64'),
    });
    const file = await download(alice, `/api/files/${done.file_id}/?inline=1`);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(file.headers.get('content-disposition')).toMatch(/^attachment; /);
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(file.headers.get('content-security-policy')).toContain('sandbox');
    expect(await file.text()).toBe(bytes.toString());
  });

  it('sanitises file names', async () => {
    const { aliceRoom } = await roomOf();
    const started = await startUpload(aliceRoom, {
      file_name: '../../etc/.pass\u202Ewd"; x.txt',
      file_size: 1,
    });
    const done = await aliceRoom.request({
      type: 'upload_chunk',
      upload_id: started.upload_id,
      chunk_index: 0,
      chunk_data: 'YQ==',
    });
    const message = (await aliceRoom.next('chat_message')).message as {
      attachments: { file_name: string }[];
    };
    expect(message.attachments[0]?.file_name).toBe('passwd__ x.txt');
    expect(done).toMatchObject({ complete: true });
  });

  it('answers every bad upload with its own error', async () => {
    const { aliceRoom, bobRoom } = await roomOf();
    expect(await startUpload(aliceRoom, { file_size: 16 * 1024 + 1 })).toMatchObject({
      type: 'error',
      code: 'MESSAGE_TOO_LARGE',
      field: 'file_size',
      error: 'File exceeds 16 KB.',
    });
    expect(await startUpload(aliceRoom, { file_size: 10, file_type: 'text/html' })).toMatchObject({
      code: 'INVALID_MESSAGE',
      field: 'file_type',
      error: 'Files of type text/html are not allowed.',
    });
    expect(await startUpload(aliceRoom, { file_size: 0 })).toMatchObject({
      code: 'INVALID_MESSAGE',
      field: 'file_size',
    });
    expect(await startUpload(aliceRoom, { file_size: 10, message: 'x'.repeat(501) })).toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
      field: 'message',
    });

    const started = await startUpload(aliceRoom, { file_size: CHUNK + 10, sha256: '0'.repeat(64) });
    const uploadId = started.upload_id as string;
    const chunk = (fields: Record<string, unknown>) =>
      aliceRoom.request({
        type: 'upload_chunk',
        upload_id: uploadId,
        chunk_index: 0,
        chunk_data: '',
        ...fields,
      });
    expect(await chunk({ upload_id: 'no-such-upload' })).toMatchObject({
      code: 'NOT_FOUND',
      field: 'upload_id',
    });
    expect(await chunk({ chunk_index: 2, chunk_data: 'YQ==' })).toMatchObject({
      code: 'INVALID_MESSAGE',
      field: 'chunk_index',
      error: 'chunk_index must be below 2.',
    });
    expect(await chunk({ chunk_data: 'not base64!' })).toMatchObject({
      code: 'INVALID_MESSAGE',
      field: 'chunk_data',
      error: 'chunk_data is not valid base64.',
    });
    expect(await chunk({ chunk_data: 'YWJj' })).toMatchObject({
      code: 'INVALID_MESSAGE',
      field: 'chunk_data',
      error: `Chunk 0 must be ${CHUNK} bytes, got 3.`,
    });
    expect(await chunk({ chunk_index: -1 })).toMatchObject({ code: 'INVALID_MESSAGE', field: 'chunk_index' });
    // Someone else's upload does not exist for them.
    expect(
      await bobRoom.request({
        type: 'upload_chunk',
        upload_id: uploadId,
        chunk_index: 0,
        chunk_data: 'YQ==',
      }),
    ).toMatchObject({ code: 'NOT_FOUND', field: 'upload_id' });

    // The checksum is checked once everything is in; a mismatch discards the upload.
    await chunk({ chunk_data: randomBytes(CHUNK).toString('base64') });
    expect(await chunk({ chunk_index: 1, chunk_data: randomBytes(10).toString('base64') })).toMatchObject({
      code: 'INVALID_MESSAGE',
      field: 'sha256',
    });
    expect(await chunk({ chunk_index: 1, chunk_data: 'YQ==' })).toMatchObject({ code: 'NOT_FOUND' });
    await settle();
    expect(bobRoom.unread().filter((f) => f.type === 'chat_message')).toEqual([]);
  });

  it('limits unfinished uploads per user', async () => {
    const { aliceRoom, bobRoom } = await roomOf();
    await startUpload(aliceRoom, { file_size: 10 });
    await startUpload(aliceRoom, { file_size: 10 });
    expect(await startUpload(aliceRoom, { file_size: 10 })).toMatchObject({
      code: 'RATE_LIMIT_EXCEEDED',
      error: 'You have 2 unfinished uploads: finish one or wait for it to expire.',
      retry_after: expect.any(Number),
    });
    expect(await startUpload(bobRoom, { file_size: 10 })).toMatchObject({ type: 'ack' });
  });

  it('refuses downloads to non-members, unknown files and anonymous requests', async () => {
    const { alice, aliceRoom } = await roomOf();
    const started = await startUpload(aliceRoom, { file_size: 1 });
    const done = await aliceRoom.request({
      type: 'upload_chunk',
      upload_id: started.upload_id,
      chunk_index: 0,
      chunk_data: 'YQ==',
    });
    const outsider = await live.signUp('out');
    const refused = await download(outsider, `/api/files/${done.file_id}/`);
    expect(refused.status).toBe(404);
    const unknown = await download(alice, '/api/files/00000000-0000-0000-0000-000000000000/');
    expect(unknown.status).toBe(404);
    expect(await refused.json()).toEqual(await unknown.json());
    expect((await download(alice, '/api/files/..%2F..%2Fjwt-secret/')).status).toBe(404);
    expect((await fetch(`${live.server.url}/api/files/${done.file_id}/`)).status).toBe(401);
  });

  it('uploads over HTTP multipart with the same limits, and posts the file to the room', async () => {
    const { alice, slug, bobRoom } = await roomOf();
    const partials = () => readdirSync(join(live.chat.dataDir, 'files', '.partial')).sort();
    const unfinishedBefore = partials();
    const post = (user: ChatUser, form: FormData, room = slug) =>
      fetch(`${live.server.url}/api/rooms/${room}/files/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.access}` },
        body: form,
      });
    const bytes = randomBytes(5000);
    const form = new FormData();
    form.append('message', 'scan attached');
    form.append('sha256', sha256(bytes));
    form.append('file', new Blob([bytes], { type: 'application/pdf' }), 'scan.pdf');
    const created = await post(alice, form);
    expect(created.status).toBe(201);
    const body = await created.json();
    expect(body.message).toMatchObject({
      content: 'scan attached',
      attachments: [{ file_name: 'scan.pdf' }],
    });
    expect((await bobRoom.next('chat_message')).message).toMatchObject({ id: body.message.id });
    const back = await download(alice, `/api/files/${body.file_id}/`);
    expect(Buffer.from(await back.arrayBuffer()).equals(bytes)).toBe(true);

    const tooBig = new FormData();
    tooBig.append('file', new Blob([randomBytes(16 * 1024 + 1)], { type: 'application/pdf' }), 'big.pdf');
    const refusedBig = await post(alice, tooBig);
    expect(refusedBig.status).toBe(413);
    expect(await refusedBig.json()).toMatchObject({ code: 'MESSAGE_TOO_LARGE', field: 'file_size' });

    const html = new FormData();
    html.append('file', new Blob(['<h1>hi</h1>'], { type: 'text/html' }), 'page.html');
    const refusedType = await post(alice, html);
    expect(refusedType.status).toBe(400);
    expect(await refusedType.json()).toMatchObject({ code: 'INVALID_MESSAGE', field: 'file_type' });

    const badSum = new FormData();
    badSum.append('sha256', '0'.repeat(64));
    badSum.append('file', new Blob(['abc'], { type: 'text/plain' }), 'a.txt');
    expect((await (await post(alice, badSum)).json()) as object).toMatchObject({ field: 'sha256' });

    const json = await fetch(`${live.server.url}/api/rooms/${slug}/files/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.access}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    const outsider = await live.signUp('out');
    const plain = new FormData();
    plain.append('file', new Blob(['abc'], { type: 'text/plain' }), 'a.txt');
    expect((await post(outsider, plain)).status).toBe(403);
    await settle();
    expect(bobRoom.unread().filter((f) => f.type === 'chat_message')).toEqual([]);
    // Nothing half-written is left behind (the other tests' chunked uploads are still unfinished).
    expect(partials()).toEqual(unfinishedBefore);
  });

  it('keeps chunk frames under the 1 MiB frame limit with the default chunk size', async () => {
    const defaults = await startLive();
    try {
      const alice = await defaults.signUp();
      const slug = await defaults.chat.room(alice);
      const room = await defaults.chat.enter(alice, slug);
      const bytes = randomBytes(512 * 1024 + 7);
      const started = await room.request({
        type: 'upload_file',
        file_name: 'big.pdf',
        file_type: 'application/pdf',
        file_size: bytes.length,
      });
      const chunkSize = started.chunk_size as number;
      expect(Math.ceil(chunkSize / 3) * 4 + 300).toBeLessThan(1024 * 1024);
      let last: Record<string, unknown> = {};
      for (let i = 0; i < (started.chunk_count as number); i++) {
        last = await room.request({
          type: 'upload_chunk',
          upload_id: started.upload_id,
          chunk_index: i,
          chunk_data: bytes.subarray(i * chunkSize, (i + 1) * chunkSize).toString('base64'),
        });
      }
      expect(last).toMatchObject({ type: 'ack', complete: true });
    } finally {
      await defaults.close();
    }
  });
});

describe('unfinished uploads', () => {
  it('expire, free their slot, and leave no partial file', async () => {
    const live = await startLive({ UPLOAD_EXPIRY_SECONDS: '0.3', UPLOAD_MAX_PENDING: '1' });
    try {
      const alice = await live.signUp();
      const slug = await live.chat.room(alice);
      const room = await live.chat.enter(alice, slug);
      const upload = { type: 'upload_file', file_name: 'a.txt', file_type: 'text/plain', file_size: 10 };
      const started = await room.request(upload);
      const partial = join(live.chat.dataDir, 'files', '.partial', started.upload_id as string);
      expect(existsSync(partial)).toBe(true);
      await settle(1000);
      expect(
        await room.request({
          type: 'upload_chunk',
          upload_id: started.upload_id,
          chunk_index: 0,
          chunk_data: '',
        }),
      ).toMatchObject({ code: 'NOT_FOUND', field: 'upload_id' });
      expect(existsSync(partial)).toBe(false);
      expect(await room.request(upload)).toMatchObject({ type: 'ack' });
    } finally {
      await live.close();
    }
  });
});
