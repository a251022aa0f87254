import { type ChildProcess, execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, spawnRedisServer } from './redis-server-process.ts';

const run = promisify(execFile);

/**
 * A throwaway Redis Cluster on loopback ports, for suites that need one to grow, shrink or lose a
 * master: `masters` masters with `replicasPerMaster` replicas each, built with
 * `redis-cli --cluster create`. A short node timeout makes a replica take over within seconds.
 */
export class RedisClusterProcess {
  private readonly processes = new Map<number, ChildProcess>();

  private constructor(
    readonly ports: number[],
    private readonly dir: string,
  ) {}

  static async start(masters = 3, replicasPerMaster = 1): Promise<RedisClusterProcess> {
    const ports: number[] = [];
    while (ports.length < masters * (1 + replicasPerMaster)) {
      const port = await freePort();
      // A cluster node also listens on port + 10000 for the cluster bus.
      if (port < 55_000 && !ports.includes(port)) ports.push(port);
    }
    const cluster = new RedisClusterProcess(ports, mkdtempSync(join(tmpdir(), 'sb-redis-cluster-')));
    try {
      await Promise.all(ports.map((port) => cluster.startNode(port)));
      await run('redis-cli', [
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        String(replicasPerMaster),
        '--cluster-yes',
      ]);
      await cluster.waitUntilHealthy();
      await cluster.waitForReplicas();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** `redis+cluster://` URL naming every node as a seed. */
  get url(): string {
    return `redis+cluster://${this.ports.map((port) => `127.0.0.1:${port}`).join(',')}`;
  }

  /** The ports of the nodes that are masters now. */
  async masters(): Promise<number[]> {
    const alive = this.ports.find((port) => this.processes.has(port))!;
    const { stdout } = await run('redis-cli', ['-p', String(alive), 'cluster', 'nodes']);
    return stdout
      .split('\n')
      .filter((line) => / master /.test(line.replace(/,/g, ' ')) && !line.includes('fail'))
      .map((line) => Number(/:(\d+)@/.exec(line)![1]));
  }

  /** The port of the master that serves `key`'s slot now. */
  async masterFor(key: string): Promise<number> {
    const alive = this.ports.find((port) => this.processes.has(port))!;
    const ask = (...args: string[]) => run('redis-cli', ['-p', String(alive), ...args]);
    const slot = Number((await ask('cluster', 'keyslot', key)).stdout.trim());
    for (const line of (await ask('cluster', 'nodes')).stdout.split('\n')) {
      const fields = line.split(' ');
      if (!fields[2]?.includes('master') || fields[2].includes('fail')) continue;
      const owns = fields.slice(8).some((range) => {
        const [from, to = from] = range.split('-').map(Number);
        return slot >= from! && slot <= to!;
      });
      if (owns) return Number(/:(\d+)@/.exec(fields[1]!)![1]);
    }
    throw new Error(`no master serves slot ${slot}`);
  }

  /** SIGKILLs one node (as a crash would). */
  async kill(port: number): Promise<void> {
    const child = this.processes.get(port);
    if (!child) return;
    this.processes.delete(port);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGKILLs a master and resolves once a replica has taken over its slots. */
  async failMaster(port: number, timeoutMs = 20_000): Promise<void> {
    await this.kill(port);
    const deadline = Date.now() + timeoutMs;
    while ((await this.masters()).includes(port)) {
      if (Date.now() > deadline) throw new Error(`no replica took over from ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await this.waitUntilHealthy(timeoutMs);
  }

  /**
   * Resolves once every live node reports `cluster_state:ok`, all slots are served, and every node
   * has the same slot map. A node with an older map answers MOVED, and a command that ioredis
   * redirects arrives after later ones sent straight to the right node: until the maps agree,
   * even one connection's commands may be reordered.
   */
  async waitUntilHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const views = await Promise.all(
        [...this.processes.keys()].map(async (port) => {
          try {
            const ask = (...args: string[]) => run('redis-cli', ['-p', String(port), ...args]);
            const { stdout: info } = await ask('cluster', 'info');
            if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) return null;
            const { stdout: slots } = await ask('cluster', 'slots');
            return slots.split('\n').sort().join('\n');
          } catch {
            return null;
          }
        }),
      );
      if (views.every((view) => view !== null && view === views[0])) return;
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not become healthy');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Resolves once every replica has finished its first sync from its master. */
  private async waitForReplicas(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const port of this.ports) {
      for (;;) {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'info', 'replication']);
        if (stdout.includes('role:master') || stdout.includes('master_link_status:up')) break;
        if (Date.now() > deadline) throw new Error(`replica ${port} did not sync`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((port) => this.kill(port)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startNode(port: number): Promise<void> {
    const child = await spawnRedisServer([
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(this.dir, `nodes-${port}.conf`),
      '--cluster-node-timeout',
      '1000',
      // A replica may take over however stale it is, and syncs without waiting for a disk dump.
      '--cluster-replica-validity-factor',
      '0',
      '--repl-diskless-sync',
      'yes',
      '--repl-diskless-sync-delay',
      '0',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
    this.processes.set(port, child);
  }
}
