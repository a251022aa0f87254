/**
 * The group-commit queue on its own: which calls share a batch, and how failures reach callers.
 * The batch function here is a plain recorder; the SQL side is covered by storage.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/storage/group-commit.ts';
import { OverloadedError } from '../src/storage/storage.ts';

class ItemError extends Error {}

function recorder(
  options: { maxBatch?: number; maxPending?: number; failOn?: (n: number) => Error | null } = {},
) {
  const batches: number[][] = [];
  const queue = new GroupCommit<number, string>(
    async (items) => {
      batches.push([...items]);
      for (const item of items) {
        const error = options.failOn?.(item);
        if (error) throw error;
      }
      return items.map((n) => `stored ${n}`);
    },
    {
      maxBatch: options.maxBatch ?? 100,
      maxPending: options.maxPending ?? 1000,
      isItemError: (e) => e instanceof ItemError,
    },
  );
  return { queue, batches };
}

describe('group commit', () => {
  it('commits the calls of one event-loop turn as one batch, each with its own result', async () => {
    const { queue, batches } = recorder();
    const results = await Promise.all([1, 2, 3, 4].map((n) => queue.submit(n)));
    expect(results).toEqual(['stored 1', 'stored 2', 'stored 3', 'stored 4']);
    expect(batches).toEqual([[1, 2, 3, 4]]);
  });

  it('never puts more than maxBatch items in one batch, and keeps their order', async () => {
    const { queue, batches } = recorder({ maxBatch: 3 });
    await Promise.all([1, 2, 3, 4, 5, 6, 7].map((n) => queue.submit(n)));
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('collects calls made while a batch is being written into the next batch', async () => {
    const { queue, batches } = recorder();
    const first = queue.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [queue.submit(2), queue.submit(3)];
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('retries a batch item by item when one item fails, so only that caller sees the error', async () => {
    const { queue, batches } = recorder({ failOn: (n) => (n === 2 ? new ItemError('bad 2') : null) });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => queue.submit(n)));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([
      'stored 1',
      'bad 2',
      'stored 3',
    ]);
    expect(batches).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it("fails the whole batch at once when the failure is not an item's (e.g. the database is down)", async () => {
    const down = new Error('connection refused');
    const { queue, batches } = recorder({ failOn: () => down });
    const settled = await Promise.allSettled([1, 2, 3].map((n) => queue.submit(n)));
    expect(settled.every((s) => s.status === 'rejected' && s.reason === down)).toBe(true);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('refuses new items with OverloadedError once maxPending are waiting', async () => {
    const { queue } = recorder({ maxPending: 2 });
    const accepted = [queue.submit(1), queue.submit(2)];
    await expect(queue.submit(3)).rejects.toBeInstanceOf(OverloadedError);
    await expect(Promise.all(accepted)).resolves.toEqual(['stored 1', 'stored 2']);
    await expect(queue.submit(4)).resolves.toBe('stored 4');
  });

  it('on close, settles everything accepted and refuses what comes after', async () => {
    const { queue } = recorder();
    const accepted = [queue.submit(1), queue.submit(2)];
    await queue.close();
    await expect(Promise.all(accepted)).resolves.toEqual(['stored 1', 'stored 2']);
    await expect(queue.submit(3)).rejects.toThrow('closed');
  });
});
