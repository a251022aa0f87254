import { type ChildProcess, execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, spawnRedisServer } from './redis-server-process.ts';

const run = promisify(execFile);
const MASTER_NAME = 'switchboard';

/**
 * A throwaway Redis with one replica and one Sentinel watching them, on loopback ports, for
 * suites that need a primary to fail over (`failover()` asks the Sentinel to promote the replica).
 */
export class RedisSentinelProcess {
  private readonly processes: ChildProcess[] = [];

  private constructor(
    readonly primaryPort: number,
    readonly replicaPort: number,
    readonly sentinelPort: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<RedisSentinelProcess> {
    const [primary, replica, sentinel] = [await freePort(), await freePort(), await freePort()];
    const set = new RedisSentinelProcess(
      primary,
      replica,
      sentinel,
      mkdtempSync(join(tmpdir(), 'sb-sentinel-')),
    );
    try {
      await set.startServer([`--port`, String(primary)]);
      await set.startServer([`--port`, String(replica), '--replicaof', '127.0.0.1', String(primary)]);
      const config = join(set.dir, 'sentinel.conf');
      writeFileSync(
        config,
        [
          `port ${sentinel}`,
          'bind 127.0.0.1',
          `dir ${set.dir}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primary} 1`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 5000`,
          '',
        ].join('\n'),
      );
      await set.startServer([config, '--sentinel']);
      await set.waitFor(async () =>
        (await set.sentinel('sentinel', 'replicas', MASTER_NAME)).includes(String(replica)),
      );
    } catch (error) {
      await set.stop();
      throw error;
    }
    return set;
  }

  get url(): string {
    return `redis+sentinel://127.0.0.1:${this.sentinelPort}/${MASTER_NAME}`;
  }

  /** The port of the current primary, as the Sentinel tells it. */
  async primary(): Promise<number> {
    const answer = await this.sentinel('sentinel', 'get-master-addr-by-name', MASTER_NAME);
    return Number(answer.trim().split('\n')[1]);
  }

  /**
   * Promotes the replica and resolves once the Sentinel names it the primary. The Sentinel refuses
   * (NOGOODSLAVE) until it has heard from the replica recently enough: asked again until it agrees.
   */
  async failover(): Promise<void> {
    const before = await this.primary();
    await this.waitFor(
      async () => (await this.sentinel('sentinel', 'failover', MASTER_NAME)).trim() === 'OK',
      30_000,
    );
    await this.waitFor(async () => (await this.primary()) !== before, 30_000);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.processes.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  private sentinel(...args: string[]): Promise<string> {
    return run('redis-cli', ['-p', String(this.sentinelPort), ...args]).then(({ stdout }) => stdout);
  }

  private async waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw new Error('the Sentinel set did not reach the expected state');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private async startServer(args: string[]): Promise<void> {
    const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir];
    this.processes.push(await spawnRedisServer([...args, ...common]));
  }
}
