/**
 * Limits and operations of the chat server: the per-user rate limit (default and configured), the
 * configured message length, configuration from the environment, and /metrics, /healthz, /readyz.
 */

import { rmSync } from 'node:fs';
import type { Frame } from '@switchboard/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { ChatFixture, tempDataDir as newDataDir, testEnv } from './support/chat-fixture.ts';

/** Default limits, as a fresh `npm start` has them. */
let standard: ChatFixture;
/** WS_RATE_LIMIT=3, MAX_MESSAGE_LENGTH=10. */
let tight: ChatFixture;

beforeAll(async () => {
  [standard, tight] = await Promise.all([
    ChatFixture.start(),
    ChatFixture.start({ WS_RATE_LIMIT: '3', MAX_MESSAGE_LENGTH: '10' }),
  ]);
});

/** Data directories of the configuration tests, removed at the end. */
const dataDirs: string[] = [];
function tempDataDir(): string {
  const dir = newDataDir();
  dataDirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all([standard?.close(), tight?.close()]);
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe('rate limit', () => {
  it('refuses the 61st message in a minute with RATE_LIMIT_EXCEEDED and retry_after', async () => {
    const user = await standard.signUp('chatty');
    const slug = await standard.room(user);
    const client = await standard.enter(user, slug);
    for (let i = 1; i <= 60; i++) {
      expect(await client.request({ type: 'chat_message', message: `message ${i}` })).toMatchObject({
        type: 'ack',
        seq: i,
      });
    }
    const refused = await client.request({ type: 'chat_message', message: 'one too many' });
    expect(refused).toMatchObject({
      type: 'error',
      code: 'RATE_LIMIT_EXCEEDED',
      error: expect.any(String),
      retry_after: expect.any(Number),
    });
    expect(refused.retry_after).toBeGreaterThan(0);
    expect(refused.retry_after).toBeLessThanOrEqual(60);
    const { messages } = await standard.api.history(user, slug);
    expect(messages).toHaveLength(60);
    expect(messages.map((m) => m.content)).not.toContain('one too many');
  });

  it('honours WS_RATE_LIMIT, limits each user on their own, and stores nothing refused', async () => {
    const [noisy, quiet] = [await tight.signUp('noisy'), await tight.signUp('quiet')];
    const slug = await tight.room(noisy, [quiet]);
    const [loud, calm] = await Promise.all([tight.enter(noisy, slug), tight.enter(quiet, slug)]);

    for (let i = 0; i < 3; i++) {
      expect(await loud.request({ type: 'chat_message', message: `hi ${i}` })).toMatchObject({ type: 'ack' });
    }
    const refused = await loud.request({ type: 'chat_message', message: 'hi 4' });
    expect(refused).toMatchObject({ type: 'error', code: 'RATE_LIMIT_EXCEEDED' });
    expect(refused.retry_after).toBeGreaterThan(0);
    // Edits draw on the same allowance.
    expect(await loud.request({ type: 'edit_message', message_id: 1, new_content: 'changed' })).toMatchObject(
      { code: 'RATE_LIMIT_EXCEEDED' },
    );

    expect(await calm.request({ type: 'chat_message', message: 'my turn' })).toMatchObject({ type: 'ack' });
    const { messages } = await tight.api.history(quiet, slug);
    expect(messages.map((m) => m.content)).toEqual(['my turn', 'hi 2', 'hi 1', 'hi 0']);
  });

  it('lets go of a client that keeps sending after being refused (close 4429)', async () => {
    const user = await tight.signUp('flood');
    const slug = await tight.room(user);
    const client = await tight.enter(user, slug);
    for (let i = 0; i < 10; i++) client.send({ type: 'chat_message', message: `flood ${i}`, ref: `f${i}` });
    expect((await client.closed()).code).toBe(4429);
    const refusals = client.frames.filter((f: Frame) => f.code === 'RATE_LIMIT_EXCEEDED');
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect((await tight.api.history(user, slug)).messages).toHaveLength(3);
  });
});

describe('MAX_MESSAGE_LENGTH', () => {
  it('is honoured in code points, with its number in the error text', async () => {
    const user = await tight.signUp('brief');
    const slug = await tight.room(user);
    const client = await tight.enter(user, slug);
    expect(await client.request({ type: 'chat_message', message: '🙂'.repeat(10) })).toMatchObject({
      type: 'ack',
    });
    expect(await client.request({ type: 'chat_message', message: 'x'.repeat(11) })).toMatchObject({
      type: 'error',
      code: 'MESSAGE_TOO_LARGE',
      error: 'Message exceeds 10 characters.',
    });
  });

  it('is published to clients in GET /api/me/', async () => {
    const user = await tight.signUp('curious');
    const me = await tight.api.call('GET', '/api/me/', { token: user.access });
    expect(me).toMatchObject({ status: 200, body: { limits: { max_message_length: 10 } } });
  });
});

describe('configuration from the environment', () => {
  it('has the documented defaults (60 messages a minute, 1 MiB frames, 500 characters)', () => {
    const config = loadConfig({ DATA_DIR: tempDataDir(), JWT_SECRET: 'k'.repeat(32) });
    expect(config).toMatchObject({
      port: 8000,
      host: '127.0.0.1',
      rate: { limit: 60, windowSeconds: 60 },
      maxPayloadBytes: 1024 * 1024,
      maxMessageLength: 500,
      idleTimeoutSeconds: 3600,
      databaseUrl: undefined,
      redisUrl: undefined,
    });
  });

  it('reads every limit it is given', () => {
    const config = loadConfig(
      testEnv(tempDataDir(), {
        PORT: '9100',
        WS_RATE_LIMIT: '7',
        WS_RATE_WINDOW_SECONDS: '10',
        WS_MAX_PAYLOAD_BYTES: '2048',
        MAX_MESSAGE_LENGTH: '42',
      }),
    );
    expect(config).toMatchObject({
      port: 9100,
      rate: { limit: 7, windowSeconds: 10 },
      maxPayloadBytes: 2048,
      maxMessageLength: 42,
    });
  });

  it('generates a development secret once and keeps it in DATA_DIR', () => {
    const dataDir = tempDataDir();
    const first = loadConfig({ DATA_DIR: dataDir });
    const second = loadConfig({ DATA_DIR: dataDir });
    expect(first.jwtSecretGenerated).toBe(true);
    expect(first.jwtSecret.byteLength).toBeGreaterThanOrEqual(32);
    expect(Buffer.from(second.jwtSecret).equals(Buffer.from(first.jwtSecret))).toBe(true);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'http://localhost'],
    ['JWT_SECRET', 'too-short'],
    ['LOG_LEVEL', 'loud'],
    ['WS_RATE_LIMIT', '0'],
    ['MAX_MESSAGE_LENGTH', 'many'],
  ])('refuses %s=%s with an error naming the variable', (name, value) => {
    const load = () => loadConfig(testEnv(tempDataDir(), { [name]: value }));
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new RegExp(`\\b${name}\\b`));
  });
});

describe('metrics and health over HTTP', () => {
  it('exposes the WebSocket metrics in Prometheus format', async () => {
    const user = await standard.signUp('metered');
    const slug = await standard.room(user);
    const client = await standard.enter(user, slug);
    expect(await client.request({ type: 'chat_message', message: 'count me' })).toMatchObject({
      type: 'ack',
    });
    client.send({ type: 'make_admin' });
    await client.next('error');

    const response = await fetch(`${standard.server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };

    expect(value('websocket_connections_total')).toBeGreaterThanOrEqual(1);
    expect(value('websocket_messages_total{type="chat_message"}')).toBeGreaterThanOrEqual(1);
    expect(value('websocket_messages_total{type="invalid"}')).toBeGreaterThanOrEqual(1);
    expect(value('websocket_message_latency_seconds_count{type="chat_message"}')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^websocket_message_latency_seconds_bucket\{le="[^"]+",type="chat_message"\} \d+/m);
    expect(value('websocket_open_connections')).toBeGreaterThanOrEqual(1);
    expect(value('channel_layer_dropped_over_capacity')).toBe(0);
    expect(value('websocket_slow_consumer_closes_total')).toBe(0);
    expect(text).toMatch(/^websocket_rate_limited_total \d+$/m);
    // A client-chosen type never becomes a label of its own.
    expect(text).not.toContain('make_admin');
  });

  it('counts rate-limit refusals', async () => {
    const user = await tight.signUp('counted');
    const slug = await tight.room(user);
    const client = await tight.enter(user, slug);
    for (let i = 0; i < 4; i++) await client.request({ type: 'chat_message', message: `m${i}` });
    const text = await (await fetch(`${tight.server.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('websocket_rate_limited_total '));
    expect(Number(line?.split(' ')[1])).toBeGreaterThanOrEqual(1);
  });

  it('answers /healthz and /readyz with 200', async () => {
    const health = await fetch(`${standard.server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${standard.server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { storage: true, layer: true } });
  });
});
