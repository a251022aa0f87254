/**
 * The attacker at the door: malformed WebSocket upgrade requests written byte by byte over raw
 * TCP, first a table of named cases, then seeded random mutations of valid handshakes. After every
 * request the process must still be running and /healthz must answer 200, and the answer must be
 * a proper refusal (an HTTP 4xx, or a 101 followed by an error frame with a documented code and a
 * 44xx close) or, where the request is in fact acceptable, a working socket. Never a 5xx, a 1011,
 * a silent close, or a hang.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatUser } from '../support/chat-api.ts';
import { forgedTokens, fuzzSeed, isAcceptableCode, Prng, Tally, Target } from './support/attack-kit.ts';
import { handshakeHeaders, type RawAnswer, rawExchange, upgradeRequest } from './support/raw-http.ts';

/** Generous for a loaded CI machine, short enough that a hang fails fast. */
const CASE_TIMEOUT_MS = 10_000;
const GENERATED_TARGETS = 150;
const GENERATED_HEADERS = 250;

/** The first frame each endpoint sends to an accepted socket. */
const WELCOME: Record<string, string> = {
  chat: 'synced',
  notifications: 'unread_count',
  status: 'status_snapshot',
};

type Verdict =
  | { kind: 'http'; status: number }
  | { kind: 'refused'; code: string; close: number }
  | { kind: 'open'; welcome: string }
  | { kind: 'bad'; why: string };

/** What a case may get back. `refused` is any proper refusal; `either` also allows a working socket. */
type Expected =
  | 'refused'
  | 'either'
  | 'open'
  | { http: number }
  | { close: number; code: string }
  /** A body sent after the headers is read as WebSocket frames: a 1002 close is the right answer too. */
  | 'either-or-protocol-error';

interface Case {
  name: string;
  request: string | Buffer;
  expected: Expected;
}

const tally = new Tally();
let target: Target;
let alice: ChatUser;
let publicRoom: string;
let privateRoom: string;
let forged: Record<string, string>;

beforeAll(async () => {
  target = await Target.start({ WS_RATE_LIMIT: '100000', AUTH_RATE_LIMIT: '100000' });
  alice = await target.api.signUp('alice');
  const bob = await target.api.signUp('bob');
  publicRoom = await target.api.createRoom(alice);
  privateRoom = await target.api.createRoom(bob, { private: true });
  forged = await forgedTokens(alice);
});

afterAll(async () => {
  tally.print('upgrade', 'upgrade cases');
  await target?.stop();
});

/** Reads a raw answer the way a browser would see it. */
function verdictOf(answer: RawAnswer): Verdict {
  switch (answer.kind) {
    case 'timeout':
      return { kind: 'bad', why: `no answer within ${CASE_TIMEOUT_MS} ms (got ${answer.received})` };
    case 'closed':
      return { kind: 'bad', why: `closed without an HTTP answer (got ${answer.received})` };
    case 'http':
      if (answer.status >= 400 && answer.status < 500) return { kind: 'http', status: answer.status };
      return { kind: 'bad', why: `HTTP ${answer.status} ${answer.body.slice(0, 200)}` };
    case 'websocket': {
      const first = answer.frames[0];
      let frame: { type?: unknown; code?: unknown } | undefined;
      try {
        frame = first && first.opcode === 1 ? JSON.parse(first.payload.toString('utf8')) : undefined;
      } catch {
        frame = undefined;
      }
      if (frame?.type === 'error') {
        if (!isAcceptableCode(frame.code)) return { kind: 'bad', why: `error code ${String(frame.code)}` };
        if (answer.close === undefined || answer.close < 4400 || answer.close > 4499) {
          return { kind: 'bad', why: `error ${String(frame.code)} then close ${answer.close}` };
        }
        return { kind: 'refused', code: String(frame.code), close: answer.close };
      }
      if (typeof frame?.type === 'string' && Object.values(WELCOME).includes(frame.type)) {
        return { kind: 'open', welcome: frame.type };
      }
      return {
        kind: 'bad',
        why: `101, then ${answer.frames.length} frame(s) (first ${first?.payload.toString('utf8').slice(0, 100)}), close ${answer.close}`,
      };
    }
  }
}

function meets(verdict: Verdict, expected: Expected): boolean {
  if (verdict.kind === 'bad') return false;
  const refused = verdict.kind === 'http' || verdict.kind === 'refused';
  if (expected === 'refused') return refused;
  if (expected === 'either' || expected === 'either-or-protocol-error') return true;
  if (expected === 'open') return verdict.kind === 'open';
  if ('http' in expected) return verdict.kind === 'http' && verdict.status === expected.http;
  return verdict.kind === 'refused' && verdict.close === expected.close && verdict.code === expected.code;
}

/** Sends one case, then checks the answer and that the process survived it. */
async function attempt(c: Case, kind: string): Promise<string | null> {
  tally.add(kind);
  const answer = await rawExchange(target.port, c.request, {
    timeoutMs: CASE_TIMEOUT_MS,
    // An accepted socket sends its welcome and then nothing: that is enough to judge it.
    enough: (frames) => frames.length > 0 && !frames[0]!.payload.toString('utf8').includes('"type":"error"'),
  });
  let verdict = verdictOf(answer);
  if (
    c.expected === 'either-or-protocol-error' &&
    answer.kind === 'websocket' &&
    (answer.close === 1002 || answer.close === 1007)
  ) {
    verdict = { kind: 'refused', code: 'PROTOCOL_ERROR', close: answer.close };
  }
  try {
    await target.assertAlive(`upgrade case "${c.name}"`);
  } catch (error) {
    return String(error);
  }
  if (!meets(verdict, c.expected)) {
    return `"${c.name}": expected ${JSON.stringify(c.expected)}, got ${JSON.stringify(verdict)}`;
  }
  return null;
}

async function attemptAll(cases: Case[], kind: string, seed?: number): Promise<void> {
  const failures: string[] = [];
  for (const c of cases) {
    const failure = await attempt(c, kind);
    if (failure) failures.push(failure);
    // A dead process fails every later case for the same reason: report the first and stop.
    if (await target.exit()) break;
  }
  const replay = seed === undefined ? '' : ` (replay with FUZZ_SEED=${seed})`;
  expect(failures, `${failures.length} of ${cases.length} ${kind} cases failed${replay}`).toEqual([]);
}

// --- the named cases --------------------------------------------------------------------------

const h = () => handshakeHeaders(target.port);
const chatPath = (query = `?token=${alice.access}`) => `/ws/chat/${publicRoom}/${query}`;
const statusPath = () => `/ws/status/?token=${alice.access}`;
const auth = (value: string): [string, string] => ['Authorization', value];
const req = (
  path: string,
  headers: [string, string][] = h(),
  options?: Parameters<typeof upgradeRequest>[2],
) => upgradeRequest(path, headers, options);
const without = (name: string) => h().filter(([n]) => n.toLowerCase() !== name.toLowerCase());
const replacing = (name: string, value: string) =>
  h().map(([n, v]): [string, string] => (n.toLowerCase() === name.toLowerCase() ? [n, value] : [n, v]));

function namedCases(): Case[] {
  const token = alice.access;
  const cases: Case[] = [
    // Controls: the same requests, well-formed, work. Without them every refusal below proves nothing.
    { name: 'control: chat with ?token', request: req(chatPath()), expected: 'open' },
    { name: 'control: status with ?token', request: req(statusPath()), expected: 'open' },
    {
      name: 'control: notifications with Authorization: Bearer',
      request: req('/ws/notifications/', [...h(), auth(`Bearer ${token}`)]),
      expected: 'open',
    },
    {
      name: 'control: status with the bearer subprotocol',
      request: req('/ws/status/', [...h(), ['Sec-WebSocket-Protocol', `bearer, ${token}`]]),
      expected: 'open',
    },

    // Request targets. The WHATWG URL parser refuses the first five (they once crashed the process).
    ...['//[x', 'http://a:99999/ws/status/', '/\\[x', 'http://[::1/ws/status/', '//a:99999/ws/status/'].map(
      (path): Case => ({ name: `unparsable target ${path}`, request: req(path), expected: 'refused' }),
    ),
    {
      name: 'absolute-form target',
      request: req(`http://127.0.0.1:${target.port}${statusPath()}`),
      expected: 'open',
    },
    {
      name: 'absolute-form target, foreign host',
      request: req(`http://evil.example${statusPath()}`),
      expected: 'either',
    },
    {
      name: 'absolute-form target, https scheme',
      request: req(`https://127.0.0.1${statusPath()}`),
      expected: 'either',
    },
    {
      name: 'absolute-form target, port 0',
      request: req(`http://127.0.0.1:0${statusPath()}`),
      expected: 'either',
    },
    { name: 'protocol-relative target', request: req(`//evil.example${statusPath()}`), expected: 'either' },
    { name: 'asterisk-form target', request: req('*'), expected: 'refused' },
    { name: 'empty path segments', request: req(`/ws//status/?token=${token}`), expected: 'refused' },
    {
      name: '%zz in the room',
      request: req(`/ws/chat/%zz/?token=${token}`),
      expected: { close: 4404, code: 'CHANNEL_NOT_FOUND' },
    },
    {
      name: '%00 in the room',
      request: req(`/ws/chat/%00/?token=${token}`),
      expected: { close: 4404, code: 'CHANNEL_NOT_FOUND' },
    },
    {
      name: 'overlong UTF-8 in the room',
      request: req(`/ws/chat/%C0%AE%C0%AE/?token=${token}`),
      expected: { close: 4404, code: 'CHANNEL_NOT_FOUND' },
    },
    {
      name: 'emoji room',
      request: req(`/ws/chat/%F0%9F%92%A9/?token=${token}`),
      expected: { close: 4404, code: 'CHANNEL_NOT_FOUND' },
    },
    {
      name: 'raw UTF-8 bytes in the target',
      request: Buffer.from(req(`/ws/chat/é/?token=${token}`), 'utf8'),
      expected: 'refused',
    },
    {
      name: 'dot segments out of the chat route',
      request: req(`/ws/chat/../status/?token=${token}`),
      expected: 'either',
    },
    { name: 'encoded dot segments', request: req(`/ws/chat/%2e%2e/?token=${token}`), expected: 'refused' },
    {
      name: 'encoded slash in the room',
      request: req(`/ws/chat/a%2fb/?token=${token}`),
      expected: { close: 4404, code: 'CHANNEL_NOT_FOUND' },
    },
    {
      name: 'room of 100 characters',
      request: req(chatPath().replace(publicRoom, 'a'.repeat(100))),
      expected: { close: 4404, code: 'CHANNEL_NOT_FOUND' },
    },
    {
      name: 'path of 8 KiB',
      request: req(`/ws/chat/${'a'.repeat(8192)}/?token=${token}`),
      expected: { close: 4404, code: 'CHANNEL_NOT_FOUND' },
    },
    {
      name: 'path of 20 KiB (over the header limit)',
      request: req(`/ws/${'a'.repeat(20_480)}/`),
      expected: 'refused',
    },
    { name: 'NUL byte in the target', request: req('/ws/status/\0'), expected: { http: 400 } },
    { name: 'tab in the target', request: req('/ws/sta\ttus/'), expected: 'refused' },
    { name: 'fragment in the target', request: req(`${statusPath()}#frag`), expected: 'either' },
    {
      name: 'no route',
      request: req(`/ws/admin/?token=${token}`),
      expected: { close: 4404, code: 'CHANNEL_NOT_FOUND' },
    },
    {
      name: 'chat without a room',
      request: req(`/ws/chat/?token=${token}`),
      expected: { close: 4404, code: 'CHANNEL_NOT_FOUND' },
    },
    {
      name: 'chat with two segments',
      request: req(`/ws/chat/a/b/?token=${token}`),
      expected: { close: 4404, code: 'CHANNEL_NOT_FOUND' },
    },
    {
      name: 'upper-case path',
      request: req(`/WS/STATUS/?token=${token}`),
      expected: { close: 4404, code: 'CHANNEL_NOT_FOUND' },
    },
    {
      name: 'unknown room',
      request: req(`/ws/chat/no-such-room/?token=${token}`),
      expected: { close: 4404, code: 'CHANNEL_NOT_FOUND' },
    },

    // Query strings.
    {
      name: 'after_seq=abc',
      request: req(chatPath(`?token=${token}&after_seq=abc`)),
      expected: { close: 4400, code: 'INVALID_MESSAGE' },
    },
    {
      name: 'after_seq=-1',
      request: req(chatPath(`?token=${token}&after_seq=-1`)),
      expected: { close: 4400, code: 'INVALID_MESSAGE' },
    },
    {
      name: 'after_seq=1e3',
      request: req(chatPath(`?token=${token}&after_seq=1e3`)),
      expected: { close: 4400, code: 'INVALID_MESSAGE' },
    },
    {
      name: 'after_seq of 30 digits',
      request: req(chatPath(`?token=${token}&after_seq=${'9'.repeat(30)}`)),
      expected: { close: 4400, code: 'INVALID_MESSAGE' },
    },
    {
      name: 'after_seq twice',
      request: req(chatPath(`?token=${token}&after_seq=0&after_seq=x`)),
      expected: 'either',
    },
    {
      name: 'token twice, the first forged',
      request: req(`/ws/status/?token=${forged.garbage}&token=${token}`),
      expected: { close: 4401, code: 'AUTHENTICATION_FAILED' },
    },
    {
      name: 'token[]= array syntax',
      request: req(`/ws/status/?token[]=${token}`),
      expected: { close: 4401, code: 'AUTHENTICATION_FAILED' },
    },
    {
      name: 'empty token',
      request: req('/ws/status/?token='),
      expected: { close: 4401, code: 'AUTHENTICATION_FAILED' },
    },
    { name: '%zz in the query', request: req(`/ws/status/?token=${token}&x=%zz`), expected: 'open' },
    {
      name: 'query of 12 KiB',
      request: req(`/ws/status/?token=${token}&pad=${'x'.repeat(12_288)}`),
      expected: 'open',
    },

    // Methods and versions. Node and ws are lenient about the version (and Host) on upgrades;
    // lenient is fine as long as nothing breaks, so those cases may open.
    { name: 'POST upgrade', request: req(statusPath(), h(), { method: 'POST' }), expected: 'refused' },
    { name: 'lower-case method', request: req(statusPath(), h(), { method: 'get' }), expected: 'refused' },
    {
      name: 'HTTP/1.0 upgrade',
      request: req(statusPath(), h(), { version: 'HTTP/1.0' }),
      expected: 'either',
    },
    {
      name: 'HTTP/2.0 in the request line',
      request: req(statusPath(), h(), { version: 'HTTP/2.0' }),
      expected: 'either',
    },
    {
      name: 'HTTP/1.1 with garbage version',
      request: req(statusPath(), h(), { version: 'HTTP/1.x' }),
      expected: { http: 400 },
    },
    {
      name: 'no version at all',
      request: `GET ${statusPath()}\r\n${h()
        .map(([n, v]) => `${n}: ${v}`)
        .join('\r\n')}\r\n\r\n`,
      expected: 'either',
    },

    // The handshake headers.
    {
      name: 'missing Sec-WebSocket-Key',
      request: req(statusPath(), without('Sec-WebSocket-Key')),
      expected: { http: 400 },
    },
    {
      name: 'duplicate Sec-WebSocket-Key',
      request: req(statusPath(), [...h(), ['Sec-WebSocket-Key', 'AAAAAAAAAAAAAAAAAAAAAA==']]),
      expected: { http: 400 },
    },
    {
      name: 'Sec-WebSocket-Key too short',
      request: req(statusPath(), replacing('Sec-WebSocket-Key', 'c2hvcnQ=')),
      expected: { http: 400 },
    },
    {
      name: 'Sec-WebSocket-Key not base64',
      request: req(statusPath(), replacing('Sec-WebSocket-Key', '!!!!!!!!!!!!!!!!!!!!!!==')),
      expected: { http: 400 },
    },
    {
      name: 'empty Sec-WebSocket-Key',
      request: req(statusPath(), replacing('Sec-WebSocket-Key', '')),
      expected: { http: 400 },
    },
    {
      name: 'missing Sec-WebSocket-Version',
      request: req(statusPath(), without('Sec-WebSocket-Version')),
      expected: { http: 400 },
    },
    ...['12', '14', '0', '-13', 'abc', '13, 13', '', '1'.repeat(40)].map(
      (v): Case => ({
        name: `Sec-WebSocket-Version: ${v.slice(0, 12)}`,
        request: req(statusPath(), replacing('Sec-WebSocket-Version', v)),
        expected: { http: 400 },
      }),
    ),
    {
      name: 'Sec-WebSocket-Version 8 (older draft ws still speaks)',
      request: req(statusPath(), replacing('Sec-WebSocket-Version', '8')),
      expected: 'either',
    },
    { name: 'missing Upgrade', request: req(statusPath(), without('Upgrade')), expected: 'refused' },
    { name: 'Upgrade: h2c', request: req(statusPath(), replacing('Upgrade', 'h2c')), expected: 'refused' },
    {
      name: 'Upgrade: WebSocket (case)',
      request: req(statusPath(), replacing('Upgrade', 'WebSocket')),
      expected: 'open',
    },
    { name: 'missing Connection', request: req(statusPath(), without('Connection')), expected: 'refused' },
    {
      name: 'Connection: keep-alive, Upgrade',
      request: req(statusPath(), replacing('Connection', 'keep-alive, Upgrade')),
      expected: 'open',
    },
    { name: 'missing Host', request: req(statusPath(), without('Host')), expected: 'either' },
    {
      name: 'duplicate Host',
      request: req(statusPath(), [...h(), ['Host', 'evil.example']]),
      expected: 'either',
    },
    {
      name: 'Host with port 99999',
      request: req(statusPath(), replacing('Host', '127.0.0.1:99999')),
      expected: 'either',
    },
    {
      name: 'Host with a broken IPv6 literal',
      request: req(statusPath(), replacing('Host', '[::1')),
      expected: 'either',
    },
    { name: 'empty Host', request: req(statusPath(), replacing('Host', '')), expected: 'either' },

    // Huge and many headers.
    {
      name: 'one header of 20 KiB',
      request: req(statusPath(), [...h(), ['X-Pad', 'x'.repeat(20_480)]]),
      expected: { http: 431 },
    },
    {
      name: 'headers totalling 64 KiB',
      request: req(statusPath(), [
        ...h(),
        ...Array.from({ length: 64 }, (_, i): [string, string] => [`X-Pad-${i}`, 'x'.repeat(1000)]),
      ]),
      expected: { http: 431 },
    },
    {
      name: '2,500 tiny headers',
      request: req(statusPath(), [
        ...h(),
        ...Array.from({ length: 2500 }, (_, i): [string, string] => [`x${i}`, '']),
      ]),
      expected: 'either',
    },
    {
      name: 'header name with a control byte',
      request: req(statusPath(), [...h(), ['X-A\u0001', 'b']]),
      expected: { http: 400 },
    },
    {
      name: 'header value with a NUL byte',
      request: req(statusPath(), [...h(), ['X-A', 'b\0c']]),
      expected: { http: 400 },
    },
    {
      name: 'obsolete line folding',
      request: req(statusPath(), [...h(), ['X-A', 'b\r\n  folded']]),
      expected: 'refused',
    },
    {
      name: 'header without a colon',
      request: `GET ${statusPath()} HTTP/1.1\r\n${h()
        .map(([n, v]) => `${n}: ${v}`)
        .join('\r\n')}\r\nNoColonHere\r\n\r\n`,
      expected: { http: 400 },
    },
    {
      name: 'bare LF line endings',
      request: upgradeRequest(statusPath(), h()).replaceAll('\r\n', '\n'),
      expected: 'either',
    },
    {
      name: 'a body after the handshake',
      request: req(statusPath(), [...h(), ['Content-Length', '5']], { body: 'hello' }),
      expected: 'either-or-protocol-error',
    },
    {
      name: 'Transfer-Encoding: chunked upgrade',
      request: req(statusPath(), [...h(), ['Transfer-Encoding', 'chunked']]),
      expected: 'either-or-protocol-error',
    },
    {
      name: 'Content-Length and Transfer-Encoding together',
      request: req(statusPath(), [...h(), ['Content-Length', '3'], ['Transfer-Encoding', 'chunked']]),
      expected: 'refused',
    },

    // Authorization. The scheme is case-insensitive (RFC 9110 §11.1).
    ...['bearer', 'BEARER', 'bEaReR'].map(
      (scheme): Case => ({
        name: `Authorization: ${scheme} <token>`,
        request: req('/ws/status/', [...h(), auth(`${scheme} ${token}`)]),
        expected: 'open',
      }),
    ),
    {
      name: 'no credentials at all',
      request: req('/ws/status/'),
      expected: { close: 4401, code: 'AUTHENTICATION_FAILED' },
    },
    ...[
      'Bearer',
      'Bearer ',
      'Bearer  ',
      `Basic ${Buffer.from('alice:pw').toString('base64')}`,
      'Token abc',
      `Bearer ${token} extra`,
      `Bearer ${'x'.repeat(9000)}`,
    ].map(
      (value): Case => ({
        name: `Authorization: ${value.slice(0, 24)}…`,
        request: req('/ws/status/', [...h(), auth(value)]),
        expected: { close: 4401, code: 'AUTHENTICATION_FAILED' },
      }),
    ),
    {
      name: 'duplicate Authorization, valid first',
      request: req('/ws/status/', [...h(), auth(`Bearer ${token}`), auth('Bearer forged')]),
      expected: 'either',
    },
    {
      name: 'duplicate Authorization, forged first',
      request: req('/ws/status/', [...h(), auth('Bearer forged'), auth(`Bearer ${token}`)]),
      expected: 'refused',
    },
    ...Object.entries(forged).flatMap(([what, bad]): Case[] => [
      {
        name: `${what} token in the query`,
        request: req(`/ws/status/?token=${bad}`),
        expected: { close: 4401, code: 'AUTHENTICATION_FAILED' },
      },
      {
        name: `${what} token as Bearer`,
        request: req(`/ws/chat/${publicRoom}/`, [...h(), auth(`Bearer ${bad}`)]),
        expected: { close: 4401, code: 'AUTHENTICATION_FAILED' },
      },
    ]),
    {
      name: 'a refresh token as the bearer subprotocol',
      request: req('/ws/notifications/', [...h(), ['Sec-WebSocket-Protocol', `bearer, ${alice.refresh}`]]),
      expected: { close: 4401, code: 'AUTHENTICATION_FAILED' },
    },

    // Subprotocols.
    {
      name: 'subprotocol bearer without a token',
      request: req('/ws/status/', [...h(), ['Sec-WebSocket-Protocol', 'bearer']]),
      expected: { close: 4401, code: 'AUTHENTICATION_FAILED' },
    },
    {
      name: 'subprotocol bearer, bearer',
      request: req('/ws/status/', [...h(), ['Sec-WebSocket-Protocol', 'bearer, bearer']]),
      expected: { http: 400 },
    },
    {
      name: 'subprotocol list of commas',
      request: req(statusPath(), [...h(), ['Sec-WebSocket-Protocol', ',,,']]),
      expected: { http: 400 },
    },
    {
      name: 'subprotocol with a space inside',
      request: req(statusPath(), [...h(), ['Sec-WebSocket-Protocol', 'a b']]),
      expected: { http: 400 },
    },
    {
      name: 'subprotocol with high bytes',
      request: Buffer.from(req(statusPath(), [...h(), ['Sec-WebSocket-Protocol', 'chat\u00ff']]), 'latin1'),
      expected: { http: 400 },
    },
    {
      name: 'subprotocol of 8 KiB',
      request: req(statusPath(), [...h(), ['Sec-WebSocket-Protocol', 'p'.repeat(8192)]]),
      expected: 'open',
    },
    {
      name: 'unknown subprotocol only',
      request: req(statusPath(), [...h(), ['Sec-WebSocket-Protocol', 'graphql-ws']]),
      expected: 'open',
    },
    {
      name: 'bearer pair split over two headers',
      request: req('/ws/status/', [
        ...h(),
        ['Sec-WebSocket-Protocol', 'bearer'],
        ['Sec-WebSocket-Protocol', token],
      ]),
      expected: 'open',
    },
    {
      name: 'garbage Sec-WebSocket-Extensions',
      request: req(statusPath(), [
        ...h(),
        ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits=99; ;;'],
      ]),
      expected: 'either',
    },

    // Cookies and origins (the chat server authenticates by token, never by cookie).
    {
      name: 'malformed percent-encoding in a cookie',
      request: req(statusPath(), [...h(), ['Cookie', 'sb_access=%E0%A4%A; other=%']]),
      expected: 'open',
    },
    {
      name: 'malformed cookie without a token',
      request: req('/ws/status/', [...h(), ['Cookie', 'sb_access=%E0%A4%A']]),
      expected: { close: 4401, code: 'AUTHENTICATION_FAILED' },
    },
    {
      name: 'a valid token as a cookie only',
      request: req('/ws/status/', [...h(), ['Cookie', `sb_access=${token}; token=${token}`]]),
      expected: { close: 4401, code: 'AUTHENTICATION_FAILED' },
    },
    {
      name: 'duplicate Cookie headers',
      request: req(statusPath(), [...h(), ['Cookie', 'a=1'], ['Cookie', 'a=%%%']]),
      expected: 'open',
    },
    {
      name: 'foreign Origin with a query token',
      request: req(statusPath(), [...h(), ['Origin', 'https://evil.example']]),
      expected: 'open',
    },
    {
      name: 'Origin null',
      request: req('/ws/status/', [...h(), ['Origin', 'null']]),
      expected: { close: 4401, code: 'AUTHENTICATION_FAILED' },
    },

    // Membership.
    {
      name: 'private room of someone else',
      request: req(`/ws/chat/${privateRoom}/?token=${token}`),
      expected: 'refused',
    },
  ];
  return cases;
}

// --- generated cases --------------------------------------------------------------------------

const NASTY_PIECES = [
  '%',
  '%zz',
  '%00',
  '%ff',
  '%2e%2e',
  '%2f',
  '%5c',
  '..',
  '/',
  '\\',
  '[',
  ']',
  '@',
  ':',
  ';',
  '?',
  '&',
  '=',
  '#',
  '~',
  '%E0%A4%A',
  '%C0%AF',
  '\u00e9',
  '\u202e',
  '\u0000',
  '\u0001',
  '\t',
  ' ',
  '"',
  '<',
  '{',
  '|',
  '^',
  '`',
  '\u00ff',
  'token=',
  'after_seq=',
];

/** A valid target for one of the three endpoints, with the credential in the query. */
function validTarget(rng: Prng): { path: string; endpoint: string } {
  const endpoint = rng.pick(['chat', 'notifications', 'status']);
  const base = endpoint === 'chat' ? `/ws/chat/${publicRoom}/` : `/ws/${endpoint}/`;
  return { path: `${base}?token=${alice.access}`, endpoint };
}

function mutateTarget(rng: Prng, path: string): string {
  let out = path;
  const steps = 1 + rng.int(3);
  for (let i = 0; i < steps; i++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(7)) {
      case 0:
      case 1:
      case 2:
        out = out.slice(0, at) + rng.pick(NASTY_PIECES) + out.slice(at);
        break;
      case 3:
        out = `${rng.pick(['http', 'https', 'ws', 'HTTP', 'javascript', 'file'])}://${rng.pick(['127.0.0.1', 'a', '[::1]', '[::1', 'evil.example', ''])}${rng.chance(0.6) ? `:${rng.pick(['0', '1', '65535', '65536', '99999', '-1', 'x', ''])}` : ''}${out}`;
        break;
      case 4:
        out = `/${rng.pick(['/', '\\', '/[', '/a:1', '/evil.example'])}${out}`;
        break;
      case 5:
        out = out.slice(0, at) + 'a'.repeat(rng.pick([256, 2048, 9000])) + out.slice(at);
        break;
      default:
        out = out.slice(0, at) + out.slice(at + 1 + rng.int(8));
    }
  }
  return out;
}

const HEADER_NAMES = [
  'Host',
  'Upgrade',
  'Connection',
  'Sec-WebSocket-Key',
  'Sec-WebSocket-Version',
  'Sec-WebSocket-Protocol',
  'Sec-WebSocket-Extensions',
  'Authorization',
  'Cookie',
  'Origin',
  'X-Forwarded-For',
  'Content-Length',
  'Transfer-Encoding',
  'Expect',
  'Range',
];

function garbageValue(rng: Prng): string {
  switch (rng.int(8)) {
    case 0:
      return '';
    case 1:
      return rng.string(1 + rng.int(40), 'abcXYZ019 ,;=%-_/+\\"\'()');
    case 2:
      return 'x'.repeat(rng.pick([1000, 8000, 17_000]));
    case 3:
      return rng.string(5, '\u0000\u0001\u0007\u001f\u007f');
    case 4:
      return rng.string(8, '\u0080\u00a0\u00e9\u00ff');
    case 5:
      return `Bearer ${rng.pick([alice.access, alice.refresh, forged.expired, forged['alg none'], ''])}`;
    case 6:
      return rng.pick([
        '%E0%A4%A',
        'sb_access=%E0%A4%A',
        'a=b; ; =;',
        'bearer, ',
        'bearer, bearer, x',
        '13',
        '-1',
        '99999999999999999999',
        'chunked',
        '100-continue',
        'bytes=0-',
      ]);
    default:
      return rng.pick(['websocket', 'Upgrade', 'dGhlIHNhbXBsZSBub25jZQ==', `127.0.0.1:${target.port}`]);
  }
}

function mutateHeaders(rng: Prng, headers: [string, string][]): [string, string][] {
  let out = [...headers];
  const steps = 1 + rng.int(3);
  for (let i = 0; i < steps; i++) {
    const name = rng.pick(HEADER_NAMES);
    switch (rng.int(5)) {
      case 0:
        out = out.filter(([n]) => n !== name);
        break;
      case 1:
        out.push([name, garbageValue(rng)]);
        break;
      case 2:
        out = out.map(([n, v]): [string, string] => (n === name ? [n, garbageValue(rng)] : [n, v]));
        break;
      case 3:
        out = out.map(([n, v]): [string, string] => [rng.chance(0.5) ? n.toUpperCase() : n.toLowerCase(), v]);
        break;
      default:
        out.splice(rng.int(out.length + 1), 0, [`X-${rng.string(6)}`, garbageValue(rng)]);
    }
  }
  return out;
}

/** The seeded target mutations (the first call prints the seed). */
function targetCases(): { seed: number; cases: Case[] } {
  const seed = fuzzSeed('upgrade targets');
  const rng = new Prng(seed);
  const cases = Array.from({ length: GENERATED_TARGETS }, (): Case => {
    const mutated = mutateTarget(rng, validTarget(rng).path);
    return {
      name: `target ${JSON.stringify(mutated.slice(0, 120))}`,
      request: req(mutated),
      expected: 'either',
    };
  });
  return { seed, cases };
}

// --- the tests --------------------------------------------------------------------------------

describe('upgrade requests over raw TCP', () => {
  it('a table of malformed upgrades is refused properly, with the process alive after each', async () => {
    await attemptAll(namedCases(), 'named');
  });

  it('seeded mutations of the request target never crash, hang or answer 5xx', async () => {
    const { seed, cases } = targetCases();
    await attemptAll(cases, 'generated targets', seed);
  });

  it('seeded mutations of the handshake headers never crash, hang or answer 5xx', async () => {
    const seed = fuzzSeed('upgrade headers');
    const rng = new Prng(seed);
    const cases = Array.from({ length: GENERATED_HEADERS }, (): Case => {
      const { path } = validTarget(rng);
      const headers = mutateHeaders(rng, h());
      const described = headers.map(([n, v]) => `${n}: ${v.slice(0, 40)}`).join(' | ');
      return {
        name: `headers ${JSON.stringify(described.slice(0, 300))}`,
        request: Buffer.from(req(path, headers), 'latin1'),
        expected: 'either-or-protocol-error',
      };
    });
    await attemptAll(cases, 'generated headers', seed);
  });
});
