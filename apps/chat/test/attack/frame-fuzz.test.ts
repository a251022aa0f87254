/**
 * The attacker on an open socket: over ten thousand frames from a seeded PRNG, sent to every
 * WebSocket endpoint (chat, notifications, status) of a real server process. Each frame is a valid
 * frame of that endpoint, mutated one way: wrong types, missing and extra fields, huge strings,
 * deep nesting, lone surrogates, invisible characters, numbers as strings, odd numbers,
 * prototype-pollution keys, broken JSON, binary and empty frames, invalid UTF-8, oversize frames.
 *
 * Every frame carries a unique `ref`, and the suite holds the server to the protocol:
 *   - every frame gets exactly one answer, an `ack` or an `error` with a code from the documented
 *     set, carrying the frame's ref (or none, where the frame's ref cannot be read);
 *   - classes whose answer the protocol fixes get exactly that answer;
 *   - the process never exits, REST answers 200 afterwards, and nothing stored before the run is
 *     lost: the room's seqs are exactly the acked changes, and others' messages are untouched.
 *
 * The frames go in lockstep (see FuzzSocket), so a failure names the frame, its class and the seed.
 * Replay a run with FUZZ_SEED=<seed>.
 */
import type { ChatMessage } from '@switchboard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatUser } from '../support/chat-api.ts';
import { fuzzSeed, isAcceptableCode, Prng, Tally, Target } from './support/attack-kit.ts';
import { type Answer, FuzzSocket, type Outcome } from './support/fuzz-socket.ts';

const FRAMES = { chat: 5200, notifications: 2500, status: 2500 };
/** Bounds a hang; generous because CI machines are shared and slow. */
const ANSWER_TIMEOUT_MS = 10_000;
const SERVICE_TOKEN = 'attack-service-token-'.padEnd(40, 's');
/** The socket limit (WS_MAX_PAYLOAD_BYTES, 1 MiB by default): beyond it the socket closes with 1009. */
const MAX_FRAME_BYTES = 1024 * 1024;

type Endpoint = keyof typeof FRAMES;
const WELCOME: Record<Endpoint, string> = {
  chat: 'synced',
  notifications: 'unread_count',
  status: 'status_snapshot',
};

/** What the answer to a frame must be; `any` is an ack or an error with an acceptable code. */
type Expectation = 'any' | 'ack' | { error: string[] };

interface Probe {
  /** The mutation class, for the per-class verdicts below. */
  cls: string;
  endpoint: Endpoint;
  data: string | Buffer;
  binary: boolean;
  /** The ref the answer must carry; undefined: the frame's ref cannot be read, so the answer has none. */
  ref: string | undefined;
  expect: Expectation;
  /** The frame type, when the frame is valid JSON with a type (for counting stored changes). */
  type?: string;
  /** Frames that end the connection by protocol rule: sent on a socket of their own. */
  closesWith?: number;
}

interface ClassResult {
  sent: number;
  failed: number;
  /** The first few complaints, each naming its frame and the seed. */
  failures: string[];
}

// --- the world the fuzzer attacks -----------------------------------------------------------

let target: Target;
let alice: ChatUser;
let bob: ChatUser;
let slug: string;
let seed: number;
const tally = new Tally();
const results = new Map<string, ClassResult>();
/** Messages stored before the run: bob's must come through untouched, alice's only by acked changes. */
let before: ChatMessage[] = [];
let baselineSeq = 0;
/** Ids the generator aims at, learnt from setup and from acks during the run. */
const known = {
  aliceMessages: [] as number[],
  bobMessages: [] as number[],
  aliceNotifications: [] as number[],
  bobNotifications: [] as number[],
  uploads: [] as string[],
};
/** Seqs of every acked change (post, edit, delete, completed upload), and the ids behind them. */
const acked = {
  seqs: new Set<number>(),
  posted: new Set<number>(),
  edited: new Set<number>(),
  deleted: new Set<number>(),
};
let rateLimitCloses = 0;

/** Sets up the world, then runs the whole attack; the verdicts below read its results. */
async function startAndAttack(): Promise<void> {
  seed = fuzzSeed('frames');
  target = await Target.start({
    // The fuzzer sends thousands of frames a minute on purpose; the limiter has its own test below.
    WS_RATE_LIMIT: '1000000',
    AUTH_RATE_LIMIT: '100000',
    UPLOAD_MAX_PENDING: '200',
    // Per-user upload rate (rest branch): lifted, so uploads keep reaching their handlers.
    UPLOADS_PER_MINUTE: '100000',
    SERVICE_TOKEN,
  });
  alice = await target.api.signUp('alice');
  bob = await target.api.signUp('bob');
  slug = await target.api.createRoom(alice);
  await target.api.join(bob, slug);

  // What is stored before the attack: messages of both, notifications of both.
  for (const [user, texts, ids] of [
    [bob, ['bob one', 'bob two', 'bob three'], known.bobMessages],
    [alice, ['alice one', 'alice two', 'alice three'], known.aliceMessages],
  ] as const) {
    const socket = await FuzzSocket.open(chatUrl(user), 'synced');
    for (const [i, text] of texts.entries()) {
      const outcome = await socket.exchange(
        JSON.stringify({ type: 'chat_message', message: text, ref: `s${i}` }),
        false,
        10_000,
      );
      if (outcome.kind !== 'answer' || outcome.answer.type !== 'ack')
        throw new Error(`setup post: ${JSON.stringify(outcome)}`);
      ids.push(outcome.answer.message_id as number);
    }
    await socket.close();
  }
  for (const [user, ids] of [
    [alice, known.aliceNotifications],
    [bob, known.bobNotifications],
  ] as const) {
    for (const title of ['first', 'second']) {
      const sent = await target.api.call('POST', '/api/notifications/', {
        token: SERVICE_TOKEN,
        body: { user_id: user.id, title },
      });
      if (sent.status !== 201) throw new Error(`setup notification: ${JSON.stringify(sent)}`);
      ids.push(sent.body.notification.id);
    }
  }
  before = await fullHistory();
  baselineSeq = await roomLastSeq();

  const rng = new Prng(seed);
  await Promise.all(
    (Object.keys(FRAMES) as Endpoint[]).map((endpoint) => attack(endpoint, new Prng(rng.int(2 ** 32)))),
  );
}

afterAll(() => {
  tally.print('frames', 'frames');
  console.log(`attack[frames]: ${rateLimitCloses} sockets closed with 4429 by the limiter and reopened`);
});

function chatUrl(user: ChatUser): string {
  return `${target.wsBase}/ws/chat/${slug}/?token=${user.access}`;
}

function endpointUrl(endpoint: Endpoint): string {
  return endpoint === 'chat' ? chatUrl(alice) : `${target.wsBase}/ws/${endpoint}/?token=${alice.access}`;
}

async function roomLastSeq(): Promise<number> {
  const answer = await target.api.call('GET', `/api/rooms/?limit=100`, { token: bob.access });
  // The list is a bare array today; the paged list (rest branch) wraps it as {rooms, next_after_id}.
  const rooms = (Array.isArray(answer.body) ? answer.body : answer.body.rooms) as {
    slug: string;
    last_seq: number;
  }[];
  return rooms.find((r) => r.slug === slug)!.last_seq;
}

async function fullHistory(): Promise<ChatMessage[]> {
  const all: ChatMessage[] = [];
  let query = 'limit=200';
  for (;;) {
    const page = await target.api.history(bob, slug, query);
    all.push(...page.messages);
    if (page.next_before_seq === null) return all;
    query = `limit=200&before_seq=${page.next_before_seq}`;
  }
}

// --- running the attack ---------------------------------------------------------------------

function record(cls: string, failure?: string): void {
  let result = results.get(cls);
  if (!result) {
    result = { sent: 0, failed: 0, failures: [] };
    results.set(cls, result);
  }
  result.sent++;
  if (!failure) return;
  result.failed++;
  if (result.failures.length < 12) result.failures.push(failure);
}

async function attack(endpoint: Endpoint, rng: Prng): Promise<void> {
  let socket = await FuzzSocket.open(endpointUrl(endpoint), WELCOME[endpoint]);
  /** The answer to the frame before, on the current socket. */
  let previous: Answer | undefined;
  for (let i = 0; i < FRAMES[endpoint]; i++) {
    const probe = generate(endpoint, rng, `${endpoint[0]}${i}`);
    tally.add(endpoint);
    if (probe.closesWith !== undefined) {
      record(probe.cls, await fatal(probe));
      continue;
    }
    let outcome = await socket.exchange(probe.data, probe.binary, ANSWER_TIMEOUT_MS);
    if (outcome.kind === 'closed' && outcome.code === 4429 && previous?.type === 'error') {
      // The limiter closes a socket right after the refusal that tipped it over (too many
      // invalid frames, or far over the rate): this frame came after the close and was never
      // read, so it goes again on a new socket. A 4429 after an ack would have eaten this frame.
      rateLimitCloses++;
      socket = await FuzzSocket.open(endpointUrl(endpoint), WELCOME[endpoint]);
      outcome = await socket.exchange(probe.data, probe.binary, ANSWER_TIMEOUT_MS);
    }
    record(probe.cls, judge(probe, outcome));
    learn(probe, outcome);
    previous = outcome.kind === 'answer' ? outcome.answer : undefined;
    if (outcome.kind === 'answer' && outcome.answer.code === 'RATE_LIMIT_EXCEEDED') await socket.settle();
    if (socket.closed) {
      socket = await FuzzSocket.open(endpointUrl(endpoint), WELCOME[endpoint]);
      previous = undefined;
    }
  }
  // Anything still arriving is a second answer to some frame.
  await socket.settle();
  for (const extra of socket.unexpected())
    record(`${endpoint}: no second answer`, `unclaimed ${JSON.stringify(extra).slice(0, 200)}`);
  record(`${endpoint}: no second answer`);
  await socket.close();
}

/** A frame that must close its connection: sent alone on a fresh socket. */
async function fatal(probe: Probe): Promise<string | undefined> {
  const socket = await FuzzSocket.open(endpointUrl(probe.endpoint), WELCOME[probe.endpoint]);
  const outcome = await socket.exchange(probe.data, probe.binary, ANSWER_TIMEOUT_MS);
  await socket.close();
  if (outcome.kind === 'closed' && outcome.code === probe.closesWith) return undefined;
  return `${describeProbe(probe)}: expected close ${probe.closesWith}, got ${JSON.stringify(outcome).slice(0, 300)}`;
}

function describeProbe(probe: Probe): string {
  const text =
    typeof probe.data === 'string'
      ? probe.data
      : `<${probe.binary ? 'binary' : 'text'} ${probe.data.length} bytes ${probe.data.subarray(0, 24).toString('hex')}>`;
  return `[seed ${seed}] ${probe.endpoint} ${probe.cls} ${JSON.stringify(text.slice(0, 240))}`;
}

/** Null when the outcome is what the protocol promises for this probe; the complaint otherwise. */
function judge(probe: Probe, outcome: Outcome): string | undefined {
  const what = describeProbe(probe);
  if (outcome.kind === 'timeout') return `${what}: no answer within ${ANSWER_TIMEOUT_MS} ms`;
  if (outcome.kind === 'closed')
    return `${what}: socket closed (${outcome.code} ${outcome.reason}) instead of an answer`;
  const { answer } = outcome;
  if (answer.type !== 'ack' && answer.type !== 'error') return `${what}: answer ${JSON.stringify(answer)}`;
  if (probe.ref === undefined ? 'ref' in answer : answer.ref !== probe.ref) {
    return `${what}: answered with ref ${JSON.stringify(answer.ref)}, expected ${probe.ref === undefined ? 'none' : JSON.stringify(probe.ref)} (${JSON.stringify(answer).slice(0, 200)})`;
  }
  if (answer.type === 'error' && (!isAcceptableCode(answer.code) || typeof answer.error !== 'string')) {
    return `${what}: error outside the documented set: ${JSON.stringify(answer).slice(0, 300)}`;
  }
  const expectation = probe.expect;
  if (expectation === 'ack' && answer.type !== 'ack')
    return `${what}: expected an ack, got ${JSON.stringify(answer).slice(0, 300)}`;
  if (
    typeof expectation === 'object' &&
    (answer.type !== 'error' || !expectation.error.includes(answer.code as string))
  ) {
    return `${what}: expected error ${expectation.error.join('|')}, got ${JSON.stringify(answer).slice(0, 300)}`;
  }
  return undefined;
}

/** Learns ids from acks (so later frames aim at real uploads) and counts the changes stored. */
function learn(probe: Probe, outcome: Outcome): void {
  if (outcome.kind !== 'answer' || outcome.answer.type !== 'ack' || probe.endpoint !== 'chat') return;
  const ack = outcome.answer;
  const change = (seq: unknown) => {
    if (typeof seq === 'number') acked.seqs.add(seq);
  };
  switch (probe.type) {
    case 'chat_message':
      if (ack.duplicate === false) {
        change(ack.seq);
        acked.posted.add(ack.message_id as number);
        known.aliceMessages.push(ack.message_id as number);
      }
      break;
    case 'edit_message':
      change(ack.seq);
      acked.edited.add(ack.message_id as number);
      break;
    case 'delete_message':
      change(ack.seq);
      acked.deleted.add(ack.message_id as number);
      break;
    case 'upload_file':
      if (typeof ack.upload_id === 'string') known.uploads.push(ack.upload_id);
      break;
    case 'upload_chunk':
      if (ack.complete === true && typeof ack.message_id === 'number') {
        change(ack.seq);
        acked.posted.add(ack.message_id);
      }
      break;
  }
}

// --- the generator --------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Frame = { [key: string]: Json };

/** Fields whose absence the schema refuses, per frame type. */
const REQUIRED: Record<string, string[]> = {
  chat_message: ['message'],
  edit_message: ['message_id', 'new_content'],
  delete_message: ['message_id'],
  typing: ['is_typing'],
  mark_read: ['seq'],
  upload_file: ['file_name', 'file_size', 'file_type'],
  upload_chunk: ['upload_id', 'chunk_index', 'chunk_data'],
  'mark_read (notifications)': ['notification_id'],
  mark_all_read: [],
  status_update: ['status'],
};
/** The field holding message text, where the message rules apply: not blank, at most 500 characters. */
const TEXT_FIELD: Record<string, string> = { chat_message: 'message', edit_message: 'new_content' };

/**
 * The refusal bad text gets. An edit may be refused for its target first (another's message,
 * a deleted or unknown one): either way it must not be stored.
 */
function textRefusal(type: string, code: string): Expectation {
  return { error: type === 'edit_message' ? [code, 'PERMISSION_DENIED', 'NOT_FOUND'] : [code] };
}
/** Characters that show nothing (docs/protocol.md, "Text is text"): a body of only these and white space is empty. */
const INVISIBLE = ['\u200b', '\u2060', '\u00ad', '\u3164', '\u2800', '\u0085'];
const CONTROL = ['\u0000', '\u0001', '\u0007', '\u001b', '\u007f', '\u000b'];
const WRONG_TYPES: Json[] = [1, -1, 0, 1.5, true, false, null, [], {}, [1, 'a'], { a: 1 }, '', 'x', '42'];
const ODD_NUMBERS = [
  -1,
  0,
  -0,
  0.5,
  1.5,
  1e-7,
  1e308,
  -1e308,
  2 ** 53 + 2,
  2 ** 31,
  -(2 ** 31),
  9007199254740991,
];
const POLLUTION_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '__defineGetter__',
  'hasOwnProperty',
  'toString',
];
const UNKNOWN_TYPES = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'ack',
  'error',
  'synced',
  'auth',
  'CHAT_MESSAGE',
  'chat_message ',
  '',
  'x'.repeat(300),
];

/** A valid frame of `type`, aimed at the ids the run knows. */
function validFrame(type: string, rng: Prng): Frame {
  const messageId = () =>
    rng.pick([...known.aliceMessages, ...known.aliceMessages, ...known.bobMessages, 999_999]);
  switch (type) {
    case 'chat_message': {
      const frame: Frame = {
        type,
        message: rng.pick(['hi', 'hello world', '<script>alert(1)</script>', 'émoji 🎉', `n${rng.int(1e6)}`]),
      };
      if (rng.chance(0.3)) frame.client_id = `c${rng.int(50)}`;
      if (rng.chance(0.2)) frame.reply_to = messageId();
      return frame;
    }
    case 'edit_message':
      return { type, message_id: messageId(), new_content: `edited ${rng.int(1000)}` };
    case 'delete_message':
      return { type, message_id: messageId() };
    case 'typing':
      return { type, is_typing: rng.chance(0.5) };
    case 'mark_read':
      return { type, seq: rng.int(baselineSeq + 50) };
    case 'upload_file': {
      const frame: Frame = {
        type,
        file_name: rng.pick(['a.txt', 'report.pdf', '../../etc/passwd', 'x.html', 'ok.png']),
        file_size: rng.pick([1, 3, 5, 1024]),
        file_type: rng.pick(['text/plain', 'image/png', 'text/html', 'application/pdf']),
      };
      if (rng.chance(0.3)) frame.message = 'file';
      return frame;
    }
    case 'upload_chunk':
      return {
        type,
        upload_id:
          rng.chance(0.7) && known.uploads.length > 0
            ? rng.pick(known.uploads)
            : rng.string(36, 'abcdef0123456789-'),
        chunk_index: rng.int(3),
        chunk_data: Buffer.from(rng.string(rng.pick([1, 3, 5]))).toString('base64'),
      };
    case 'mark_all_read':
      return { type };
    case 'status_update':
      return { type, status: rng.pick(['online', 'away', 'busy', 'offline']) };
    default:
      throw new Error(`no valid frame for ${type}`);
  }
}

const TYPES: Record<Endpoint, string[]> = {
  chat: [
    'chat_message',
    'chat_message',
    'edit_message',
    'delete_message',
    'typing',
    'mark_read',
    'upload_file',
    'upload_chunk',
  ],
  notifications: ['mark_read', 'mark_all_read'],
  status: ['status_update'],
};

function notificationFrame(rng: Prng, type: string): Frame {
  if (type !== 'mark_read') return { type };
  return { type, notification_id: rng.pick([...known.aliceNotifications, 999_999]) };
}

function baseFrame(endpoint: Endpoint, rng: Prng): Frame {
  const type = rng.pick(TYPES[endpoint]);
  return endpoint === 'notifications' ? notificationFrame(rng, type) : validFrame(type, rng);
}

const INVALID = { error: ['INVALID_MESSAGE'] };

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** One probe: a base frame of the endpoint and one mutation, with the answer the protocol promises. */
function generate(endpoint: Endpoint, rng: Prng, ref: string): Probe {
  const frame = baseFrame(endpoint, rng);
  const type = frame.type as string;
  const fields = Object.keys(frame).filter((k) => k !== 'type');
  const probe = (
    cls: string,
    value: Frame | string,
    expect: Expectation,
    extra: Partial<Probe> = {},
  ): Probe => {
    // A ref given in `extra` is the one written into the frame (and expected back).
    const data =
      typeof value === 'string' ? value : JSON.stringify({ ...value, ref: 'ref' in extra ? extra.ref : ref });
    return { cls, endpoint, data, binary: false, ref, expect, type, ...extra };
  };
  const textField = TEXT_FIELD[type];

  switch (rng.int(24)) {
    case 0:
    case 1:
      return probe('valid', frame, 'any');
    case 2: {
      // A field of another JSON type than the schema's.
      const field = rng.pick([...fields, 'type']);
      const original = frame[field];
      const replacement = rng.pick(
        WRONG_TYPES.filter(
          (v) =>
            typeof v !== typeof original ||
            Array.isArray(v) !== Array.isArray(original) ||
            (v === null) !== (original === null),
        ),
      );
      return probe('wrong type', { ...frame, [field]: replacement }, INVALID);
    }
    case 3: {
      const required =
        REQUIRED[endpoint === 'notifications' && type === 'mark_read' ? 'mark_read (notifications)' : type] ??
        [];
      const field = required.length > 0 ? rng.pick(required) : 'type';
      const { [field]: _dropped, ...rest } = frame;
      return probe('missing field', rest, INVALID);
    }
    case 4:
      return probe(
        'extra field',
        {
          ...frame,
          [rng.pick(['admin', 'user_id', 'room', 'seq_override', rng.string(8)])]: rng.pick(WRONG_TYPES),
        },
        INVALID,
      );
    case 5: {
      // Own keys named like prototype members, at the top or one level down, as JSON text.
      const key = rng.pick(POLLUTION_KEYS);
      const body = JSON.stringify({ ...frame, ref }).slice(1, -1);
      const text = rng.chance(0.5)
        ? `{"${key}":{"is_admin":true},${body}}`
        : `{${body},"x":{"${key}":{"polluted":1}}}`;
      return probe('prototype keys', text, INVALID);
    }
    case 6: {
      const numeric = fields.filter((f) => typeof frame[f] === 'number');
      if (numeric.length === 0) return probe('numbers as strings', { ...frame, type: `"${type}"` }, INVALID);
      const field = rng.pick(numeric);
      return probe('numbers as strings', { ...frame, [field]: String(frame[field]) }, INVALID);
    }
    case 7: {
      const numeric = fields.filter((f) => typeof frame[f] === 'number');
      const field = numeric.length > 0 ? rng.pick(numeric) : 'seq';
      const value = rng.pick(ODD_NUMBERS);
      // Written as JSON text so -0 and 1e308 reach the server as typed.
      const body = JSON.stringify({ ...frame, [field]: 0, ref }).replace(
        `"${field}":0`,
        `"${field}":${Object.is(value, -0) ? '-0' : String(value)}`,
      );
      return probe('odd numbers', body, 'any');
    }
    case 8: {
      const field = textField ?? rng.pick(fields.length > 0 ? fields : ['type']);
      const size = rng.pick([600, 10_000, 200_000, MAX_FRAME_BYTES - 4096]);
      const expect: Expectation = field === textField ? textRefusal(type, 'MESSAGE_TOO_LARGE') : 'any';
      return probe('huge string', { ...frame, [field]: 'y'.repeat(size) }, expect);
    }
    case 9: {
      // Deeper than the decoder's limit of 32, in a field of a frame whose ref is readable.
      const depth = rng.pick([33, 64, 1000, 50_000]);
      const body = JSON.stringify({ ...frame, ref }).slice(0, -1);
      return probe('deep nesting', `${body},"n":${nested(depth)}}`, INVALID);
    }
    case 10: {
      // Nesting within the limit: an unknown field all the same.
      const body = JSON.stringify({ ...frame, ref }).slice(0, -1);
      return probe('shallow nesting', `${body},"n":${nested(1 + rng.int(28))}}`, INVALID);
    }
    case 11: {
      if (!textField)
        return probe('lone surrogate elsewhere', { ...frame, ref: `${ref}\ud800` }, INVALID, {
          ref: `${ref}\ud800`,
        });
      const lone = rng.pick(['\ud800', '\udfff', 'a\udc00b', 'hi \ud83d', '\ude00 tail']);
      return probe(
        'lone surrogate in text',
        { ...frame, [textField]: lone },
        textRefusal(type, 'INVALID_MESSAGE'),
      );
    }
    case 12: {
      const field = rng.pick(['client_id', 'file_name', 'upload_id', 'status', 'type']);
      if (field === 'type' || !(field in frame))
        return probe('lone surrogate elsewhere', { ...frame, ref: `${ref}\udbff` }, INVALID, {
          ref: `${ref}\udbff`,
        });
      return probe('lone surrogate elsewhere', { ...frame, [field]: `a\ud800` }, INVALID);
    }
    case 13: {
      if (!textField)
        return probe('invisible characters mixed in', { ...frame, ref: `${ref}\u200b` }, 'any', {
          ref: `${ref}\u200b`,
        });
      const only = Array.from({ length: 1 + rng.int(6) }, () =>
        rng.pick([...INVISIBLE, ' ', '\n', '\t']),
      ).join('');
      const invisible = only.trim() === '' ? `${only}${rng.pick(INVISIBLE)}` : only;
      return probe(
        'invisible-only text',
        { ...frame, [textField]: invisible },
        textRefusal(type, 'INVALID_MESSAGE'),
      );
    }
    case 14: {
      if (!textField) return probe('control-only text', { ...frame, type: `${type}\u0000` }, INVALID);
      const only = Array.from({ length: 1 + rng.int(6) }, () => rng.pick([...CONTROL, ' '])).join('');
      return probe(
        'control-only text',
        { ...frame, [textField]: only.includes('\u0000') ? only : `\u0000${only}` },
        textRefusal(type, 'INVALID_MESSAGE'),
      );
    }
    case 15:
      return probe(
        'invisible characters mixed in',
        textField ? { ...frame, [textField]: `a${rng.pick(INVISIBLE)}b\u202e${rng.pick(CONTROL)}c` } : frame,
        'any',
      );
    case 16: {
      const broken = rng.pick([
        (s: string) => s.slice(0, Math.max(1, rng.int(s.length))),
        (s: string) => `${s}}`,
        (s: string) => `${s},`,
        (s: string) => s.replaceAll('"', "'"),
        (s: string) => `${s.slice(0, -1)},"n":NaN}`,
        (s: string) => `${s.slice(0, -1)},"n":Infinity}`,
        (s: string) => `/* c */${s}`,
        (s: string) => `${s.slice(0, -1)},}`,
        (s: string) => s.replace(':', ''),
      ]);
      // The ref still comes back where its top-level pair survived the damage (docs/protocol.md).
      const text = broken(JSON.stringify({ ...frame, ref }));
      return probe('not JSON', text, INVALID, { ref: text.includes(`"ref":"${ref}"`) ? ref : undefined });
    }
    case 17: {
      const value = rng.pick([
        '[]',
        `[${JSON.stringify({ ...frame, ref })}]`,
        '42',
        '"chat_message"',
        'null',
        'true',
        '-0',
        '1e999',
      ]);
      return probe('not an object', value, INVALID, { ref: undefined });
    }
    case 18: {
      const bytes = rng.chance(0.5)
        ? Buffer.from(JSON.stringify({ ...frame, ref }))
        : Buffer.from(rng.string(1 + rng.int(64), '\u0000\u0001abc{}[]"'), 'latin1');
      return { ...probe('binary frame', '', INVALID), data: bytes, binary: true, ref: undefined };
    }
    case 19:
      return probe('empty frame', rng.pick(['', ' ', '\n', '\t\r\n', '\u00a0']), INVALID, { ref: undefined });
    case 20:
      return probe('unknown type', { ...frame, type: rng.pick(UNKNOWN_TYPES) }, INVALID);
    case 21: {
      // A ref the envelope cannot accept cannot be echoed either.
      const bad = rng.pick<Json>([1, 0, true, null, {}, ['r'], '', 'r'.repeat(65)]);
      return probe('unreadable ref', JSON.stringify({ ...frame, ref: bad }), INVALID, { ref: undefined });
    }
    case 22: {
      // Duplicate keys: JSON.parse keeps the last one; whatever it is, the frame is answered once.
      const body = JSON.stringify({ ...frame, ref }).slice(0, -1);
      const key = rng.pick([...fields, 'type', 'ref']);
      const text =
        key === 'ref'
          ? `${body},"ref":"${ref}"}`
          : `${body},"${key}":${JSON.stringify(rng.pick(WRONG_TYPES))}}`;
      return probe('duplicate keys', text, 'any');
    }
    default: {
      if (rng.chance(0.5)) {
        // Invalid UTF-8 in a text frame: the socket closes with 1007 (RFC 6455 §8.1).
        const json = Buffer.from(JSON.stringify({ ...frame, ref }));
        const bad = rng.pick([
          Buffer.from([0xff]),
          Buffer.from([0xc0, 0xaf]),
          Buffer.from([0xed, 0xa0, 0x80]),
          Buffer.from([0xe2, 0x82]),
        ]);
        const at = 1 + rng.int(json.length - 1);
        return {
          ...probe('invalid UTF-8', '', 'any'),
          data: Buffer.concat([json.subarray(0, at), bad, json.subarray(at)]),
          closesWith: 1007,
        };
      }
      return {
        ...probe('oversize frame', { ...frame, pad: 'z'.repeat(MAX_FRAME_BYTES + 10) }, 'any'),
        closesWith: 1009,
      };
    }
  }
}

// --- the verdicts ---------------------------------------------------------------------------

const CLASSES = [
  'valid',
  'wrong type',
  'missing field',
  'extra field',
  'prototype keys',
  'numbers as strings',
  'odd numbers',
  'huge string',
  'deep nesting',
  'shallow nesting',
  'lone surrogate in text',
  'lone surrogate elsewhere',
  'invisible-only text',
  'control-only text',
  'invisible characters mixed in',
  'not JSON',
  'not an object',
  'binary frame',
  'empty frame',
  'unknown type',
  'unreadable ref',
  'duplicate keys',
  'invalid UTF-8',
  'oversize frame',
];

describe(`frame fuzzing on every endpoint (${FRAMES.chat + FRAMES.notifications + FRAMES.status} frames)`, () => {
  beforeAll(startAndAttack, 300_000);
  afterAll(async () => {
    await target?.stop();
  });

  for (const cls of CLASSES) {
    const check = () => {
      const result = results.get(cls);
      expect(result?.sent ?? 0, `class "${cls}" was never generated (seed ${seed})`).toBeGreaterThan(0);
      expect(
        result!.failures,
        `${result!.failed} of ${result!.sent} "${cls}" frames (FUZZ_SEED=${seed})`,
      ).toEqual([]);
    };
    it(`${cls}: every frame answered once, as the protocol says`, check);
  }

  it('no frame got a second answer', () => {
    for (const endpoint of Object.keys(FRAMES)) {
      const result = results.get(`${endpoint}: no second answer`);
      expect(result?.failures, `FUZZ_SEED=${seed}`).toEqual([]);
    }
  });

  it('the process survived and REST still answers 200', async () => {
    await target.assertAlive(`${tally.total} fuzzed frames`);
    for (const path of [
      '/api/me/',
      '/api/rooms/',
      `/api/rooms/${slug}/messages/`,
      '/api/notifications/',
      `/api/rooms/${slug}/read-receipts/`,
    ]) {
      const answer = await target.api.call('GET', path, { token: alice.access });
      expect(answer.status, `GET ${path} after the fuzz (FUZZ_SEED=${seed})`).toBe(200);
    }
    expect(target.errorLog(), `errors in the server log (FUZZ_SEED=${seed})`).toEqual([]);
  });

  it("nothing stored was lost: the room's seqs are exactly the acked changes, others' messages untouched", async () => {
    const after = await fullHistory();
    const byId = new Map(after.map((m) => [m.id, m]));
    const lastSeq = await roomLastSeq();
    // Every change took the next seq, and every change was acked: no gap, nothing unacked.
    const expected = Array.from({ length: lastSeq - baselineSeq }, (_, i) => baselineSeq + 1 + i);
    expect(
      [...acked.seqs].sort((a, b) => a - b),
      `acked change seqs (FUZZ_SEED=${seed})`,
    ).toEqual(expected);
    for (const old of before) {
      const now = byId.get(old.id);
      expect(now, `message ${old.id} is gone from history`).toBeDefined();
      if (old.author.id === bob.id) {
        // The fuzzer is alice: nothing she sent may change bob's messages.
        expect(now).toEqual(old);
      } else {
        expect(now!.deleted, `message ${old.id} deleted without an acked delete`).toBe(
          acked.deleted.has(old.id),
        );
        if (!acked.edited.has(old.id) && !acked.deleted.has(old.id)) expect(now).toEqual(old);
      }
    }
    for (const id of acked.posted) {
      expect(byId.get(id), `acked message ${id} missing from history (FUZZ_SEED=${seed})`).toBeDefined();
      expect(byId.get(id)!.deleted).toBe(acked.deleted.has(id));
    }
  });
});

/**
 * The fuzz server above lifts the limit so the fuzzer can work; this one keeps it small (5 frames
 * a minute) to show the limiter bites: refusals with retry_after, then 4429 for a sender that
 * keeps going.
 */
describe('the rate limiter closes abusive sockets', () => {
  let limited: Target;
  let mallory: ChatUser;
  let room: string;

  beforeAll(async () => {
    limited = await Target.start({ WS_RATE_LIMIT: '5', WS_RATE_WINDOW_SECONDS: '60' });
    mallory = await limited.api.signUp('mallory');
    room = await limited.api.createRoom(mallory);
  });

  afterAll(async () => {
    await limited?.stop();
  });

  /** Floods `count` frames without waiting, then collects the answers and the close code. */
  async function flood(frame: (i: number) => string, count: number) {
    const socket = await FuzzSocket.open(
      `${limited.wsBase}/ws/chat/${room}/?token=${mallory.access}`,
      'synced',
    );
    const answers: Answer[] = [];
    for (let i = 0; i < count && !socket.closed; i++) socket.socket.send(frame(i));
    for (
      let outcome = await socket.exchangeNone(10_000);
      outcome.kind === 'answer';
      outcome = await socket.exchangeNone(10_000)
    ) {
      answers.push(outcome.answer);
    }
    tally.add('rate-limit flood', count);
    return { answers, closed: socket.closed };
  }

  it('valid frames over the limit are refused with retry_after, then the socket is closed with 4429', async () => {
    const { answers, closed } = await flood(
      (i) => JSON.stringify({ type: 'chat_message', message: `m${i}`, ref: `r${i}` }),
      40,
    );
    expect(answers.slice(0, 5).map((a) => a.type)).toEqual(['ack', 'ack', 'ack', 'ack', 'ack']);
    expect(answers[5]).toMatchObject({
      type: 'error',
      ref: 'r5',
      code: 'RATE_LIMIT_EXCEEDED',
      retry_after: expect.any(Number),
    });
    expect(closed?.code).toBe(4429);
    // Stored: exactly the five acked, nothing that was refused.
    expect((await limited.api.history(mallory, room)).messages.map((m) => m.content).sort()).toEqual([
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
    ]);
    await limited.assertAlive('a rate-limit flood');
  });

  it('a flood of invalid frames is answered, then closed with 4429', async () => {
    const { answers, closed } = await flood(
      (i) => `{"type":"chat_message","message":${i},"ref":"i${i}"`,
      1000,
    );
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((a) => a.type === 'error' && a.code === 'INVALID_MESSAGE')).toBe(true);
    expect(closed?.code).toBe(4429);
    await limited.assertAlive('an invalid-frame flood');
  });
});
