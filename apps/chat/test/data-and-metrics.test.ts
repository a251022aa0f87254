/**
 * What the server leaves on disk is private to its user (directories 0700, files 0600), and
 * /metrics can be closed to the public: a bearer token (METRICS_TOKEN), its own port (METRICS_PORT).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ChatServer, startChatServer } from '../src/chat-server.ts';
import { loadConfig } from '../src/config.ts';
import { ChatApi } from './support/chat-api.ts';
import { ChatFixture, testEnv } from './support/chat-fixture.ts';

const mode = (path: string) => statSync(path).mode & 0o777;
const METRICS_TOKEN = 'metrics-token-'.padEnd(40, 'm');

describe('data files', () => {
  let server: ChatServer | undefined;
  let parent: string | undefined;
  afterEach(async () => {
    await server?.close();
    if (parent) rmSync(parent, { recursive: true, force: true });
    server = parent = undefined;
  });

  it('creates the data directory 0700 and the database, keys and uploaded files 0600', async () => {
    parent = mkdtempSync(join(tmpdir(), 'sb-modes-'));
    const dataDir = join(parent, 'data');
    // No JWT_SECRET: the generated development secret is written too.
    const { JWT_SECRET: _, ...env } = testEnv(dataDir);
    server = await startChatServer(loadConfig(env));
    const api = new ChatApi(server.url);
    const alice = await api.signUp('alice');
    const slug = await api.createRoom(alice);
    expect((await api.upload(alice, slug, randomBytes(100))).status).toBe(201);

    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, 'files'))).toBe(0o700);
    expect(mode(join(dataDir, 'files', '.partial'))).toBe(0o700);
    const files = readdirSync(dataDir);
    expect(files).toEqual(
      expect.arrayContaining(['switchboard.sqlite', 'switchboard.sqlite-wal', 'jwt-secret']),
    );
    for (const file of files.filter((name) => name !== 'files'))
      expect([file, mode(join(dataDir, file))]).toEqual([file, 0o600]);
    const shards = readdirSync(join(dataDir, 'files')).filter((name) => name !== '.partial');
    expect(shards).toHaveLength(1);
    const shard = join(dataDir, 'files', shards[0]!);
    expect(mode(shard)).toBe(0o700);
    for (const file of readdirSync(shard)) expect(mode(join(shard, file))).toBe(0o600);
  });
});

describe('/metrics', () => {
  let chat: ChatFixture | undefined;
  afterEach(async () => {
    await chat?.close();
    chat = undefined;
  });

  const scrape = (url: string, token?: string) =>
    fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('is open by default', async () => {
    chat = await ChatFixture.start();
    const answer = await scrape(`${chat.server.url}/metrics`);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('process_cpu_seconds_total');
  });

  it('requires the bearer METRICS_TOKEN when it is set', async () => {
    chat = await ChatFixture.start({ METRICS_TOKEN });
    const url = `${chat.server.url}/metrics`;
    const none = await scrape(url);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
    expect((await scrape(url, `${METRICS_TOKEN.slice(0, -1)}x`)).status).toBe(401);
    expect((await scrape(url, 'short')).status).toBe(401);
    const granted = await scrape(url, METRICS_TOKEN);
    expect(granted.status).toBe(200);
    expect(await granted.text()).toContain('process_cpu_seconds_total');
  });

  it('moves to METRICS_PORT, off the app port, with the token still required', async () => {
    chat = await ChatFixture.start({ METRICS_PORT: '0', METRICS_TOKEN });
    const metricsUrl = chat.server.metricsUrl!;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(metricsUrl).not.toBe(`${chat.server.url}/metrics`);
    expect((await scrape(`${chat.server.url}/metrics`, METRICS_TOKEN)).status).toBe(404);
    expect((await scrape(metricsUrl)).status).toBe(401);
    expect((await scrape(metricsUrl, METRICS_TOKEN)).status).toBe(200);
  });
});
