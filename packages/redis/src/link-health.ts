import type { Cluster } from 'ioredis';
import { isCluster, type RedisClient } from './connection.ts';
import type { Logger } from './logger.ts';

export type LinkState = 'connected' | 'disconnected';

/** How long a Cluster must go without losing a node before a failover counts as over. */
const FAILOVER_QUIET_MS = 1000;

/**
 * Follows one or more Redis connections as a single link to Redis: connected when every one of
 * them is ready (and restored, see `watch`). Reports each outage once, when it starts and when it
 * ends, instead of once per failed reconnect attempt, and counts the recoveries.
 */
export class LinkHealth {
  /** Times the link came back after an outage. */
  reconnects = 0;
  private readonly ready = new Map<RedisClient, boolean>();
  private state: LinkState = 'disconnected';
  private everConnected = false;
  private outageReported = false;
  private downSince = 0;
  private lastError: Error | undefined;
  private closed = false;
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(
    /** Names the link in log lines, e.g. "channel layer". */
    private readonly name: string,
    private readonly logger: Logger,
    private readonly onStateChange: (state: LinkState) => void = () => {},
  ) {}

  get connected(): boolean {
    return this.state === 'connected';
  }

  /**
   * Follows a connection. `restore` runs after each (re)connect, before the connection counts as
   * ready: the channel layer re-subscribes there. If the connection drops again meanwhile, the
   * next connect restores again.
   */
  watch(redis: RedisClient, restore: () => Promise<void> = async () => {}): void {
    this.ready.set(redis, false);
    let epoch = 0;
    const restored = () => {
      const current = ++epoch;
      restore().then(
        () => {
          if (current === epoch && redis.status === 'ready') this.mark(redis, true);
        },
        (error: Error) => this.noteError(error),
      );
    };
    const lost = () => {
      epoch++;
      this.mark(redis, false);
    };
    redis.on('ready', restored);
    redis.on('close', lost);
    redis.on('error', (error: Error) => this.noteError(error));
    if (isCluster(redis)) this.followFailovers(redis, lost, restored);
  }

  /**
   * A Cluster stays "ready" through the failover of one master, but what was published to that
   * shard meanwhile is gone: that is an outage. Until a replica is promoted, ioredis refreshes its
   * slot map, reconnects to the dead master and drops it again, many times a second; the outage is
   * over once that has stopped for a second and the cluster says every slot is served.
   */
  private followFailovers(cluster: Cluster, lost: () => void, restored: () => void): void {
    let quiet: NodeJS.Timeout | undefined;
    const checkLater = () => {
      clearTimeout(quiet);
      quiet = setTimeout(check, FAILOVER_QUIET_MS);
      quiet.unref();
    };
    const check = async () => {
      if (this.closed || this.ready.get(cluster) || cluster.status !== 'ready') return;
      let info = '';
      try {
        info = String(await cluster.cluster('INFO'));
      } catch {
        // Not answering yet: try again after another quiet second.
      }
      if (info.includes('cluster_state:ok')) restored();
      else checkLater();
    };
    cluster.on('-node', () => {
      lost();
      checkLater();
    });
  }

  /** Resolves once the link is connected; rejects if it is closed first. */
  whenConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error(`${this.name}: closed`));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Stops reporting: the connections are about to be closed on purpose. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`${this.name}: closed`));
  }

  private noteError(error: Error): void {
    this.lastError = error;
    if (this.closed || this.connected || this.outageReported) return;
    this.outageReported = true;
    this.logger.warn({ err: error }, `${this.name}: cannot reach Redis, retrying`);
  }

  private mark(redis: RedisClient, ready: boolean): void {
    this.ready.set(redis, ready);
    const next: LinkState = [...this.ready.values()].every(Boolean) ? 'connected' : 'disconnected';
    if (next === this.state || this.closed) return;
    this.state = next;
    if (next === 'connected') this.reportUp();
    else this.reportDown();
    this.onStateChange(next);
  }

  private reportUp(): void {
    if (this.everConnected) {
      this.reconnects++;
      this.logger.info(
        { downtimeMs: Date.now() - this.downSince, reconnects: this.reconnects },
        `${this.name}: Redis connection restored`,
      );
    }
    this.everConnected = true;
    this.outageReported = false;
    this.lastError = undefined;
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  private reportDown(): void {
    this.downSince = Date.now();
    this.outageReported = true;
    this.logger.warn({ err: this.lastError }, `${this.name}: Redis connection lost, reconnecting`);
  }
}
