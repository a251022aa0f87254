/**
 * The one conformance suite every channel layer must pass. Layers that span processes pass two
 * instances sharing one backend as `a` and `b`; single-process layers pass the same instance twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelLayer, LayerMessage, LayerOptions } from '../layer/channel-layer.ts';

export interface LayerPair {
  a: ChannelLayer;
  b: ChannelLayer;
}

export type LayerPairFactory = (options: Partial<LayerOptions>) => Promise<LayerPair>;

/** Resolves once `count` messages arrived, or rejects naming what did. */
function collector(count: number, timeoutMs = 3000) {
  const received: LayerMessage[] = [];
  let done: () => void = () => {};
  const complete = new Promise<LayerMessage[]>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`expected ${count} messages, got ${received.length}: ${JSON.stringify(received)}`)),
      timeoutMs,
    );
    done = () => {
      clearTimeout(timer);
      resolve(received);
    };
  });
  const receiver = (message: LayerMessage) => {
    received.push(message);
    if (received.length === count) done();
  };
  // A collector that is expected to stay empty is never awaited: its timeout is not an error.
  complete.catch(() => {});
  return { receiver, received, complete };
}

const settle = (ms = 150) => new Promise((resolve) => setTimeout(resolve, ms));

export function channelLayerConformance(name: string, makePair: LayerPairFactory): void {
  describe(`channel layer conformance: ${name}`, () => {
    const open: LayerPair[] = [];
    const pair = async (options: Partial<LayerOptions> = {}) => {
      const created = await makePair(options);
      open.push(created);
      return created;
    };
    afterEach(async () => {
      for (const { a, b } of open.splice(0)) {
        await a.close();
        if (b !== a) await b.close();
      }
    });

    it('send reaches the one channel it names, from either node', async () => {
      const { a, b } = await pair();
      const target = collector(2);
      const other = collector(1);
      const channel = a.addChannel(target.receiver);
      a.addChannel(other.receiver);
      await a.send(channel, { type: 'hello', n: 1 });
      await b.send(channel, { type: 'hello', n: 2 });
      expect(await target.complete).toEqual([
        { type: 'hello', n: 1 },
        { type: 'hello', n: 2 },
      ]);
      await settle();
      expect(other.received).toEqual([]);
    });

    it('channel names are unique across nodes', async () => {
      const { a, b } = await pair();
      const names = new Set<string>();
      for (let i = 0; i < 50; i++) {
        names.add(a.addChannel(() => {}));
        names.add(b.addChannel(() => {}));
      }
      expect(names.size).toBe(100);
    });

    it('messages to one channel arrive in the order they were sent', async () => {
      const { a, b } = await pair();
      const target = collector(200);
      const channel = b.addChannel(target.receiver);
      await Promise.all(Array.from({ length: 200 }, (_, n) => a.send(channel, { type: 'seq', n })));
      const got = await target.complete;
      expect(got.map((m) => m.n)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    });

    it('groupSend reaches every member on every node exactly once', async () => {
      const { a, b } = await pair();
      const members = [collector(1), collector(1), collector(1), collector(1)];
      const outsider = collector(1);
      const channels = members.map((m, i) => (i % 2 === 0 ? a : b).addChannel(m.receiver));
      for (const [i, channel] of channels.entries()) await (i % 2 === 0 ? a : b).groupAdd('group_1', channel);
      a.addChannel(outsider.receiver);
      await b.groupSend('group_1', { type: 'note', text: 'hi' });
      for (const m of members) expect(await m.complete).toEqual([{ type: 'note', text: 'hi' }]);
      await settle();
      for (const m of members) expect(m.received).toHaveLength(1);
      expect(outsider.received).toEqual([]);
    });

    it('local members of a group share one message object, so it is serialised once', async () => {
      const { a, b } = await pair();
      const first = collector(1);
      const second = collector(1);
      for (const c of [first, second]) await a.groupAdd('shared', a.addChannel(c.receiver));
      await b.groupSend('shared', { type: 'x' });
      const [one] = await first.complete;
      const [two] = await second.complete;
      expect(one).toBe(two);
    });

    it('groupDiscard and removeChannel stop delivery; groupSend to an empty group is harmless', async () => {
      const { a, b } = await pair();
      const stays = collector(2);
      const leaves = collector(1);
      const removed = collector(1);
      const s = a.addChannel(stays.receiver);
      const l = b.addChannel(leaves.receiver);
      const r = b.addChannel(removed.receiver);
      for (const channel of [s, l, r]) await (channel === s ? a : b).groupAdd('g', channel);
      await a.groupSend('g', { type: 'one' });
      await leaves.complete;
      await removed.complete;
      await b.groupDiscard('g', l);
      b.removeChannel(r);
      await a.groupSend('g', { type: 'two' });
      expect((await stays.complete).map((m) => m.type)).toEqual(['one', 'two']);
      await settle();
      expect(leaves.received.map((m) => m.type)).toEqual(['one']);
      expect(removed.received.map((m) => m.type)).toEqual(['one']);
      await a.groupSend('nobody_here', { type: 'void' });
    });

    it('removing a channel leaves every group it joined, without groupDiscard', async () => {
      const { a, b } = await pair();
      const removed = collector(1);
      const r = b.addChannel(removed.receiver);
      for (const group of ['g1', 'g2', 'g3']) await b.groupAdd(group, r);
      await a.groupSend('g1', { type: 'before' });
      await removed.complete;
      b.removeChannel(r);
      // The groups emptied on b; a newcomer to one of them on b is reached (b subscribes again).
      const newcomer = collector(1);
      await b.groupAdd('g2', b.addChannel(newcomer.receiver));
      for (const group of ['g1', 'g2', 'g3']) await a.groupSend(group, { type: `after-${group}` });
      expect((await newcomer.complete).map((m) => m.type)).toEqual(['after-g2']);
      await settle();
      expect(removed.received.map((m) => m.type)).toEqual(['before']);
      expect(newcomer.received.map((m) => m.type)).toEqual(['after-g2']);
    });

    it('a message to a channel that is gone is counted as undeliverable, not thrown', async () => {
      const { a, b } = await pair();
      const channel = a.addChannel(() => {});
      a.removeChannel(channel);
      await b.send(channel, { type: 'late' });
      await a.send(channel, { type: 'late' });
      await settle();
      expect(a.stats().undeliverable + (b === a ? 0 : b.stats().undeliverable)).toBeGreaterThanOrEqual(1);
    });

    it('a busy channel queues up to its capacity and counts what it drops', async () => {
      const { a, b } = await pair({ capacity: 3 });
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const seen: number[] = [];
      const channel = a.addChannel(async (message) => {
        seen.push(message.n as number);
        if (message.n === 0) await gate;
      });
      for (let n = 0; n < 10; n++) await b.send(channel, { type: 'burst', n });
      await settle();
      expect(seen).toEqual([0]);
      release();
      await settle();
      expect(seen).toEqual([0, 1, 2, 3]);
      expect(a.stats().droppedOverCapacity).toBe(6);
    });

    it('a message that waited past the expiry is dropped and counted', async () => {
      const { a, b } = await pair({ expirySeconds: 0.05 });
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const seen: string[] = [];
      const channel = a.addChannel(async (message) => {
        seen.push(message.type);
        if (message.type === 'first') await gate;
      });
      await b.send(channel, { type: 'first' });
      await b.send(channel, { type: 'stale' });
      await settle(200);
      release();
      await settle();
      await b.send(channel, { type: 'fresh' });
      await settle();
      expect(seen).toEqual(['first', 'fresh']);
      expect(a.stats().droppedExpired).toBe(1);
    });

    it('rejects group and channel names that are not safe keys', async () => {
      const { a } = await pair();
      await expect(a.groupSend('has space', { type: 'x' })).rejects.toThrow(/invalid group name/);
      await expect(
        a.groupAdd(
          '',
          a.addChannel(() => {}),
        ),
      ).rejects.toThrow(/invalid group name/);
      await expect(a.send('x'.repeat(300), { type: 'x' })).rejects.toThrow(/invalid channel name/);
    });

    it('a channel closed before its groupAdd is not added to the group', async () => {
      const { a, b } = await pair();
      const late = collector(1);
      const channel = a.addChannel(late.receiver);
      a.removeChannel(channel);
      await a.groupAdd('raced', channel);
      const live = collector(1);
      await a.groupAdd('raced', a.addChannel(live.receiver));
      await b.groupSend('raced', { type: 'x' });
      await live.complete;
      await settle();
      expect(late.received).toEqual([]);
    });

    it('a receiver that throws does not stop the others', async () => {
      const { a, b } = await pair();
      const healthy = collector(1);
      await a.groupAdd(
        'mixed',
        a.addChannel(() => {
          throw new Error('boom');
        }),
      );
      await a.groupAdd('mixed', a.addChannel(healthy.receiver));
      await b.groupSend('mixed', { type: 'x' });
      expect(await healthy.complete).toEqual([{ type: 'x' }]);
    });
  });
}
