/**
 * The system under test: three chat nodes as real processes, one private Redis, one PostgreSQL
 * database, and a TCP relay in front of each part a fault may cut:
 *
 *   clients ──► client relay 0 ──► node 0 ─┐
 *   clients ──► client relay 1 ──► node 1 ─┼──► PostgreSQL relay ──► PostgreSQL (fresh database)
 *   clients ──► client relay 2 ──► node 2 ─┘
 *                                     └────────► private redis-server (killed and restarted)
 *
 * Clients only ever know the relays' addresses, which never change: a node restarted on a new
 * port is reached by pointing its relay there. This file only knows how to break and mend each
 * part; which fault happens when is fault-schedule.ts, and how a fault is played is faults.ts.
 */
import { RedisServerProcess } from '@switchboard/redis/testing';
import { type ChatNode, startChatNode } from '../support/chat-node.ts';
import { type FreshDatabase, freshDatabase, PG_ADMIN_URL } from '../support/services.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

export interface ClusterOptions {
  nodes: number;
  /** Names this run's Redis prefix and database, so runs never see each other. */
  runId: string;
  jwtSecret: string;
  log: (line: string) => void;
}

/** One node's place in the cluster: the relay clients use, and the process behind it (if running). */
export interface NodeSlot {
  index: number;
  relay: TcpProxy;
  node: ChatNode | undefined;
  /** How many processes have run in this slot (1 = the first one). */
  incarnation: number;
  paused: boolean;
}

/** Start attempts for a node before the soak gives up (a loaded machine may time out once). */
const START_ATTEMPTS = 3;

export class ChaosCluster {
  private redisUp = true;

  private constructor(
    readonly database: FreshDatabase,
    readonly redis: RedisServerProcess,
    /** Every node reaches PostgreSQL through this relay, so it can be cut without stopping it. */
    readonly postgresRelay: TcpProxy,
    readonly slots: NodeSlot[],
    private readonly options: ClusterOptions,
  ) {}

  /** Creates the database and Redis, runs `seed` on the database, then starts every node. */
  static async start(
    options: ClusterOptions,
    seed: (databaseUrl: string) => Promise<void>,
  ): Promise<ChaosCluster> {
    const database = await freshDatabase(`sb_chaos_${options.runId}`);
    const admin = new URL(PG_ADMIN_URL);
    const postgresRelay = await TcpProxy.start({ host: admin.hostname, port: Number(admin.port || 5432) });
    const redis = await RedisServerProcess.start();
    // Nothing listens behind the relays until the nodes start; port 1 refuses at once.
    const slots = await Promise.all(
      Array.from({ length: options.nodes }, async (_, index) => ({
        index,
        relay: await TcpProxy.start({ host: '127.0.0.1', port: 1 }),
        node: undefined,
        incarnation: 0,
        paused: false,
      })),
    );
    const cluster = new ChaosCluster(database, redis, postgresRelay, slots, options);
    try {
      await seed(database.url);
      await Promise.all(slots.map((slot) => cluster.startNode(slot.index)));
    } catch (error) {
      await cluster.stop(); // nothing left behind: processes, relays, Redis, the database
      throw error;
    }
    return cluster;
  }

  /** `http://127.0.0.1:port` of each client relay, by node index. */
  get relayUrls(): string[] {
    return this.slots.map((slot) => `http://${slot.relay.address}`);
  }

  /** The running, unpaused nodes (for direct reads such as /metrics). */
  get liveNodes(): { slot: NodeSlot; node: ChatNode }[] {
    return this.slots.flatMap((slot) => (slot.node && !slot.paused ? [{ slot, node: slot.node }] : []));
  }

  // --- nodes ----------------------------------------------------------------------------------

  /** Starts a process in the slot (on a fresh port) and points the slot's relay at it. */
  async startNode(index: number): Promise<void> {
    const slot = this.slots[index]!;
    if (slot.node) return;
    let lastError: unknown;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      try {
        const node = await startChatNode(`chaos-${index}`, this.nodeEnv());
        slot.node = node;
        slot.incarnation += 1;
        slot.relay.retarget({ host: '127.0.0.1', port: Number(new URL(node.url).port) });
        return;
      } catch (error) {
        lastError = error;
        this.options.log(`node ${index}: start attempt ${attempt} failed: ${String(error).split('\n')[0]}`);
      }
    }
    throw new Error(`node ${index} did not start in ${START_ATTEMPTS} attempts: ${String(lastError)}`);
  }

  /** SIGKILL (crash) or SIGTERM (graceful drain); resolves once the process is gone. */
  async stopNode(index: number, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const slot = this.slots[index]!;
    const node = slot.node;
    if (!node) return;
    slot.node = undefined;
    // A stopped process keeps a SIGTERM pending until it runs again.
    if (slot.paused) this.resumeNode(index, node);
    await (signal === 'SIGKILL' ? node.kill() : node.stop());
  }

  /** SIGSTOP: the process keeps its sockets and answers nothing. */
  pauseNode(index: number): void {
    const slot = this.slots[index]!;
    if (!slot.node || slot.paused) return;
    process.kill(slot.node.process.pid, 'SIGSTOP');
    slot.paused = true;
  }

  resumeNode(index: number, node = this.slots[index]!.node): void {
    const slot = this.slots[index]!;
    if (!node || !slot.paused) return;
    process.kill(node.process.pid, 'SIGCONT');
    slot.paused = false;
  }

  // --- Redis and PostgreSQL -------------------------------------------------------------------

  async killRedis(): Promise<void> {
    this.redisUp = false;
    await this.redis.kill();
  }

  async startRedis(): Promise<void> {
    if (this.redisUp) return;
    await this.redis.restart();
    this.redisUp = true;
  }

  // --- everything -----------------------------------------------------------------------------

  /** Undoes whatever is still broken: relays restored, nodes resumed and started, Redis up. */
  async healAll(): Promise<void> {
    await this.startRedis();
    await this.postgresRelay.restore();
    for (const slot of this.slots) {
      slot.relay.unstall();
      await slot.relay.restore();
      this.resumeNode(slot.index);
    }
    await Promise.all(this.slots.map((slot) => this.startNode(slot.index)));
  }

  async stop(): Promise<void> {
    for (const slot of this.slots) this.resumeNode(slot.index);
    await Promise.all(this.slots.map((slot) => this.stopNode(slot.index, 'SIGKILL')));
    await Promise.all([...this.slots.map((slot) => slot.relay.close()), this.postgresRelay.close()]);
    await this.redis.kill();
    await this.database.drop();
  }

  private nodeEnv() {
    return {
      DATABASE_URL: this.database.urlVia(this.postgresRelay.address),
      REDIS_URL: this.redis.url,
      REDIS_PREFIX: `chaos:${this.options.runId}:`,
      JWT_SECRET: this.options.jwtSecret,
      // Every client is a user sending faster than a person would; the limit is tested elsewhere.
      WS_RATE_LIMIT: '100000',
    };
  }
}
