/**
 * The checker: after the clients have settled, compares what PostgreSQL stored with what every
 * client sent, was acked and received, and lists every violation of the promises the chat makes:
 *
 * 1. seqs: per room, the changes are numbered 1…last_seq, each seq once, each message at its seq;
 * 2. every acked message is stored exactly once, with the id and seq its acks named;
 * 3. every message a client sent (acked, or still queued when a fault hit) is stored exactly once;
 * 4. nothing is stored that no client sent;
 * 5. every client received exactly the stored history of its room, in order, with no duplicate;
 * 6. every client ended connected with nothing left to send;
 * 7. no node's memory grew without bound (memory-monitor.ts).
 *
 * A violation carries the history that explains it: the events of the client or message involved
 * and the faults of that moment.
 */
import pg from 'pg';
import type { ClientAccount, Received, SentMessage } from './chaos-clients.ts';
import type { TimelineEntry } from './faults.ts';
import { type MemoryProblem, mb } from './memory-monitor.ts';

export interface StoredMessage {
  id: number;
  seq: number;
  authorId: number;
  clientId: string | null;
  content: string;
}

export interface StoredRoom {
  slug: string;
  lastSeq: number;
  /** Ordered by seq. */
  messages: StoredMessage[];
  /** The room's change log (room_changes): the seqs as the resume replay reads them. */
  changes: { seq: number; kind: string; messageId: number }[];
}

export interface Violation {
  rule: string;
  /** The room, client or message concerned. */
  subject: string;
  detail: string;
  /** Events that explain it, oldest first. */
  history: string[];
}

/** Every room's last seq, for the settle loop (cheap: one row per room). */
export async function readRoomHeads(databaseUrl: string): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ slug: string; last_seq: number }>(
      'select slug, last_seq from rooms',
    );
    return new Map(rows.map((row) => [row.slug, row.last_seq]));
  } finally {
    await client.end();
  }
}

/** The whole stored history of every room, straight from the database. */
export async function readStore(databaseUrl: string): Promise<Map<string, StoredRoom>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const rooms = new Map<string, StoredRoom>();
    const { rows: roomRows } = await client.query<{ id: number; slug: string; last_seq: number }>(
      'select id, slug, last_seq from rooms',
    );
    const slugOf = new Map(roomRows.map((r) => [r.id, r.slug]));
    for (const r of roomRows)
      rooms.set(r.slug, { slug: r.slug, lastSeq: r.last_seq, messages: [], changes: [] });
    const { rows: messages } = await client.query<{
      id: number;
      room_id: number;
      seq: number;
      author_id: number;
      client_id: string | null;
      content: string;
    }>('select id, room_id, seq, author_id, client_id, content from messages order by room_id, seq, id');
    for (const m of messages) {
      rooms.get(slugOf.get(m.room_id)!)!.messages.push({
        id: m.id,
        seq: m.seq,
        authorId: m.author_id,
        clientId: m.client_id,
        content: m.content,
      });
    }
    const { rows: changes } = await client.query<{
      room_id: number;
      seq: number;
      kind: string;
      message_id: number;
    }>('select room_id, seq, kind, message_id from room_changes order by room_id, seq');
    for (const c of changes) {
      rooms.get(slugOf.get(c.room_id)!)!.changes.push({ seq: c.seq, kind: c.kind, messageId: c.message_id });
    }
    return rooms;
  } finally {
    await client.end();
  }
}

/** What the checker reads of a client: a ChaosClient, or a plain object in the checker's own test. */
export interface CheckedClient {
  name: string;
  account: Pick<ClientAccount, 'room' | 'userId'>;
  status: string;
  settled: boolean;
  sent: Map<string, SentMessage>;
  received: Received[];
  events: string[];
  eventsAbout(clientId: string): string[];
}

export interface CheckInput {
  store: Map<string, StoredRoom>;
  clients: CheckedClient[];
  timeline: TimelineEntry[];
  memory: MemoryProblem[];
}

export function check({ store, clients, timeline, memory }: CheckInput): Violation[] {
  return [
    ...checkSeqs(store),
    ...checkMessages(store, clients, timeline),
    ...checkClientHistories(store, clients, timeline),
    ...memory.map((problem) => ({
      rule: 'memory is bounded',
      subject: `node ${problem.node}`,
      detail: problem.what,
      history: problem.samples.map(
        (s) => `${s.at.toFixed(1)} s node ${s.node} (process ${s.incarnation}): ${mb(s.rssBytes)}`,
      ),
    })),
  ];
}

/** Rule 1. */
function checkSeqs(store: Map<string, StoredRoom>): Violation[] {
  const violations: Violation[] = [];
  for (const room of store.values()) {
    const fail = (detail: string) =>
      violations.push({
        rule: 'room seqs are unique and gapless',
        subject: `room ${room.slug}`,
        detail,
        history: [],
      });
    const changeSeqs = room.changes.map((c) => c.seq);
    const expected = Array.from({ length: room.lastSeq }, (_, i) => i + 1);
    if (changeSeqs.join() !== expected.join()) {
      fail(`change log seqs ${describeSeqDifference(expected, changeSeqs)} (last_seq ${room.lastSeq})`);
    }
    const seen = new Map<number, StoredMessage>();
    for (const m of room.messages) {
      const other = seen.get(m.seq);
      if (other) fail(`messages ${other.id} and ${m.id} share seq ${m.seq}`);
      seen.set(m.seq, m);
      const change = room.changes.find((c) => c.seq === m.seq);
      if (change?.kind !== 'created' || change.messageId !== m.id) {
        fail(`message ${m.id} (seq ${m.seq}) has no matching "created" change: ${JSON.stringify(change)}`);
      }
    }
    if (room.messages.length !== room.lastSeq) {
      fail(`${room.messages.length} messages for last_seq ${room.lastSeq} (only new messages were sent)`);
    }
  }
  return violations;
}

/** Rules 2, 3 and 4. */
function checkMessages(
  store: Map<string, StoredRoom>,
  clients: CheckedClient[],
  timeline: TimelineEntry[],
): Violation[] {
  const violations: Violation[] = [];
  const senderOf = new Map<string, CheckedClient>();
  for (const client of clients) for (const id of client.sent.keys()) senderOf.set(id, client);

  const storedByClientId = new Map<string, { room: string; message: StoredMessage }[]>();
  for (const room of store.values()) {
    for (const message of room.messages) {
      const key = message.clientId ?? '(none)';
      storedByClientId.set(key, [...(storedByClientId.get(key) ?? []), { room: room.slug, message }]);
    }
  }

  for (const client of clients) {
    for (const sent of client.sent.values()) {
      const copies = storedByClientId.get(sent.clientId) ?? [];
      const fail = (rule: string, detail: string) =>
        violations.push({
          rule,
          subject: `message ${sent.clientId} of client ${client.name} (room ${client.account.room})`,
          detail,
          history: messageHistory(client, sent, timeline),
        });
      const acked = sent.acks.length > 0;
      const rule = acked
        ? 'every acked message is stored exactly once'
        : 'every sent message is stored exactly once';
      if (copies.length !== 1) {
        fail(
          rule,
          `stored ${copies.length} times${acked ? `; acked ${sent.acks.length} times` : ', never acked'}`,
        );
        continue;
      }
      const { room, message } = copies[0]!;
      if (
        room !== client.account.room ||
        message.authorId !== client.account.userId ||
        message.content !== sent.content
      ) {
        fail(
          rule,
          `stored as ${JSON.stringify({ room, ...message })}, sent as ${JSON.stringify(sent.content)}`,
        );
      }
      const wrongAcks = sent.acks.filter((ack) => ack.message_id !== message.id || ack.seq !== message.seq);
      if (wrongAcks.length > 0) {
        fail(rule, `stored as id ${message.id} seq ${message.seq}; acks said ${JSON.stringify(wrongAcks)}`);
      }
      if (sent.acks.filter((ack) => !ack.duplicate).length > 1) {
        fail(rule, `more than one ack said it was newly stored: ${JSON.stringify(sent.acks)}`);
      }
    }
  }

  for (const [clientId, copies] of storedByClientId) {
    if (senderOf.has(clientId)) continue;
    for (const { room, message } of copies) {
      violations.push({
        rule: 'nothing is stored that no client sent',
        subject: `room ${room} seq ${message.seq}`,
        detail: `stored ${JSON.stringify(message)}`,
        history: [],
      });
    }
  }
  return violations;
}

/** Rules 5 and 6. */
function checkClientHistories(
  store: Map<string, StoredRoom>,
  clients: CheckedClient[],
  timeline: TimelineEntry[],
): Violation[] {
  const violations: Violation[] = [];
  for (const client of clients) {
    const room = store.get(client.account.room)!;
    const subject = `client ${client.name} (room ${room.slug}, user ${client.account.userId})`;
    const history = () => clientHistory(client, timeline);
    if (!client.settled) {
      violations.push({
        rule: 'every client ends connected with nothing left to send',
        subject,
        detail: `state ${client.status}; still queued or to resend: ${[...client.sent.values()]
          .filter((m) => m.acks.length === 0)
          .map((m) => m.clientId)
          .join(', ')}`,
        history: history(),
      });
    }
    const expected = room.messages.map(summary);
    const got = client.received.map(summary);
    if (expected.join('\n') !== got.join('\n')) {
      // What happened to each message the client lacks, told by its sender.
      const have = new Set(client.received.map((r) => r.seq));
      const missed = room.messages.filter((m) => !have.has(m.seq)).slice(0, 5);
      const sendersOwn = missed.flatMap((m) => {
        const sender = clients.find((c) => m.clientId !== null && c.sent.has(m.clientId));
        return sender ? sender.eventsAbout(m.clientId!).map((event) => `${sender.name} ${event}`) : [];
      });
      violations.push({
        rule: 'every client ends with exactly the stored history, in order, without duplicates',
        subject,
        detail: describeHistoryDifference(room.messages, client.received),
        history: mergeByTime([...history(), ...sendersOwn]),
      });
    }
  }
  return violations;
}

const summary = (m: { seq: number; id: number; clientId: string | null; content: string }) =>
  `${m.seq}:${m.id}:${m.clientId}:${m.content}`;

function describeHistoryDifference(stored: StoredMessage[], received: Received[]): string {
  const storedSeqs = new Set(stored.map((m) => m.seq));
  const counts = new Map<number, number>();
  for (const r of received) counts.set(r.seq, (counts.get(r.seq) ?? 0) + 1);
  const missing = stored.filter((m) => !counts.has(m.seq)).map((m) => m.seq);
  const duplicates = [...counts].filter(([, n]) => n > 1).map(([seq]) => seq);
  const unknown = received.filter((r) => !storedSeqs.has(r.seq)).map((r) => r.seq);
  let firstDifference = 0;
  while (
    firstDifference < stored.length &&
    firstDifference < received.length &&
    summary(stored[firstDifference]!) === summary(received[firstDifference]!)
  ) {
    firstDifference++;
  }
  const around = (list: { seq: number }[]) =>
    list
      .slice(Math.max(0, firstDifference - 2), firstDifference + 3)
      .map((m) => m.seq)
      .join(',');
  return [
    `stored ${stored.length}, received ${received.length}`,
    `missing seqs [${abbreviate(missing)}]`,
    `duplicate seqs [${abbreviate(duplicates)}]`,
    `not stored [${abbreviate(unknown)}]`,
    `first difference at position ${firstDifference}: stored …${around(stored)}…, received …${around(received)}…`,
  ].join('; ');
}

function describeSeqDifference(expected: number[], got: number[]): string {
  const have = new Set(got);
  const missing = expected.filter((seq) => !have.has(seq));
  const extra = got.filter((seq, i) => seq > expected.length || got.indexOf(seq) !== i);
  return `missing [${abbreviate(missing)}], extra or repeated [${abbreviate(extra)}]`;
}

function abbreviate(seqs: number[]): string {
  return seqs.length <= 20 ? seqs.join(',') : `${seqs.slice(0, 20).join(',')},… (${seqs.length})`;
}

/** A message's own events, the sender's connection events and the faults around them. */
function messageHistory(client: CheckedClient, sent: SentMessage, timeline: TimelineEntry[]): string[] {
  const own = client.eventsAbout(sent.clientId);
  const times = own.map((event) => Number.parseFloat(event));
  const from = Math.min(...times) - 10;
  const to = Math.max(...times) + 10;
  const connection = client.events.filter((event) => {
    const at = Number.parseFloat(event);
    return at >= from && at <= to && !event.includes(' send ') && !event.includes(' ack ');
  });
  return mergeByTime([
    ...new Set([...own, ...connection].map((event) => `${client.name} ${event}`)),
    ...faultsBetween(timeline, from, to),
  ]);
}

/** A client's connection events (not its per-message ones) and the whole fault timeline. */
function clientHistory(client: CheckedClient, timeline: TimelineEntry[]): string[] {
  const connection = client.events.filter(
    (event) => !/ (send|ack|received own) /.test(event) && !event.includes('rejected'),
  );
  return mergeByTime([
    ...connection.map((event) => `${client.name} ${event}`),
    ...faultsBetween(timeline, 0, Number.POSITIVE_INFINITY),
  ]);
}

function faultsBetween(timeline: TimelineEntry[], from: number, to: number): string[] {
  return timeline
    .filter((e) => e.at >= from && e.at <= to)
    .map((e) => `cluster ${e.at.toFixed(3)} s ${e.text}`);
}

/** Sorts `<who> <seconds> s <text>` lines by their time. */
function mergeByTime(lines: string[]): string[] {
  const at = (line: string) => Number.parseFloat(line.slice(line.indexOf(' ') + 1));
  return lines.sort((a, b) => at(a) - at(b));
}

/** The printable form of a violation. */
export function formatViolation(violation: Violation): string {
  return [
    `VIOLATION of "${violation.rule}": ${violation.subject}`,
    `  ${violation.detail}`,
    ...violation.history.map((line) => `    ${line}`),
  ].join('\n');
}
