import { describe, expect, it } from 'vitest';
import { QueueFullError } from '../src/errors.ts';
import { Outbox } from '../src/outbox.ts';
import { type KeyValueStore, memoryOutboxStorage, webOutboxStorage } from '../src/outbox-storage.ts';

/** A Map behind the DOM Storage interface: the same contract localStorage offers a page. */
function keyValueStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

const frame = (n: number) => ({ type: 'chat_message', message: `m${n}`, client_id: `c${n}`, ref: `r${n}` });

describe('Outbox', () => {
  it('keeps frames in send order and refuses more than its limit', () => {
    const outbox = new Outbox(memoryOutboxStorage(), 'room', 3);
    for (const n of [1, 2, 3]) outbox.add(frame(n));
    expect(() => outbox.add(frame(4))).toThrow(QueueFullError);
    expect(outbox.entries().map((entry) => entry.frame.ref)).toEqual(['r1', 'r2', 'r3']);
    outbox.remove('r2');
    outbox.add(frame(4));
    expect(outbox.entries().map((entry) => entry.frame.ref)).toEqual(['r1', 'r3', 'r4']);
  });

  it('survives a reload through web storage, per key, and forgets acknowledged frames', () => {
    const store = keyValueStore();
    const first = new Outbox(webOutboxStorage(store), 'alice/lobby', 10);
    first.add(frame(1));
    first.add(frame(2));
    first.remove('r1');

    const reloaded = new Outbox(webOutboxStorage(store), 'alice/lobby', 10);
    expect(reloaded.entries().map((entry) => entry.frame)).toEqual([frame(2)]);
    expect(reloaded.entries()[0]?.written).toBe(false);
    expect(new Outbox(webOutboxStorage(store), 'bob/lobby', 10).size).toBe(0);

    reloaded.remove('r2');
    expect(store.data.size).toBe(0);
  });

  it('ignores damaged storage instead of failing', () => {
    const store = keyValueStore();
    store.setItem('switchboard:outbox:k', '{not json');
    expect(new Outbox(webOutboxStorage(store), 'k', 10).size).toBe(0);
    store.setItem('switchboard:outbox:k', JSON.stringify([{ nope: 1 }, frame(1), 'x']));
    expect(new Outbox(webOutboxStorage(store), 'k', 10).entries().map((entry) => entry.frame.ref)).toEqual([
      'r1',
    ]);
  });
});
