/**
 * The attacker on the REST API: every route (read from apps/chat/src/http/*-routes.ts, so a new
 * route cannot slip past) gets bad JSON, wrong content types, huge bodies, wrong types in every
 * field, hostile path parameters (`..`, `%00`, unicode, overlong), hostile query strings (arrays,
 * duplicates, negative and absurd numbers) and bad credentials, then seeded random combinations.
 * Requests go over raw TCP, byte for byte, so nothing normalises them on the way.
 *
 * The rules: never a 5xx, never a hang, and every 4xx under /api is JSON `{error, code}` with a
 * documented code. Afterwards the process is alive and its log holds no error.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatUser } from '../support/chat-api.ts';
import { DOCUMENTED_CODES, fuzzSeed, Prng, Tally, Target } from './support/attack-kit.ts';
import { rawExchange } from './support/raw-http.ts';

const SERVICE_TOKEN = 'attack-rest-service-token-'.padEnd(40, 'r');
const REQUEST_TIMEOUT_MS = 10_000;
const GENERATED = 700;
/** Parallel requests: enough to keep the server busy, few enough for two shared cores. */
const CONCURRENCY = 4;
const HTTP_DIR = fileURLToPath(new URL('../../src/http/', import.meta.url));

type Auth = 'user' | 'none' | 'sender' | 'admin';

/** One route, with what a valid request to it looks like. */
interface Route {
  method: string;
  /** The pattern as the route file writes it, under /api (and `prefix`, where it is registered). */
  pattern: string;
  prefix?: string;
  auth: Auth;
  /** A valid body (fresh each call: some must be unique, like a new room's slug). */
  body?: () => Record<string, unknown>;
  /** A valid query string, without `?`. */
  query?: string;
}

interface Request {
  name: string;
  method: string;
  path: string;
  headers: [string, string][];
  body?: Buffer | string;
}

const tally = new Tally();
let target: Target;
let alice: ChatUser;
let bob: ChatUser;
let room: string;
/** The room the leave route leaves: `room` keeps alice as a member, so every batch finds her in it. */
let leaveRoom: string;
let privateRoom: string;
let fileId: string;
/** An admin, and the account the admin routes act on (never alice: she must stay signed in). */
let admin: { access: string };
let victim: ChatUser;
const ADMIN = { username: 'fuzz_admin', password: 'fuzz admin password' };
let notificationId: number;
let seed: number;
let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

const P256DH = `B${'A'.repeat(86)}`;
const AUTH_SECRET = 'A'.repeat(22);

/** Every route of the chat server's REST API, with a valid request for it. */
function routes(): Route[] {
  return [
    {
      method: 'POST',
      pattern: '/register/',
      auth: 'none',
      body: () => ({ username: `u${unique()}`, password: 'long enough password' }),
    },
    {
      method: 'POST',
      pattern: '/token/',
      auth: 'none',
      body: () => ({ username: alice.username, password: alice.password }),
    },
    { method: 'POST', pattern: '/token/refresh/', auth: 'none', body: () => ({ refresh: alice.refresh }) },
    { method: 'GET', pattern: '/me/', auth: 'user' },
    { method: 'GET', pattern: '/rooms/', auth: 'user' },
    { method: 'GET', pattern: '/rooms/public/', auth: 'user', query: 'q=fuzz&limit=5' },
    {
      method: 'POST',
      pattern: '/rooms/',
      auth: 'user',
      body: () => ({ slug: `r-${unique()}`, name: 'Fuzz room', private: false }),
    },
    { method: 'POST', pattern: '/rooms/:slug/join/', auth: 'user' },
    {
      method: 'POST',
      pattern: '/rooms/:slug/members/',
      auth: 'user',
      body: () => ({ username: bob.username }),
    },
    { method: 'DELETE', pattern: '/rooms/:slug/members/me/', auth: 'user' },
    { method: 'POST', pattern: '/direct/', auth: 'user', body: () => ({ username: bob.username }) },
    { method: 'GET', pattern: '/rooms/:slug/messages/', auth: 'user', query: 'limit=5&before_seq=3' },
    { method: 'GET', pattern: '/rooms/:slug/read-receipts/', auth: 'user' },
    { method: 'GET', pattern: '/notifications/', auth: 'user', query: 'limit=5' },
    { method: 'POST', pattern: '/notifications/:id/read/', auth: 'user' },
    {
      method: 'POST',
      pattern: '/notifications/',
      auth: 'sender',
      body: () => ({ user_id: alice.id, title: 'Fuzz', message: 'body', category: 'ci', url: '/#/rooms/x' }),
    },
    { method: 'GET', pattern: '/push/vapid-public-key', auth: 'none' },
    { method: 'GET', pattern: '/push/subscriptions/', auth: 'user' },
    {
      method: 'POST',
      pattern: '/push/subscriptions/',
      auth: 'user',
      body: () => ({
        endpoint: `https://fcm.googleapis.com/fcm/send/${unique()}`,
        keys: { p256dh: P256DH, auth: AUTH_SECRET },
        expirationTime: null,
      }),
    },
    {
      method: 'DELETE',
      pattern: '/push/subscriptions/',
      auth: 'user',
      body: () => ({ endpoint: 'https://fcm.googleapis.com/fcm/send/none' }),
    },
    { method: 'POST', pattern: '/rooms/:slug/files/', auth: 'user' },
    { method: 'GET', pattern: '/files/:id/', auth: 'user', query: 'inline=1' },
    // Admin routes, fuzzed as an admin so the handlers run; their :username is a victim account.
    { method: 'POST', prefix: '/admin', pattern: '/users/:username/disable/', auth: 'admin' },
    { method: 'POST', prefix: '/admin', pattern: '/users/:username/enable/', auth: 'admin' },
    { method: 'DELETE', prefix: '/admin', pattern: '/users/:username/', auth: 'admin' },
    // Collaborative documents of a room.
    { method: 'GET', pattern: '/rooms/:slug/docs/', auth: 'user' },
    { method: 'POST', pattern: '/rooms/:slug/docs/', auth: 'user', body: () => ({ name: `d${unique()}` }) },
    { method: 'GET', pattern: '/rooms/:slug/docs/:doc/text', auth: 'user' },
    { method: 'DELETE', pattern: '/rooms/:slug/docs/:doc/', auth: 'user' },
    // The server API, as a service; its :username is the victim account.
    {
      method: 'POST',
      prefix: '/server',
      pattern: '/rooms/:slug/messages/',
      auth: 'sender',
      body: () => ({ author: 'fuzzbot', message: 'hello', idempotency_key: unique() }),
    },
    {
      method: 'POST',
      prefix: '/server',
      pattern: '/rooms/:slug/events/',
      auth: 'sender',
      body: () => ({ event: { n: 1 } }),
    },
    {
      method: 'POST',
      prefix: '/server',
      pattern: '/users/:username/events/',
      auth: 'sender',
      body: () => ({ event: { n: 1 } }),
    },
    {
      method: 'POST',
      prefix: '/server',
      pattern: '/users/:username/disconnect/',
      auth: 'sender',
      body: () => ({ reason: 'fuzz' }),
    },
    { method: 'GET', prefix: '/server', pattern: '/rooms/:slug/presence/', auth: 'sender' },
  ];
}

/** The routes the source declares (`api.get('/…'`), as `METHOD /pattern`. */
function declaredRoutes(): string[] {
  const found: string[] = [];
  for (const file of readdirSync(HTTP_DIR).filter((f) => f.endsWith('-routes.ts'))) {
    const source = readFileSync(`${HTTP_DIR}${file}`, 'utf8');
    for (const m of source.matchAll(/\bapi\.(get|post|put|patch|delete)\(\s*'([^']+)'/g)) {
      found.push(`${m[1]!.toUpperCase()} ${m[2]}`);
    }
  }
  return found.sort();
}

beforeAll(async () => {
  seed = fuzzSeed('rest');
  // Quotas lifted (ROOMS_PER_HOUR, UPLOADS_PER_MINUTE on the rest branch) so valid requests keep
  // reaching their handlers; a quota's 429 would pass the rules too, but test nothing.
  target = await Target.start({
    AUTH_RATE_LIMIT: '1000000',
    ROOMS_PER_HOUR: '100000',
    UPLOADS_PER_MINUTE: '100000',
    SERVICE_TOKEN,
    ADMIN_USERS: ADMIN.username,
  });
  alice = await target.api.signUp('alice');
  bob = await target.api.signUp('bob');
  victim = await target.api.signUp('victim');
  await target.api.call('POST', '/api/register/', { body: ADMIN });
  admin = (await target.api.call('POST', '/api/token/', { body: ADMIN })).body;
  room = await target.api.createRoom(alice);
  leaveRoom = await target.api.createRoom(alice);
  privateRoom = await target.api.createRoom(bob, { private: true });
  await target.api.join(bob, room);
  const sent = await target.api.call('POST', '/api/notifications/', {
    token: SERVICE_TOKEN,
    body: { user_id: alice.id, title: 'hello' },
  });
  notificationId = sent.body.notification.id;
  const upload = await exchange(
    multipartRequest('valid upload', `/api/rooms/${room}/files/`, [filePart('a.txt', 'text/plain', 'hello')]),
  );
  if (upload.kind !== 'http' || upload.status !== 201)
    throw new Error(`setup upload: ${JSON.stringify(upload)}`);
  fileId = JSON.parse(upload.body).file_id;
});

afterAll(async () => {
  tally.print('rest', 'REST requests');
  await target?.stop();
});

// --- requests -------------------------------------------------------------------------------

function credentials(auth: Auth): [string, string][] {
  if (auth === 'none') return [];
  const token = auth === 'sender' ? SERVICE_TOKEN : auth === 'admin' ? admin.access : alice.access;
  return [['Authorization', `Bearer ${token}`]];
}

/** The route's path with valid parameters: a room alice is in, her notification, her file. */
function validPath(route: Route, params: { slug?: string; id?: string; username?: string } = {}): string {
  const id = params.id ?? (route.pattern.startsWith('/files/') ? fileId : String(notificationId));
  const slug = params.slug ?? (route.method === 'DELETE' ? leaveRoom : room);
  const username = params.username ?? victim.username;
  const path = route.pattern
    .replace(':slug', slug)
    .replace(':id', id)
    .replace(':username', username)
    .replace(':doc', 'notes');
  return `/api${route.prefix ?? ''}${path}`;
}

/** The route's one path parameter set to `value`. */
function paramOf(route: Route, value: string): { slug?: string; id?: string; username?: string } {
  if (route.pattern.includes(':slug')) return { slug: value };
  if (route.pattern.includes(':username')) return { username: value };
  return { id: value };
}

function jsonRequest(
  name: string,
  route: Route,
  overrides: Partial<Request> & { json?: unknown } = {},
): Request {
  const { json, ...rest } = overrides;
  const body =
    json !== undefined ? JSON.stringify(json) : route.body ? JSON.stringify(route.body()) : undefined;
  const headers: [string, string][] = [...credentials(route.auth)];
  if (body !== undefined) headers.push(['Content-Type', 'application/json']);
  const path = validPath(route) + (route.query ? `?${route.query}` : '');
  return { name, method: route.method, path, headers, body, ...rest };
}

function serialise(request: Request): Buffer {
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
  const lines = [
    `${request.method} ${request.path} HTTP/1.1`,
    `Host: 127.0.0.1:${target.port}`,
    'Connection: close',
    ...request.headers.map(([n, v]) => `${n}: ${v}`),
  ];
  if (request.body !== undefined && !request.headers.some(([n]) => /^content-length$/i.test(n))) {
    lines.push(`Content-Length: ${body.length}`);
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

function exchange(request: Request) {
  return rawExchange(target.port, serialise(request), { timeoutMs: REQUEST_TIMEOUT_MS });
}

const BOUNDARY = 'fuzzBoundary7MA4YWxkTrZu0gW';

function filePart(filename: string, type: string, content: string, field = 'file'): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n${content}\r\n`;
}

function fieldPart(name: string, value: string): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
}

function multipartRequest(
  name: string,
  path: string,
  parts: string[],
  end = `--${BOUNDARY}--\r\n`,
  contentType = `multipart/form-data; boundary=${BOUNDARY}`,
): Request {
  return {
    name,
    method: 'POST',
    path,
    headers: [
      ['Authorization', `Bearer ${alice.access}`],
      ['Content-Type', contentType],
    ],
    body: parts.join('') + end,
  };
}

/** Checks one answer; returns the complaint, or null. */
async function check(request: Request): Promise<string | null> {
  const answer = await exchange(request);
  const what = `[seed ${seed}] ${request.name}: ${request.method} ${request.path.slice(0, 160)}`;
  // A body far over the limit is refused (413, then the server closes rather than read it). The
  // client may still be writing when the close comes, and then TCP resets the connection and drops
  // the 413 it had not read yet: a hang-up without an answer is a proper refusal here, and only
  // here. The process's survival is checked after every batch either way.
  const hungUpOnHugeBody = answer.kind === 'closed' && request.name.endsWith('body of 2 MiB');
  if (answer.kind !== 'http' && !hungUpOnHugeBody)
    return `${what}: no HTTP answer (${answer.kind} ${'received' in answer ? answer.received : ''})`;
  if (answer.kind !== 'http') return null;
  if (answer.status >= 500) return `${what}: ${answer.status} ${answer.body.slice(0, 200)}`;
  // HEAD answers carry no body; an HTTP-level refusal (bytes the parser rejects) has no route.
  if (
    answer.status >= 400 &&
    request.path.startsWith('/api') &&
    request.method !== 'HEAD' &&
    !malformedHttp(request)
  ) {
    if (!/^application\/json/.test(answer.headers['content-type'] ?? '')) {
      return `${what}: ${answer.status} with content-type ${answer.headers['content-type']}: ${answer.body.slice(0, 200)}`;
    }
    let body: { error?: unknown; code?: unknown };
    try {
      body = JSON.parse(answer.body);
    } catch {
      return `${what}: ${answer.status} with a body that is not JSON: ${answer.body.slice(0, 200)}`;
    }
    if (typeof body.error !== 'string' || typeof body.code !== 'string' || !DOCUMENTED_CODES.has(body.code)) {
      return `${what}: ${answer.status} body is not {error, code} with a documented code: ${answer.body.slice(0, 200)}`;
    }
  }
  return null;
}

/**
 * Bytes that are not HTTP at all (raw non-ASCII in the request line, a body longer than its
 * Content-Length): Node's parser refuses them before any route is known, so only "4xx, no hang"
 * applies to them.
 */
function malformedHttp(request: Request): boolean {
  return /[^\x21-\x7e]/.test(request.path) || request.name.includes('Content-Length below the body');
}

async function attackAll(requests: Request[], kind: string): Promise<void> {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++]!;
      tally.add(kind);
      const failure = await check(request);
      if (failure && failures.length < 15) failures.push(failure);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await target.assertAlive(`${requests.length} ${kind} requests`);
  expect(failures, `${kind} (FUZZ_SEED=${seed})`).toEqual([]);
}

// --- the mutations --------------------------------------------------------------------------

const BAD_JSON = [
  '{',
  '{"a":',
  'nul',
  '[1,2',
  '{"username": "a" "x"}',
  "{'username':'a'}",
  '{"a":1,}',
  '\ufeff{"a":1}',
  '{"a":NaN}',
  '{"a":1}{"b":2}',
  '""',
  ' ',
];
const WRONG_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  '',
  'x',
  '\ud800',
  [],
  ['a'],
  {},
  { $gt: '' },
  'x'.repeat(5000),
];
const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'application/xml',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/json, text/plain',
  'application/jsonx',
  'application/json; charset=iso-8859-1',
  '*/*',
  '',
];
const PARAMS = [
  '..',
  '%2e%2e',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '%00',
  'a%00b',
  '%zz',
  '%',
  '\u00e9',
  '%C3%A9',
  '%F0%9F%92%A9',
  '%C0%AE',
  'a'.repeat(5000),
  '-1',
  '0',
  '1e3',
  '0x10',
  '%20',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  '%2F',
  ';',
  'x;y',
  '*',
  '[]',
  '%5B%5D',
  'ROOM',
];
const QUERIES = [
  'limit=-1',
  'limit=0',
  'limit=abc',
  'limit=1e999',
  'limit[]=1',
  'limit=1&limit=2',
  'limit=',
  'limit=99999999999999999999',
  'before_seq=-5',
  'before_seq=NaN',
  'before_seq=0x10',
  'before_seq[a]=1',
  'before_id=-1',
  'before_id=1.5',
  'inline=2',
  'inline[]=1',
  'inline=1&inline=0',
  '%zz',
  'a=%00',
  '__proto__[x]=1',
  'constructor[prototype][x]=1',
  `pad=${'q'.repeat(8000)}`,
];
const AUTHS: [string, [string, string][]][] = [
  ['no credentials', []],
  ['garbage bearer', [['Authorization', 'Bearer not.a.jwt']]],
  ['refresh token as bearer', [['Authorization', 'Bearer REFRESH']]],
  ['Basic scheme', [['Authorization', 'Basic YWxpY2U6cHc=']]],
  ['bearer scheme in lower case', [['Authorization', 'bearer ACCESS']]],
  [
    'two Authorization headers',
    [
      ['Authorization', 'Bearer ACCESS'],
      ['Authorization', 'Bearer x'],
    ],
  ],
];

function tableRequests(): Request[] {
  const requests: Request[] = [];
  for (const route of routes()) {
    const label = `${route.method} ${route.pattern}`;
    const withBody = route.method !== 'GET';
    requests.push(jsonRequest(`${label} valid`, route));
    for (const [what, headers] of AUTHS) {
      const resolved = headers.map(([n, v]): [string, string] => [
        n,
        v.replace('REFRESH', alice.refresh).replace('ACCESS', alice.access),
      ]);
      const base = jsonRequest(`${label} ${what}`, route);
      requests.push({
        ...base,
        headers: [...base.headers.filter(([n]) => n !== 'Authorization'), ...resolved],
      });
    }
    if (withBody) {
      for (const text of BAD_JSON)
        requests.push({ ...jsonRequest(`${label} bad JSON ${JSON.stringify(text)}`, route), body: text });
      for (const type of CONTENT_TYPES) {
        const base = jsonRequest(`${label} content-type ${type}`, route);
        requests.push({
          ...base,
          headers: [...base.headers.filter(([n]) => n !== 'Content-Type'), ['Content-Type', type]],
          body: base.body ?? '{}',
        });
      }
      for (const json of [
        [],
        1,
        'str',
        null,
        true,
        JSON.parse('{"__proto__":{"is_admin":true},"constructor":{"prototype":{"x":1}}}'),
      ]) {
        requests.push(jsonRequest(`${label} body ${JSON.stringify(json)}`, route, { json }));
      }
      requests.push({
        ...jsonRequest(`${label} body of 20 KiB`, route),
        body: JSON.stringify({ ...route.body?.(), pad: 'p'.repeat(20_480) }),
      });
      requests.push({
        ...jsonRequest(`${label} body of 2 MiB`, route),
        body: JSON.stringify({ pad: 'p'.repeat(2 * 1024 * 1024) }),
      });
      requests.push({
        ...jsonRequest(`${label} JSON nested 10,000 deep`, route),
        body: `{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
      });
      requests.push({
        ...jsonRequest(`${label} Content-Length below the body`, route),
        headers: [...jsonRequest('', route).headers, ['Content-Length', '1']],
        body: '{"a":1}',
      });
      if (route.body) {
        for (const field of Object.keys(route.body())) {
          for (const wrong of WRONG_VALUES) {
            requests.push(
              jsonRequest(`${label} ${field}=${JSON.stringify(wrong).slice(0, 30)}`, route, {
                json: { ...route.body(), [field]: wrong },
              }),
            );
          }
          const { [field]: _dropped, ...rest } = route.body();
          requests.push(jsonRequest(`${label} without ${field}`, route, { json: rest }));
        }
      }
    }
    for (const param of route.pattern.includes(':') ? PARAMS : []) {
      const params = paramOf(route, param);
      requests.push({
        ...jsonRequest(`${label} param ${JSON.stringify(param.slice(0, 30))}`, route),
        path: validPath(route, params),
      });
    }
    if (route.method === 'GET') {
      for (const query of QUERIES)
        requests.push({
          ...jsonRequest(`${label} ?${query.slice(0, 40)}`, route),
          path: `${validPath(route)}?${query}`,
        });
    }
  }
  return requests;
}

/** The multipart upload route has its own parser: its own hostile bodies. */
function multipartRequests(): Request[] {
  const path = `/api/rooms/${room}/files/`;
  const m = (name: string, parts: string[], end?: string, type?: string) =>
    multipartRequest(`files: ${name}`, path, parts, end, type);
  return [
    m('no boundary parameter', [filePart('a.txt', 'text/plain', 'x')], undefined, 'multipart/form-data'),
    m(
      'boundary that never appears',
      [filePart('a.txt', 'text/plain', 'x')],
      undefined,
      'multipart/form-data; boundary=other',
    ),
    m('no closing boundary', [filePart('a.txt', 'text/plain', 'x')], ''),
    m('no file part', [fieldPart('message', 'hi')]),
    m('empty file', [filePart('a.txt', 'text/plain', '')]),
    m('disallowed type', [filePart('a.html', 'text/html', '<script>1</script>')]),
    m('type with no subtype', [filePart('a', 'text', 'x')]),
    m('two files', [filePart('a.txt', 'text/plain', 'x'), filePart('b.txt', 'text/plain', 'y')]),
    m('file in another field', [filePart('a.txt', 'text/plain', 'x', 'upload')]),
    m('fields after the file', [filePart('a.txt', 'text/plain', 'x'), fieldPart('message', 'late')]),
    m('a field of 20 KiB', [fieldPart('message', 'm'.repeat(20_480)), filePart('a.txt', 'text/plain', 'x')]),
    m('a bad sha256', [fieldPart('sha256', 'zz'), filePart('a.txt', 'text/plain', 'x')]),
    m('a wrong sha256', [fieldPart('sha256', 'a'.repeat(64)), filePart('a.txt', 'text/plain', 'x')]),
    m('a client_id of 65', [fieldPart('client_id', 'c'.repeat(65)), filePart('a.txt', 'text/plain', 'x')]),
    m('a lone surrogate message', [fieldPart('message', '\ud800'), filePart('a.txt', 'text/plain', 'x')]),
    m('a message over 500', [fieldPart('message', 'w'.repeat(600)), filePart('a.txt', 'text/plain', 'x')]),
    m('unknown fields', [
      fieldPart('a', '1'),
      fieldPart('b', '2'),
      fieldPart('c', '3'),
      fieldPart('d', '4'),
      filePart('a.txt', 'text/plain', 'x'),
    ]),
    m('traversal and control characters in the filename', [
      filePart('../../\u0001evil\u202e.txt', 'text/plain', 'x'),
    ]),
    m('no filename', [
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"\r\nContent-Type: text/plain\r\n\r\nx\r\n`,
    ]),
    m('no Content-Disposition', [`--${BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n`]),
    m('garbage part headers', [`--${BOUNDARY}\r\n\u0000\u0001: ::\r\n\r\nx\r\n`]),
    m('garbage instead of parts', ['not multipart at all'], ''),
    {
      ...m('as a non-member', [filePart('a.txt', 'text/plain', 'x')]),
      path: `/api/rooms/${privateRoom}/files/`,
    },
  ];
}

/** Seeded combinations: a random route, then one to three mutations from the tables above. */
function generatedRequests(): Request[] {
  const rng = new Prng(seed);
  const all = routes();
  return Array.from({ length: GENERATED }, (_, i) => {
    const route = rng.pick(all);
    let request = jsonRequest(`generated #${i} ${route.method} ${route.pattern}`, route);
    const steps = 1 + rng.int(3);
    for (let s = 0; s < steps; s++) {
      switch (rng.int(6)) {
        case 0:
          request = { ...request, body: rng.pick(BAD_JSON) };
          break;
        case 1:
          request = {
            ...request,
            headers: [
              ...request.headers.filter(([n]) => n !== 'Content-Type'),
              ['Content-Type', rng.pick(CONTENT_TYPES)],
            ],
            body: request.body ?? '{}',
          };
          break;
        case 2:
          if (route.body) {
            const body = route.body();
            const field = rng.pick(Object.keys(body));
            request = { ...request, body: JSON.stringify({ ...body, [field]: rng.pick(WRONG_VALUES) }) };
          }
          break;
        case 3:
          if (route.pattern.includes(':')) {
            const param = rng.pick(PARAMS) + (rng.chance(0.3) ? rng.pick(PARAMS) : '');
            request = {
              ...request,
              path: validPath(route, paramOf(route, param)),
            };
          }
          break;
        case 4:
          request = {
            ...request,
            path: `${request.path.split('?')[0]}?${rng.pick(QUERIES)}&${rng.pick(QUERIES)}`,
          };
          break;
        default:
          request = {
            ...request,
            headers: [
              ...request.headers.filter(([n]) => n !== 'Authorization'),
              ...rng
                .pick(AUTHS)[1]
                .map(([n, v]): [string, string] => [
                  n,
                  v.replace('REFRESH', alice.refresh).replace('ACCESS', alice.access),
                ]),
            ],
          };
      }
    }
    return request;
  });
}

/** Outside /api: the health, metrics and document routes, and the web app's fallback. */
function otherRequests(): Request[] {
  const paths = [
    '/healthz',
    '/readyz',
    '/metrics',
    '/asyncapi.json',
    '/',
    '/index.html',
    '/%zz',
    '/..%2f..%2fetc%2fpasswd',
    '/api',
    '/api/',
    '/api/%zz',
    '/api/../healthz',
    `/${'a'.repeat(8000)}`,
    '/ws/status/',
    '/sw.js',
  ];
  return paths.flatMap((path) =>
    ['GET', 'POST', 'OPTIONS', 'HEAD', 'TRACE'].map(
      (method): Request => ({ name: `other ${method} ${path.slice(0, 40)}`, method, path, headers: [] }),
    ),
  );
}

// --- the tests ------------------------------------------------------------------------------

describe('REST fuzzing on every route', () => {
  it('the fuzz table covers every route the source declares', () => {
    const covered = routes()
      .map((r) => `${r.method} ${r.pattern}`)
      .sort();
    expect(covered).toEqual(declaredRoutes());
  });

  it('bad JSON, content types, huge bodies, wrong field types, hostile params and queries: no 5xx, JSON errors', async () => {
    await attackAll(tableRequests(), 'table');
  });

  it('hostile multipart uploads: no 5xx, JSON errors', async () => {
    await attackAll(multipartRequests(), 'multipart');
  });

  it('seeded combinations of the mutations: no 5xx, JSON errors', async () => {
    await attackAll(generatedRequests(), 'generated');
  });

  it('the routes outside /api: no 5xx', async () => {
    await attackAll(otherRequests(), 'outside /api');
  });

  it('the server logged no error while being fuzzed', () => {
    expect(target.errorLog(), `FUZZ_SEED=${seed}`).toEqual([]);
  });
});
