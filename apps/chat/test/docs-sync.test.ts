/**
 * The documents endpoint with the stock y-websocket provider as client, real sockets and SQLite:
 * convergence, offline edits, access rules, awareness, hostile frames, compaction.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { ChatFixture } from './support/chat-fixture.ts';
import { type DocEditor, openDoc, until } from './support/doc-provider.ts';

let fixture: ChatFixture | undefined;
const editors: DocEditor[] = [];
afterEach(async () => {
  for (const editor of editors.splice(0)) editor.destroy();
  await fixture?.close();
  fixture = undefined;
});

async function setup() {
  fixture = await ChatFixture.start();
  const owner = await fixture.signUp('owner');
  const member = await fixture.signUp('member');
  const slug = await fixture.room(owner, [member]);
  return { fixture, owner, member, slug };
}

function editor(f: ChatFixture, slug: string, doc: string, token: string): DocEditor {
  const opened = openDoc(f.server.url, slug, doc, token);
  editors.push(opened);
  return opened;
}

/** A raw socket to the endpoint: the close code and the binary frames it received. */
async function rawSocket(url: string) {
  const ws = new WebSocket(url);
  const frames: Buffer[] = [];
  ws.on('message', (data: Buffer) => frames.push(data));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('error', () => {});
  return { ws, frames, closed };
}

const docUrl = (f: ChatFixture, slug: string, doc: string, token: string) =>
  `${f.server.url.replace(/^http/, 'ws')}/ws/docs/${slug}/${doc}?token=${token}`;

describe('documents over y-websocket', () => {
  it('two stock providers converge, and the stored text equals theirs', async () => {
    const { fixture: f, owner, member, slug } = await setup();
    const a = editor(f, slug, 'notes', owner.access);
    const b = editor(f, slug, 'notes', member.access);
    await Promise.all([a.synced(), b.synced()]);
    a.text.insert(0, 'hello ');
    b.text.insert(0, 'world ');
    await until(() => a.text.toString() === b.text.toString() && a.text.length === 12, 10_000, 'convergence');
    const stored = await f.server.documents.text(slug, 'notes', { id: owner.id, username: owner.username });
    expect(stored).toBe(a.text.toString());
  });

  it('a late joiner syncs from storage; offline edits on both sides merge on reconnect', async () => {
    const { fixture: f, owner, member, slug } = await setup();
    const a = editor(f, slug, 'plan', owner.access);
    const b = editor(f, slug, 'plan', member.access);
    await Promise.all([a.synced(), b.synced()]);
    a.text.insert(0, 'base.');
    await until(() => b.text.toString() === 'base.');
    a.provider.disconnect();
    b.provider.disconnect();
    a.text.insert(5, ' from a');
    b.text.insert(0, 'from b ');
    a.provider.connect();
    b.provider.connect();
    await until(
      () =>
        a.text.toString() === b.text.toString() &&
        a.text.toString().includes('from a') &&
        a.text.toString().includes('from b'),
      10_000,
      'offline merge',
    );
    const late = editor(f, slug, 'plan', owner.access);
    await late.synced();
    await until(() => late.text.toString() === a.text.toString(), 5000, 'late joiner');
  });

  it('refuses non-members with 4403, unknown rooms with 4404, bad names with 4400', async () => {
    const { fixture: f, owner, slug } = await setup();
    const stranger = await f.signUp('stranger');
    const refused = await rawSocket(docUrl(f, slug, 'notes', stranger.access));
    expect(await refused.closed).toBe(4403);
    const unknown = await rawSocket(docUrl(f, 'no-such-room', 'notes', stranger.access));
    expect(await unknown.closed).toBe(4404);
    const badName = await rawSocket(docUrl(f, slug, '.hidden', owner.access));
    expect(await badName.closed).toBe(4400);
    const anonymous = await rawSocket(`${f.server.url.replace(/^http/, 'ws')}/ws/docs/${slug}/notes/`);
    expect(await anonymous.closed).toBe(4401);
  });

  it('overwrites a forged awareness user and removes states when the socket closes', async () => {
    const { fixture: f, owner, member, slug } = await setup();
    const a = editor(f, slug, 'cursors', owner.access);
    const b = editor(f, slug, 'cursors', member.access);
    await Promise.all([a.synced(), b.synced()]);
    a.provider.awareness.setLocalStateField('user', { id: 999, name: 'admin', color: '#f00' });
    const aId = a.ydoc.clientID;
    await until(() => (b.provider.awareness.getStates().get(aId) as { user?: unknown })?.user !== undefined);
    expect(b.provider.awareness.getStates().get(aId)).toMatchObject({
      user: { id: owner.id, name: owner.username, color: '#f00' },
    });
    a.provider.destroy();
    await until(() => !b.provider.awareness.getStates().has(aId), 5000, 'awareness removal');
  });

  it('a read-only document serves sync but refuses updates from non-hosts', async () => {
    const { fixture: f, owner, member, slug } = await setup();
    await f.server.documents.open(
      slug,
      'rules',
      { id: owner.id, username: owner.username },
      { readOnly: true },
    );
    const host = editor(f, slug, 'rules', owner.access);
    await host.synced();
    host.text.insert(0, 'by the host');
    const reader = editor(f, slug, 'rules', member.access);
    await reader.synced();
    await until(() => reader.text.toString() === 'by the host');
    reader.text.insert(0, 'vandal ');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stored = await f.server.documents.text(slug, 'rules', { id: owner.id, username: owner.username });
    expect(stored).toBe('by the host');
  });

  it('hostile frames never crash the server: answered or closed with a code', async () => {
    const { fixture: f, owner, slug } = await setup();
    const frames = [
      Buffer.from([]),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
      Buffer.from([0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      Buffer.from([0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]),
      Buffer.from([0, 2, 5, 9, 9, 9, 9, 9]),
      Buffer.from([1, 3, 1, 1, 1]),
      Buffer.from([9]),
      Buffer.from([0, 7, 0]),
    ];
    for (let i = 0; i < 60; i++)
      frames.push(Buffer.from(Array.from({ length: 1 + (i % 40) }, () => Math.floor(Math.random() * 256))));
    for (const frame of frames) {
      const socket = await rawSocket(docUrl(f, slug, 'fuzz', owner.access));
      await new Promise((resolve) => socket.ws.once('open', resolve));
      socket.ws.send(frame);
      socket.ws.send('{"type":"nope"}');
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.ws.close();
      const code = await socket.closed;
      expect(code).toBeGreaterThanOrEqual(1000);
    }
    // Still serving, and the document is not poisoned.
    const a = editor(f, slug, 'fuzz', owner.access);
    await a.synced();
    a.text.insert(0, 'alive');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stored = await f.server.documents.text(slug, 'fuzz', { id: owner.id, username: owner.username });
    expect(stored).toBe('alive');
  });

  it('REST: list, create, text, delete (host only; open sockets close with 4404)', async () => {
    const { fixture: f, owner, member, slug } = await setup();
    const created = await f.api.call('POST', `/api/rooms/${slug}/docs/`, {
      token: member.access,
      body: { name: 'minutes' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'minutes', read_only: false, size_bytes: 0 });
    const bad = await f.api.call('POST', `/api/rooms/${slug}/docs/`, {
      token: member.access,
      body: { name: '../x' },
    });
    expect(bad.status).toBe(400);
    const notHost = await f.api.call('POST', `/api/rooms/${slug}/docs/`, {
      token: member.access,
      body: { name: 'locked', read_only: true },
    });
    expect(notHost.status).toBe(403);
    const a = editor(f, slug, 'minutes', member.access);
    await a.synced();
    a.text.insert(0, 'agenda');
    await until(() => a.text.toString() === 'agenda');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const list = await f.api.call('GET', `/api/rooms/${slug}/docs/`, { token: owner.access });
    expect(list.body).toEqual([expect.objectContaining({ name: 'minutes', size_bytes: expect.any(Number) })]);
    expect(list.body[0].size_bytes).toBeGreaterThan(0);
    const text = await fetch(`${f.server.url}/api/rooms/${slug}/docs/minutes/text`, {
      headers: { authorization: `Bearer ${owner.access}` },
    });
    expect(await text.text()).toBe('agenda');
    const stranger = await f.signUp('stranger');
    expect((await f.api.call('GET', `/api/rooms/${slug}/docs/`, { token: stranger.access })).status).toBe(
      403,
    );
    expect(
      (await f.api.call('DELETE', `/api/rooms/${slug}/docs/minutes/`, { token: member.access })).status,
    ).toBe(403);
    const raw = await rawSocket(docUrl(f, slug, 'minutes', member.access));
    await new Promise((resolve) => raw.ws.once('open', resolve));
    expect(
      (await f.api.call('DELETE', `/api/rooms/${slug}/docs/minutes/`, { token: owner.access })).status,
    ).toBe(204);
    expect(await raw.closed).toBe(4404);
    expect(
      (await f.api.call('GET', `/api/rooms/${slug}/docs/minutes/text`, { token: owner.access })).status,
    ).toBe(404);
  });

  it('compaction under concurrent edits loses nothing', async () => {
    const { fixture: f, owner, member, slug } = await setup();
    const a = editor(f, slug, 'long', owner.access);
    const b = editor(f, slug, 'long', member.access);
    await Promise.all([a.synced(), b.synced()]);
    for (let i = 0; i < 700; i++) {
      (i % 2 ? a : b).text.insert(0, String(i % 10));
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await until(() => a.text.length === 700 && b.text.length === 700, 20_000, 'all edits');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const user = { id: owner.id, username: owner.username };
    const record = (await f.server.storage.documents.list((await f.server.storage.findRoom(slug))!.id))[0]!;
    expect(record.pendingUpdates).toBeLessThan(700);
    const stored = await f.server.documents.text(slug, 'long', user);
    expect(stored).toBe(a.text.toString());
    const fresh = new Y.Doc();
    Y.applyUpdate(fresh, await f.server.documents.state(record.id));
    expect(fresh.getText('content').toString()).toBe(b.text.toString());
  });
});
