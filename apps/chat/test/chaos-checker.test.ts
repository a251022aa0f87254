/**
 * The chaos soak's checker, on histories written by hand: it must see each kind of violation it
 * promises to see (a soak that always reports zero proves nothing unless its checker can fail),
 * and name the message or client with the events that explain it.
 */
import { describe, expect, it } from 'vitest';
import type { Received, SentMessage } from './chaos/chaos-clients.ts';
import { type CheckedClient, check, type StoredMessage, type StoredRoom } from './chaos/checker.ts';
import { DEFAULT_MEMORY_BOUND, memoryProblems, type RssSample } from './chaos/memory-monitor.ts';

const ROOM = 'r';

const stored = (seq: number, clientId: string, authorId = 1): StoredMessage => ({
  id: 100 + seq,
  seq,
  authorId,
  clientId,
  content: `text of ${clientId}`,
});

function roomOf(messages: StoredMessage[], lastSeq = messages.length): Map<string, StoredRoom> {
  const changes = messages.map((m) => ({ seq: m.seq, kind: 'created', messageId: m.id }));
  return new Map([[ROOM, { slug: ROOM, lastSeq, messages, changes }]]);
}

const sent = (clientId: string, ack?: { seq: number; duplicate?: boolean }): SentMessage => ({
  clientId,
  content: `text of ${clientId}`,
  attempts: 1,
  acks: ack ? [{ message_id: 100 + ack.seq, seq: ack.seq, duplicate: ack.duplicate ?? false }] : [],
  rejections: [],
  retryScheduled: false,
});

const asReceived = (m: StoredMessage): Received => ({
  seq: m.seq,
  id: m.id,
  clientId: m.clientId,
  content: m.content,
});

function client(name: string, messages: SentMessage[], received: Received[], userId = 1): CheckedClient {
  const events = messages.map((m) => `1.000 s send ${m.clientId} (attempt 1, 0 queued)`);
  return {
    name,
    account: { room: ROOM, userId },
    status: 'open',
    settled: true,
    sent: new Map(messages.map((m) => [m.clientId, m])),
    received,
    events,
    eventsAbout: (id) => events.filter((e) => e.includes(`${id} `)),
  };
}

const rulesOf = (violations: { rule: string }[]) => violations.map((v) => v.rule);
const noMemoryProblems = { timeline: [], memory: [] };

describe('chaos checker', () => {
  const history = [stored(1, 'a-1'), stored(2, 'a-2'), stored(3, 'a-3')];

  it('finds nothing wrong in a consistent run', () => {
    const writer = client(
      'a',
      [sent('a-1', { seq: 1 }), sent('a-2', { seq: 2 }), sent('a-3')],
      history.map(asReceived),
    );
    const reader = client('b', [], history.map(asReceived), 2);
    expect(check({ store: roomOf(history), clients: [writer, reader], ...noMemoryProblems })).toEqual([]);
  });

  it('sees a message stored twice, with the sender’s events', () => {
    const twice = [...history, { ...stored(4, 'a-3'), id: 104 }];
    const writer = client('a', [sent('a-1'), sent('a-2'), sent('a-3', { seq: 3 })], twice.map(asReceived));
    const [violation, ...others] = check({ store: roomOf(twice), clients: [writer], ...noMemoryProblems });
    expect(others).toEqual([]);
    expect(violation).toMatchObject({
      rule: 'every acked message is stored exactly once',
      subject: 'message a-3 of client a (room r)',
      detail: 'stored 2 times; acked 1 times',
    });
    expect(violation!.history).toEqual(['a 1.000 s send a-3 (attempt 1, 0 queued)']);
  });

  it('sees an acked message that was not stored, and a sent one that never was', () => {
    const writer = client(
      'a',
      [sent('a-1'), sent('a-2'), sent('a-3'), sent('a-4', { seq: 4 }), sent('a-5')],
      history.map(asReceived),
    );
    const violations = check({ store: roomOf(history), clients: [writer], ...noMemoryProblems });
    expect(violations.map((v) => [v.rule, v.subject, v.detail])).toEqual([
      [
        'every acked message is stored exactly once',
        'message a-4 of client a (room r)',
        'stored 0 times; acked 1 times',
      ],
      [
        'every sent message is stored exactly once',
        'message a-5 of client a (room r)',
        'stored 0 times, never acked',
      ],
    ]);
  });

  it('sees an ack naming another seq than the stored one, and something stored that nobody sent', () => {
    const writer = client('a', [sent('a-1'), sent('a-2', { seq: 3 })], history.map(asReceived));
    expect(rulesOf(check({ store: roomOf(history), clients: [writer], ...noMemoryProblems }))).toEqual([
      'every acked message is stored exactly once',
      'nothing is stored that no client sent',
    ]);
  });

  it('sees a gap and a repeated seq in the room', () => {
    const gappy = [stored(1, 'a-1'), stored(3, 'a-3'), { ...stored(3, 'a-2'), id: 99 }];
    const writer = client('a', [sent('a-1'), sent('a-2'), sent('a-3')], gappy.map(asReceived));
    const violations = check({ store: roomOf(gappy, 3), clients: [writer], ...noMemoryProblems });
    const seqRules = violations.filter((v) => v.rule === 'room seqs are unique and gapless');
    expect(seqRules.map((v) => v.detail)).toContain('messages 103 and 99 share seq 3');
    expect(seqRules.some((v) => v.detail.includes('missing [2]'))).toBe(true);
  });

  it('sees a client that missed, repeated or reordered a change, or did not settle', () => {
    const writer = client('a', [sent('a-1'), sent('a-2'), sent('a-3')], history.map(asReceived));
    const [one, two, three] = history.map(asReceived) as [Received, Received, Received];
    const missed = client('missed', [], [one, three], 2);
    const repeated = client('repeated', [], [one, two, two, three], 3);
    const reordered = client('reordered', [], [one, three, two], 4);
    const stuck = { ...client('stuck', [], [one, two, three], 5), settled: false, status: 'reconnecting' };
    const violations = check({
      store: roomOf(history),
      clients: [writer, missed, repeated, reordered, stuck],
      ...noMemoryProblems,
    });
    expect(violations.map((v) => [v.subject.split(' ')[1], v.rule])).toEqual([
      ['missed', 'every client ends with exactly the stored history, in order, without duplicates'],
      ['repeated', 'every client ends with exactly the stored history, in order, without duplicates'],
      ['reordered', 'every client ends with exactly the stored history, in order, without duplicates'],
      ['stuck', 'every client ends connected with nothing left to send'],
    ]);
    expect(violations[0]!.detail).toContain('missing seqs [2]');
    // The missing message's own story, from its sender, is part of the history.
    expect(violations[0]!.history).toContain('a 1.000 s send a-2 (attempt 1, 0 queued)');
    expect(violations[1]!.detail).toContain('duplicate seqs [2]');
    expect(violations[2]!.detail).toContain('first difference at position 1');
  });

  it('sees memory that keeps growing or passes the limit, not memory that levels off', () => {
    const MB = 2 ** 20;
    const samples = (node: number, rss: (at: number) => number): RssSample[] =>
      Array.from({ length: 90 }, (_, i) => ({ node, incarnation: 1, at: i * 2, rssBytes: rss(i * 2) }));
    const flat = samples(0, (at) => (150 + Math.min(at, 30)) * MB);
    // 1 MB more every second: from 150 MB to 330 MB in three minutes.
    const leaking = samples(1, (at) => (150 + at) * MB);
    const huge = samples(2, () => 900 * MB);
    const problems = memoryProblems([...flat, ...leaking, ...huge], DEFAULT_MEMORY_BOUND);
    expect(problems.map((p) => [p.node, p.what.split(':')[0]])).toEqual([
      [1, 'RSS kept growing in process 1'],
      [2, 'RSS above the limit of 768 MB'],
    ]);
  });
});
