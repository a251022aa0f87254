/**
 * A throwaway redis-server of our own (no persistence, its own port) that a test may kill and
 * start again on the same port, to play a Redis outage for every node using it.
 */
import { spawnSync } from 'node:child_process';
import { ChildService } from './child-service.ts';
import { freePort } from './free-port.ts';

export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

export class PrivateRedis {
  private service: ChildService | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it on its port; resolves once it accepts connections. */
  async restart(): Promise<void> {
    const { service } = await ChildService.start({
      name: `redis-server :${this.port}`,
      command: 'redis-server',
      args: ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ready: (line) => (line.includes('Ready to accept connections') ? true : undefined),
    });
    this.service = service;
  }

  /** Kills it as a crash would; every connection to it drops at once. */
  async kill(): Promise<void> {
    await this.service?.kill('SIGKILL');
  }
}
