import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * Test helpers for suites that need a Redis to lose: a throwaway redis-server of their own, and a
 * probe saying why the machine's Redis does not answer.
 */

/** Whether the `redis-server` binary can be started here. */
export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/** A loopback TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** A throwaway redis-server of our own (no persistence) that a test may kill and restart. */
export class RedisServerProcess {
  private process: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServerProcess> {
    const server = new RedisServerProcess(await freePort());
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it on the same port; resolves once it accepts connections. */
  async restart(): Promise<void> {
    this.process = await spawnRedisServer([
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
  }

  /** Kills it the hard way (as a crash would) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * Starts `redis-server` with `args` (a Sentinel too, with `--sentinel`) and resolves with the
 * process once it says it is ready; rejects with its output if it exits or takes over 10 s.
 */
export async function spawnRedisServer(args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'ignore'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
    const watchStartup = (chunk: Buffer) => {
      output += chunk.toString();
      if (!/Ready to accept connections|Sentinel ID is/.test(output)) return;
      clearTimeout(timer);
      // Keep draining its log so the pipe never fills, without keeping it.
      child.stdout!.off('data', watchStartup).resume();
      resolve();
    };
    child.stdout!.on('data', watchStartup);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
  return child;
}
