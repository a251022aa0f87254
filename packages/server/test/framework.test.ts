import { createServer } from 'node:http';
import { connect as netConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TestClient } from '../src/testing/test-client.ts';
import { SECRET, startEchoServer, token } from './helpers.ts';

type Server = Awaited<ReturnType<typeof startEchoServer>>;
const servers: Server[] = [];
async function start(...args: Parameters<typeof startEchoServer>) {
  const server = await startEchoServer(...args);
  servers.push(server);
  return server;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function connect(server: Server, path = '/ws/echo/lobby/', query = '') {
  const client = await TestClient.connect(server.wsUrl(`${path}?token=${await token()}${query}`));
  await client.next('welcome');
  return client;
}

describe('routing and connect', () => {
  it('routes by path pattern and hands the consumer its params and principal', async () => {
    const server = await start();
    const client = await TestClient.connect(server.wsUrl(`/ws/echo/r%C3%A9union/?token=${await token()}`));
    expect(await client.next('welcome')).toEqual({
      type: 'welcome',
      user: 'alice',
      params: { room: 'réunion' },
    });
  });

  it('refuses an unknown path with CHANNEL_NOT_FOUND and 4404', async () => {
    const server = await start();
    const client = await TestClient.connect(server.wsUrl(`/ws/nothing/?token=${await token()}`));
    expect(await client.next('error')).toMatchObject({ code: 'CHANNEL_NOT_FOUND' });
    expect((await client.closed()).code).toBe(4404);
  });

  it('a consumer refusal in connect sends its error and close code', async () => {
    const server = await start();
    const client = await TestClient.connect(server.wsUrl(`/ws/echo/x/?token=${await token()}&deny=1`));
    expect(await client.next('error')).toEqual({
      type: 'error',
      code: 'PERMISSION_DENIED',
      error: 'Not for you.',
    });
    expect((await client.closed()).code).toBe(4403);
  });
});

describe('authentication', () => {
  const refusals: [string, () => Promise<string>][] = [
    ['missing token', async () => ''],
    ['garbage', async () => '?token=not.a.jwt'],
    ['expired', async () => `?token=${await token({ sub: 'a' }, { expiresIn: '-1m' })}`],
    [
      'forged signature',
      async () =>
        `?token=${await token({ sub: 'a' }, { key: new TextEncoder().encode('another-secret-another-secret-123') })}`,
    ],
    ['HS512 when HS256 is pinned', async () => `?token=${await token({ sub: 'a' }, { alg: 'HS512' })}`],
    [
      'alg none',
      async () => {
        const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        return `?token=${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub: 'a', exp: Math.floor(Date.now() / 1000) + 60 })}.`;
      },
    ],
    ['principal resolver says no', async () => `?token=${await token({ sub: 'nobody' })}`],
  ];
  for (const [name, query] of refusals) {
    it(`refuses ${name} with AUTHENTICATION_FAILED and 4401`, async () => {
      const server = await start();
      const client = await TestClient.connect(server.wsUrl(`/ws/echo/lobby/${await query()}`));
      expect(await client.next('error')).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
      expect((await client.closed()).code).toBe(4401);
    });
  }

  it('accepts Authorization: Bearer and the bearer subprotocol, never echoing the token', async () => {
    const server = await start();
    const viaHeader = await TestClient.connect(server.wsUrl('/ws/echo/a/'), {
      headers: { authorization: `Bearer ${await token()}` },
    });
    expect(await viaHeader.next('welcome')).toMatchObject({ user: 'alice' });
    const jwt = await token({ sub: 'bob' });
    const viaProtocol = await TestClient.connect(server.wsUrl('/ws/echo/a/'), { protocols: ['bearer', jwt] });
    expect(await viaProtocol.next('welcome')).toMatchObject({ user: 'bob' });
    expect(viaProtocol.socket.protocol).toBe('bearer');
  });

  it('accepts a cookie only from the own host or an allowed Origin', async () => {
    const server = await start();
    const cookie = `sb_access=${await token()}`;
    const evil = await TestClient.connect(server.wsUrl('/ws/echo/a/'), {
      headers: { cookie, origin: 'https://evil.example' },
    });
    expect(await evil.next('error')).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
    expect((await evil.closed()).code).toBe(4401);
    const noOrigin = await TestClient.connect(server.wsUrl('/ws/echo/a/'), { headers: { cookie } });
    expect((await noOrigin.closed()).code).toBe(4401);
    const good = await TestClient.connect(server.wsUrl('/ws/echo/a/'), {
      headers: { cookie, origin: 'https://app.example' },
    });
    expect(await good.next('welcome')).toMatchObject({ user: 'alice' });
    const sameHost = await TestClient.connect(server.wsUrl('/ws/echo/a/'), {
      headers: { cookie, origin: `http://127.0.0.1:${server.port}` },
    });
    expect(await sameHost.next('welcome')).toMatchObject({ user: 'alice' });
  });
});

describe('typed frames and bad input', () => {
  it('validates, hands the handler a typed message and acks the ref exactly once', async () => {
    const server = await start();
    const client = await connect(server);
    client.send({ type: 'echo', text: 'hi', ref: 'a1' });
    expect(await client.next('echo')).toEqual({ type: 'echo', text: 'hi', n: 1 });
    expect(await client.next('ack')).toEqual({ type: 'ack', ref: 'a1', n: 1 });
    client.send({ type: 'echo', text: 'no ref' });
    expect(await client.next('echo')).toMatchObject({ n: 2 });
    client.send({ type: 'ping', ref: 'p' });
    await client.next('ack');
    expect(client.frames.filter((f) => f.ref === 'a1')).toHaveLength(1);
    expect(client.frames.filter((f) => f.type === 'ack')).toHaveLength(2);
  });

  const badFrames: [string, string | Buffer, Record<string, unknown>][] = [
    ['invalid JSON', '{"type": "echo",', { code: 'INVALID_MESSAGE', error: 'Invalid JSON.' }],
    ['a JSON array', '[1,2]', { code: 'INVALID_MESSAGE', error: 'A frame must be a JSON object.' }],
    ['a JSON string', '"echo"', { code: 'INVALID_MESSAGE', error: 'A frame must be a JSON object.' }],
    ['null', 'null', { code: 'INVALID_MESSAGE' }],
    ['a missing type', '{"text":"x","ref":"r"}', { code: 'INVALID_MESSAGE', field: 'type', ref: 'r' }],
    ['an unknown type', '{"type":"nope","ref":"r"}', { code: 'INVALID_MESSAGE', field: 'type', ref: 'r' }],
    ['a prototype key as type', '{"type":"constructor"}', { code: 'INVALID_MESSAGE', field: 'type' }],
    ['a missing field', '{"type":"echo","ref":"r"}', { code: 'INVALID_MESSAGE', field: 'text', ref: 'r' }],
    ['a wrong-typed field', '{"type":"echo","text":5}', { code: 'INVALID_MESSAGE', field: 'text' }],
    [
      'an extra field',
      '{"type":"echo","text":"x","admin":true}',
      { code: 'INVALID_MESSAGE', field: 'admin' },
    ],
    [
      'deeply nested JSON',
      `{"type":"echo","text":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      { code: 'INVALID_MESSAGE' },
    ],
    ['a binary frame', Buffer.from([1, 2, 3]), { code: 'INVALID_MESSAGE' }],
  ];
  for (const [name, frame, expected] of badFrames) {
    it(`answers ${name} with an error frame and keeps the connection`, async () => {
      const server = await start();
      const client = await connect(server);
      if (Buffer.isBuffer(frame)) client.socket.send(frame, { binary: true });
      else client.send(frame);
      expect(await client.next('error')).toMatchObject(expected);
      client.send({ type: 'echo', text: 'still here', ref: 'ok' });
      expect(await client.next('ack')).toMatchObject({ ref: 'ok' });
    });
  }

  it('closes an oversized frame with 1009 and keeps serving others', async () => {
    const server = await start({ maxPayloadBytes: 1024 });
    const bystander = await connect(server);
    const client = await connect(server);
    client.send({ type: 'echo', text: 'x'.repeat(2000) });
    expect((await client.closed()).code).toBe(1009);
    expect(await bystander.request({ type: 'echo', text: 'fine' })).toMatchObject({ type: 'ack' });
  });

  it('closes invalid UTF-8 with 1007', async () => {
    const server = await start();
    const client = await connect(server);
    client.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await client.closed()).code).toBe(1007);
  });

  it('a handler that throws gets a generic error; the connection stays open', async () => {
    const server = await start();
    const client = await connect(server);
    expect(await client.request({ type: 'boom' })).toMatchObject({
      type: 'error',
      code: 'INTERNAL_ERROR',
      error: 'Internal server error.',
    });
    expect(await client.request({ type: 'refuse' })).toMatchObject({
      code: 'PERMISSION_DENIED',
      error: 'Not yours to change.',
    });
    expect(await client.request({ type: 'echo', text: 'after' })).toMatchObject({ type: 'ack' });
  });
});

describe('ordering and concurrency', () => {
  it('handles one connection’s frames in arrival order, even behind a slow handler', async () => {
    const server = await start();
    const client = await connect(server);
    client.send({ type: 'slow', ms: 150 });
    for (let i = 0; i < 20; i++) client.send({ type: 'echo', text: String(i) });
    await client.next('slept');
    const echoes = [];
    for (let i = 0; i < 20; i++) echoes.push((await client.next('echo')).text);
    expect(echoes).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    const firstEcho = client.frames.findIndex((f) => f.type === 'echo');
    expect(client.frames.findIndex((f) => f.type === 'slept')).toBeLessThan(firstEcho);
  });

  it('a slow handler on one connection does not hold up another', async () => {
    const server = await start();
    const slow = await connect(server);
    const fast = await connect(server);
    slow.send({ type: 'slow', ms: 1500 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await fast.request({ type: 'echo', text: 'quick' })).toMatchObject({ type: 'ack' });
    expect(slow.frames.some((f) => f.type === 'slept')).toBe(false);
  });
});

describe('groups and the channel layer', () => {
  it('broadcasts to group members only, and from outside any connection', async () => {
    const server = await start();
    const [a, b, outsider] = [await connect(server), await connect(server), await connect(server)];
    await a.request({ type: 'join', group: 'g1' });
    await b.request({ type: 'join', group: 'g1' });
    a.send({ type: 'shout', group: 'g1', text: 'hello' });
    for (const c of [a, b])
      expect(await c.next('shouted')).toEqual({ type: 'shouted', text: 'hello', from: 'alice' });
    await server.app.layer.groupSend('g1', { type: 'shouted', text: 'from a timer', from: 'system' });
    for (const c of [a, b]) expect(await c.next('shouted')).toMatchObject({ text: 'from a timer' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(outsider.frames.some((f) => f.type === 'shouted')).toBe(false);
  });

  it('routes layer events to event handlers, and leaves groups on disconnect', async () => {
    const server = await start();
    const a = await connect(server);
    const b = await connect(server);
    await a.request({ type: 'join', group: 'g2' });
    await b.request({ type: 'join', group: 'g2' });
    await server.app.layer.groupSend('g2', { type: 'direct.note', body: 'via handler' });
    expect(await a.next('note')).toEqual({ type: 'note', body: 'via handler' });
    await b.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = server.app.layer.stats();
    await server.app.layer.groupSend('g2', { type: 'shouted', text: 'after leave', from: 'x' });
    expect(await a.next('shouted')).toMatchObject({ text: 'after leave' });
    expect(server.app.layer.stats()).toEqual(before);
  });
});

describe('limits', () => {
  it('refuses frames over the rate with RATE_LIMIT_EXCEEDED and retry_after, per bucket', async () => {
    const server = await start();
    const client = await connect(server);
    for (let i = 0; i < 3; i++) expect(await client.request({ type: 'ping' })).toMatchObject({ type: 'ack' });
    const refused = await client.request({ type: 'ping' });
    expect(refused).toMatchObject({ type: 'error', code: 'RATE_LIMIT_EXCEEDED' });
    expect(refused.retry_after).toBeGreaterThanOrEqual(1);
    expect(refused.retry_after).toBeLessThanOrEqual(60);
    // the default bucket is separate
    expect(await client.request({ type: 'echo', text: 'x' })).toMatchObject({ type: 'ack' });
  });

  it('counts the default bucket per user across connections, then closes a client that ignores it', async () => {
    const server = await start({ rate: { limit: 5, windowSeconds: 60 } });
    const one = await connect(server);
    const two = await connect(server);
    for (let i = 0; i < 5; i++) await (i % 2 ? one : two).request({ type: 'echo', text: String(i) });
    expect(await one.request({ type: 'echo', text: 'over' })).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    for (let i = 0; i < 8; i++) two.send({ type: 'echo', text: 'flood' });
    expect((await two.closed()).code).toBe(4429);
  });

  it('closes a slow consumer with 1013 instead of buffering without bound', async () => {
    const server = await start({ maxBufferedBytes: 256 * 1024 });
    const reader = await connect(server);
    const stalled = await connect(server);
    await reader.request({ type: 'join', group: 'firehose' });
    await stalled.request({ type: 'join', group: 'firehose' });
    stalled.socket.pause();
    // Enough to fill the kernel's socket buffers too (several MiB on loopback), bounded in count.
    const text = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 3000 && server.app.connectionCount === 2; i++) {
      await server.app.layer.groupSend('firehose', { type: 'shouted', text, from: 'load' });
      if (i % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    stalled.socket.resume();
    const closed = await stalled.closed(6000);
    expect([1013, 1006]).toContain(closed.code);
    for (let i = 0; i < 100 && server.app.connectionCount > 1; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(server.app.connectionCount).toBe(1);
    const metrics = await server.app.metrics.registry.metrics();
    expect(metrics).toMatch(/websocket_slow_consumer_closes_total 1/);
    expect(await reader.request({ type: 'echo', text: 'alive' })).toMatchObject({ type: 'ack' });
  });

  it('whenWritable paces a long send to a slow reader instead of tripping the bound', async () => {
    const server = await start({ maxBufferedBytes: 256 * 1024 });
    const client = await connect(server);
    client.socket.pause();
    client.send({ type: 'flood', count: 3000, ref: 'f' });
    // ~12 MiB for a reader that reads nothing: without pacing the bound closes it at once.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(server.app.connectionCount).toBe(1);
    client.socket.resume();
    expect(await client.next((f) => f.ref === 'f', 15_000)).toMatchObject({ type: 'ack', sent: 3000 });
    expect(client.frames.filter((f) => f.type === 'chunk')).toHaveLength(3000);
    const metrics = await server.app.metrics.registry.metrics();
    expect(metrics).toMatch(/websocket_slow_consumer_closes_total 0/);
  });

  it('cuts off a peer that stops answering pings within two intervals', async () => {
    const server = await start({ heartbeatSeconds: 0.2 });
    const client = await connect(server);
    // A paused socket reads nothing, so it answers no ping: the server must give up on it.
    client.socket.pause();
    const started = Date.now();
    while (server.app.connectionCount > 0 && Date.now() - started < 3000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(server.app.connectionCount).toBe(0);
  });

  it('keeps a live peer through many heartbeats and closes an idle one with 4408', async () => {
    const server = await start({ heartbeatSeconds: 0.1, idleTimeoutSeconds: 0.6 });
    const client = await connect(server);
    const chatty = await connect(server);
    const until = Date.now() + 900;
    while (Date.now() < until) {
      chatty.send({ type: 'echo', text: '.' });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await client.closed()).code).toBe(4408);
    expect(chatty.isOpen).toBe(true);
  });
});

describe('shutdown', () => {
  it('closes every socket with 1001 after in-flight handlers finish, and refuses new upgrades', async () => {
    const server = await startEchoServer();
    const client = await connect(server);
    client.send({ type: 'slow', ms: 200, ref: 's' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const closing = server.app.close();
    expect(await client.next('slept')).toEqual({ type: 'slept', ms: 200 });
    expect(await client.next('ack')).toMatchObject({ ref: 's' });
    expect((await client.closed()).code).toBe(1001);
    await closing;
    await expect(TestClient.connect(server.wsUrl(`/ws/echo/a/?token=${await token()}`))).rejects.toThrow(
      /503/,
    );
    await server.close();
  });
});

describe('metrics', () => {
  it('exposes the documented metrics and counts what happened', async () => {
    const server = await start();
    const client = await connect(server);
    await client.request({ type: 'echo', text: 'm' });
    client.send('not json');
    await client.next('error');
    const text = await server.app.metrics.registry.metrics();
    expect(text).toMatch(/websocket_connections_total 1/);
    expect(text).toMatch(/websocket_messages_total\{type="echo"\} 1/);
    expect(text).toMatch(/websocket_messages_total\{type="invalid"\} 1/);
    expect(text).toMatch(/websocket_message_latency_seconds_count\{type="echo"\} 1/);
    expect(text).toMatch(/websocket_open_connections 1/);
    expect(text).toMatch(/websocket_error_frames_total\{code="INVALID_MESSAGE"\} 1/);
    expect(text).toMatch(/channel_layer_dropped_over_capacity 0/);
  });
});

describe('attaching to a plain http.Server', () => {
  it('leaves non-WebSocket requests to the server', async () => {
    const http = createServer((_req, res) => res.end('plain http'));
    const { Switchboard } = await import('../src/app/switchboard.ts');
    const { serve } = await import('../src/testing/serve.ts');
    const { pino } = await import('pino');
    const served = await serve(new Switchboard({ logger: pino({ level: 'silent' }) }), http);
    const body = await (await fetch(`http://127.0.0.1:${served.port}/`)).text();
    expect(body).toBe('plain http');
    const ws = new WebSocket(served.wsUrl('/nowhere'));
    const code = await new Promise((resolve) => ws.on('close', resolve));
    expect(code).toBe(4404);
    await served.close();
    void SECRET;
  });
});

/** Sends raw bytes to the server and resolves with what it answered before closing (bounded). */
function rawExchange(port: number, request: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(answer);
    }, timeoutMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', reject);
  });
}

const upgradeHeaders =
  'Host: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

describe('hostile upgrades', () => {
  it('treats an origin-form target that looks like a host as a path, and refuses it over the socket', async () => {
    const server = await start();
    const answer = await rawExchange(server.port, `GET //[x HTTP/1.1\r\n${upgradeHeaders}`);
    expect(answer).toMatch(/^HTTP\/1\.1 101 /);
    expect(answer).toContain('"code":"AUTHENTICATION_FAILED"');
    expect(await (await connect(server)).request({ type: 'echo', text: 'alive' })).toMatchObject({
      type: 'ack',
    });
  });

  for (const target of ['http://a:99999/ws/echo/x/', '*', 'ftp://a/ws/echo/x/', 'http://[::1/']) {
    it(`answers the request target ${JSON.stringify(target)} with 400 and keeps serving`, async () => {
      const server = await start();
      const answer = await rawExchange(server.port, `GET ${target} HTTP/1.1\r\n${upgradeHeaders}`);
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(await (await connect(server)).request({ type: 'echo', text: 'alive' })).toMatchObject({
        type: 'ack',
      });
    });
  }

  it('routes an absolute-form target by its path', async () => {
    const server = await start();
    const answer = await rawExchange(
      server.port,
      `GET http://a/ws/echo/abs/?token=${await token()} HTTP/1.1\r\n${upgradeHeaders}`,
      500,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 101 /);
    expect(answer).toContain('"room":"abs"');
  });

  it('accepts the bearer scheme in any case and refuses a malformed cookie as unauthenticated', async () => {
    const server = await start();
    const lower = await TestClient.connect(server.wsUrl('/ws/echo/x/'), {
      headers: { authorization: `bearer ${await token()}` },
    });
    expect(await lower.next('welcome')).toMatchObject({ user: 'alice' });
    const cookie = await TestClient.connect(server.wsUrl('/ws/echo/x/'), {
      headers: { cookie: 'sb_access=%E0%A4%A', origin: 'https://app.example' },
    });
    expect(await cookie.next('error')).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
    expect((await cookie.closed()).code).toBe(4401);
  });
});

describe('refused frames', () => {
  it('answers the ref of a frame that is too deep or not JSON', async () => {
    const server = await start();
    const client = await connect(server);
    client.send(`{"type":"echo","ref":"deep","text":${'['.repeat(100)}${']'.repeat(100)}}`);
    expect(await client.next('error')).toMatchObject({ ref: 'deep', code: 'INVALID_MESSAGE' });
    client.send('{"type":"echo","ref":"broken","text":');
    expect(await client.next('error')).toMatchObject({ ref: 'broken', code: 'INVALID_MESSAGE' });
  });

  it('refuses a lone surrogate instead of acking text it cannot store', async () => {
    const server = await start();
    const client = await connect(server);
    client.send('{"type":"echo","ref":"s","text":"a\\ud800b"}');
    expect(await client.next('error')).toMatchObject({ ref: 's', code: 'INVALID_MESSAGE', field: 'text' });
    client.send('{"type":"echo","ref":"pair","text":"\\ud83d\\ude00"}');
    expect(await client.next('ack')).toMatchObject({ ref: 'pair' });
  });

  it('closes a connection that keeps sending invalid frames with 4429', async () => {
    const server = await start({ invalidFrames: { limit: 5, windowSeconds: 60 } });
    const bystander = await connect(server);
    const client = await connect(server);
    for (let i = 0; i < 5; i++) client.send(`{"ref":"r${i}", not json`);
    for (let i = 0; i < 5; i++) expect(await client.next('error')).toMatchObject({ ref: `r${i}` });
    client.send('{"type":"nope"}');
    expect((await client.closed()).code).toBe(4429);
    expect(await bystander.request({ type: 'echo', text: 'fine' })).toMatchObject({ type: 'ack' });
  });
});

describe('resources per principal', () => {
  it('refuses a connection over the per-principal cap with 4429 and frees the slot on close', async () => {
    const server = await start({ maxConnectionsPerPrincipal: 2 });
    const first = await connect(server);
    await connect(server);
    const third = await TestClient.connect(server.wsUrl(`/ws/echo/x/?token=${await token()}`));
    expect(await third.next('error')).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    expect((await third.closed()).code).toBe(4429);
    const other = await TestClient.connect(server.wsUrl(`/ws/echo/x/?token=${await token({ sub: 'bob' })}`));
    expect(await other.next('welcome')).toMatchObject({ user: 'bob' });
    first.socket.close();
    await first.closed();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await (await connect(server)).request({ type: 'echo', text: 'again' })).toMatchObject({
      type: 'ack',
    });
  });
});

describe('batched frames', () => {
  it('handles each inner frame in order as if sent alone, each with its own answer, then acks the batch', async () => {
    const server = await start();
    const client = await connect(server);
    client.send({
      type: 'batch',
      ref: 'b1',
      frames: [
        { type: 'echo', text: 'one', ref: 'e1' },
        { type: 'echo', text: 5, ref: 'bad' },
        { type: 'nope', ref: 'unknown' },
        { type: 'batch', frames: [{ type: 'echo', text: 'x' }], ref: 'nested' },
        { type: 'echo', text: 'two', ref: 'e2' },
      ],
    });
    expect(await client.next('echo')).toMatchObject({ text: 'one', n: 1 });
    expect(await client.next('ack')).toMatchObject({ ref: 'e1', n: 1 });
    expect(await client.next('error')).toMatchObject({ ref: 'bad', code: 'INVALID_MESSAGE', field: 'text' });
    expect(await client.next('error')).toMatchObject({ ref: 'unknown', code: 'INVALID_MESSAGE' });
    expect(await client.next('error')).toMatchObject({ ref: 'nested', code: 'INVALID_MESSAGE' });
    expect(await client.next('echo')).toMatchObject({ text: 'two', n: 2 });
    expect(await client.next('ack')).toMatchObject({ ref: 'e2', n: 2 });
    expect(await client.next('ack')).toMatchObject({ ref: 'b1', count: 5 });
  });

  it('counts every inner frame against the rate limit, and refuses an oversized batch whole', async () => {
    const server = await start();
    const client = await connect(server);
    // `ping` allows 3 per minute: the fourth inner ping is refused, the others answered.
    client.send({
      type: 'batch',
      frames: Array.from({ length: 4 }, (_, i) => ({ type: 'ping', ref: `p${i}` })),
    });
    for (let i = 0; i < 3; i++) expect(await client.next('ack')).toMatchObject({ ref: `p${i}`, pong: true });
    expect(await client.next('error')).toMatchObject({ ref: 'p3', code: 'RATE_LIMIT_EXCEEDED' });
    const tooMany = Array.from({ length: 33 }, () => ({ type: 'echo', text: 'x' }));
    client.send({ type: 'batch', frames: tooMany, ref: 'big' });
    expect(await client.next('error')).toMatchObject({
      ref: 'big',
      code: 'INVALID_MESSAGE',
      field: 'frames',
    });
    expect(await client.request({ type: 'echo', text: 'still here' })).toMatchObject({ type: 'ack' });
  });
});
