import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisProblem, redisServerInstalled } from '../../src/testing/index.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Whether the machine's Redis answers. When it does not, the suite is skipped with a message
 * saying why, except under CI=true, where this throws so that the run fails instead.
 */
export async function redisAvailable(url = REDIS_URL): Promise<boolean> {
  const problem = await redisProblem(url);
  if (problem === undefined) return true;
  const why = `Redis is not reachable at ${url} (${problem})`;
  if (process.env.CI === 'true') throw new Error(`${why}; CI=true requires it`);
  console.warn(`\n  SKIPPING Redis suite: ${why}. Start Redis or set REDIS_URL; under CI=true this fails.\n`);
  return false;
}

/** Whether `redis-server` can be started here for the restart cases; fails instead under CI=true. */
export function redisServerAvailable(): boolean {
  if (redisServerInstalled()) return true;
  if (process.env.CI === 'true') throw new Error('redis-server is not installed; CI=true requires it');
  console.warn('\n  SKIPPING Redis restart suite: redis-server is not installed.\n');
  return false;
}

/** A namespace no other test run shares, so runs on one Redis cannot see each other. */
export function uniquePrefix(): string {
  return `sbtest:${randomBytes(5).toString('hex')}:`;
}

/** Polls until `check` holds, or fails naming what it was waiting for. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The commands Redis executes that mention `marker` (MONITOR), for counting PUBLISHes and
 * SUBSCRIBEs without timing. `settled()` waits until every command Redis ran before the call
 * has been seen: it runs a sentinel ECHO and waits for it to come through the monitor.
 */
export async function watchCommands(url: string, marker: string) {
  const monitor = await new Redis(url).monitor();
  const control = new Redis(url);
  const commands: string[][] = [];
  const sentinels = new Map<string, () => void>();
  let sentinelCount = 0;
  monitor.on('monitor', (_time: string, args: string[]) => {
    const mentioned = args.some((arg) => arg.includes(marker));
    if (!mentioned) return;
    if (args[0]?.toLowerCase() === 'echo') {
      sentinels.get(args[1] ?? '')?.();
      return;
    }
    commands.push([args[0]!.toLowerCase(), ...args.slice(1)]);
  });
  return {
    commands,
    /** The commands named `name` (lower case) whose first argument is `target`. */
    count(name: string, target: string): number {
      return commands.filter(([command, ...args]) => command === name && args.includes(target)).length;
    },
    async settled(): Promise<void> {
      const sentinel = `${marker}sentinel:${++sentinelCount}`;
      const seen = new Promise<void>((resolve) => sentinels.set(sentinel, resolve));
      await control.echo(sentinel);
      await seen;
    },
    async stop(): Promise<void> {
      monitor.disconnect();
      await control.quit();
    },
  };
}
