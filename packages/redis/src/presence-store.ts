import calculateSlot from 'cluster-key-slot';
import { closeConnection, isCluster, openConnection, type RedisClient } from './connection.ts';
import { LinkHealth } from './link-health.ts';
import { type Logger, silentLogger } from './logger.ts';

/** Who is online, counted over every connection of a user on every node. */
export interface PresenceStore {
  /** Registers one live connection of a user; true if it is the user's first anywhere. */
  connect(userId: number, connectionId: string): Promise<boolean>;
  /** Removes it; true if it was the user's last anywhere. */
  disconnect(userId: number, connectionId: string): Promise<boolean>;
  isOnline(userId: number): Promise<boolean>;
  /** Explicit status (online|away|busy|offline) kept while connected; ignored for a user who is not. */
  setStatus(userId: number, status: string): Promise<void>;
  /** The explicit status, or null when none was set or the user is not connected. */
  getStatus(userId: number): Promise<string | null>;
  close(): Promise<void>;
}

/** The single-process store: connections live and die with this process, so nothing expires. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly connections = new Map<number, Set<string>>();
  private readonly statuses = new Map<number, string>();

  async connect(userId: number, connectionId: string): Promise<boolean> {
    let live = this.connections.get(userId);
    if (!live) {
      live = new Set();
      this.connections.set(userId, live);
    }
    const first = live.size === 0;
    live.add(connectionId);
    return first;
  }

  async disconnect(userId: number, connectionId: string): Promise<boolean> {
    const live = this.connections.get(userId);
    if (!live?.delete(connectionId) || live.size > 0) return false;
    this.connections.delete(userId);
    this.statuses.delete(userId);
    return true;
  }

  async isOnline(userId: number): Promise<boolean> {
    return this.connections.has(userId);
  }

  async setStatus(userId: number, status: string): Promise<void> {
    if (this.connections.has(userId)) this.statuses.set(userId, status);
  }

  async getStatus(userId: number): Promise<string | null> {
    return this.statuses.get(userId) ?? null;
  }

  async close(): Promise<void> {
    this.connections.clear();
    this.statuses.clear();
  }
}

/*
 * Redis layout, per user: a sorted set of the user's connection ids scored by the time (Redis's
 * clock, ms) until which each counts as live, and a string with the explicit status. Both keys
 * expire with the user's last live connection, so a user whose nodes all died leaves nothing
 * behind. The `{userId}` hash tag keeps both keys in one Redis Cluster slot.
 */
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function keep_until_last(connections, status)
  local last = redis.call('ZRANGE', connections, -1, -1, 'WITHSCORES')[2]
  if last then
    redis.call('PEXPIREAT', connections, last)
    redis.call('PEXPIREAT', status, last)
  end
  return last
end
`;

/** KEYS: connections, status. ARGV: connection id, ttl ms. Returns 1 for the user's first connection. */
const CONNECT = `${PRELUDE}
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local first = redis.call('ZCARD', KEYS[1]) == 0
-- A new session starts without the status a previous one may have left.
if first then redis.call('DEL', KEYS[2]) end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
keep_until_last(KEYS[1], KEYS[2])
if first then return 1 end
return 0
`;

/**
 * KEYS: connections, status. ARGV: connection id. Returns 1 when the user has no live connection
 * left and this call is what found out: it removed the connection, or expired ones of dead nodes.
 */
const DISCONNECT = `${PRELUDE}
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms())
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
redis.call('DEL', KEYS[2])
if removed + expired > 0 then return 1 end
return 0
`;

/** KEYS: connections. Returns how many connections of the user are live. */
const LIVE_COUNT = `${PRELUDE}
return redis.call('ZCOUNT', KEYS[1], '(' .. now_ms(), '+inf')
`;

/** KEYS: connections, status. ARGV: status. Stored only while the user has a live connection. */
const SET_STATUS = `${PRELUDE}
if redis.call('ZCOUNT', KEYS[1], '(' .. now_ms(), '+inf') == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[1])
keep_until_last(KEYS[1], KEYS[2])
return 1
`;

/** KEYS: connections, status. */
const GET_STATUS = `${PRELUDE}
if redis.call('ZCOUNT', KEYS[1], '(' .. now_ms(), '+inf') == 0 then return false end
return redis.call('GET', KEYS[2])
`;

/**
 * KEYS: connections and status of each connection's user, in pairs. ARGV: ttl ms, then the
 * connection ids in the same order. Adds rather than updates, so that after a Redis restart every
 * live connection is back within one heartbeat.
 */
const HEARTBEAT = `${PRELUDE}
local now = now_ms()
local until_ms = now + tonumber(ARGV[1])
for i = 2, #ARGV do
  local connections, status = KEYS[2 * i - 3], KEYS[2 * i - 2]
  redis.call('ZREMRANGEBYSCORE', connections, '-inf', now)
  redis.call('ZADD', connections, until_ms, ARGV[i])
  keep_until_last(connections, status)
end
return #ARGV - 1
`;

type PresenceRedis = RedisClient & {
  presenceConnect(connections: string, status: string, connectionId: string, ttlMs: number): Promise<number>;
  presenceDisconnect(connections: string, status: string, connectionId: string): Promise<number>;
  presenceLiveCount(connections: string): Promise<number>;
  presenceSetStatus(connections: string, status: string, value: string): Promise<number>;
  presenceGetStatus(connections: string, status: string): Promise<string | null>;
  presenceHeartbeat(...keysThenArgs: (string | number)[]): Promise<number>;
};

export interface RedisPresenceStoreOptions {
  /** `redis://…`, `redis+cluster://…` or `redis+sentinel://…` (see redis-target.ts). */
  url: string;
  /** Namespace of the store's keys; every node of the cluster uses the same one. */
  prefix?: string;
  /**
   * Seconds a connection counts as live without a heartbeat: how long the connections of a node
   * that died without saying goodbye (SIGKILL, power loss) still show as online. The store
   * heartbeats its own connections three times per ttl.
   */
  ttlSeconds?: number;
  logger?: Logger;
}

/** Connections refreshed per heartbeat script call. */
const HEARTBEAT_BATCH = 500;

/**
 * Cluster-wide presence in Redis, each call one atomic script. Every node refreshes the
 * connections it registered; a node that dies stops refreshing, and its connections stop
 * counting after `ttlSeconds`.
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly redis: PresenceRedis;
  private readonly health: LinkHealth;
  private readonly logger: Logger;
  private readonly keyPrefix: string;
  private readonly ttlMs: number;
  /** This node's live connections (id → user), the ones its heartbeat keeps alive. */
  private readonly local = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private beating = false;

  constructor(options: RedisPresenceStoreOptions) {
    this.keyPrefix = `${options.prefix ?? 'sb:'}presence:`;
    this.ttlMs = Math.max(1, Math.round((options.ttlSeconds ?? 30) * 1000));
    this.logger = options.logger ?? silentLogger;
    const redis = openConnection(options.url, 'switchboard-presence');
    redis.defineCommand('presenceConnect', { numberOfKeys: 2, lua: CONNECT });
    redis.defineCommand('presenceDisconnect', { numberOfKeys: 2, lua: DISCONNECT });
    redis.defineCommand('presenceLiveCount', { numberOfKeys: 1, lua: LIVE_COUNT });
    redis.defineCommand('presenceSetStatus', { numberOfKeys: 2, lua: SET_STATUS });
    redis.defineCommand('presenceGetStatus', { numberOfKeys: 2, lua: GET_STATUS });
    // The key count varies per call: it comes first in the arguments.
    redis.defineCommand('presenceHeartbeat', { lua: HEARTBEAT });
    this.redis = redis as PresenceRedis;
    this.health = new LinkHealth('presence store', this.logger);
    // Re-registering on every (re)connect brings this node's connections back after a Redis restart.
    this.health.watch(redis, () => this.heartbeat());
    this.timer = setInterval(() => this.beat(), this.ttlMs / 3);
    this.timer.unref();
  }

  /** Resolves once connected; until then every call rejects. */
  ready(): Promise<void> {
    return this.health.whenConnected();
  }

  /**
   * The connection is remembered even if Redis is unreachable (the call then rejects): the
   * heartbeat registers it once Redis is back.
   */
  async connect(userId: number, connectionId: string): Promise<boolean> {
    this.local.set(connectionId, userId);
    const [connections, status] = this.keys(userId);
    return (await this.redis.presenceConnect(connections, status, connectionId, this.ttlMs)) === 1;
  }

  async disconnect(userId: number, connectionId: string): Promise<boolean> {
    this.local.delete(connectionId);
    const [connections, status] = this.keys(userId);
    return (await this.redis.presenceDisconnect(connections, status, connectionId)) === 1;
  }

  async isOnline(userId: number): Promise<boolean> {
    return (await this.redis.presenceLiveCount(this.keys(userId)[0])) > 0;
  }

  async setStatus(userId: number, status: string): Promise<void> {
    await this.redis.presenceSetStatus(...this.keys(userId), status);
  }

  async getStatus(userId: number): Promise<string | null> {
    return this.redis.presenceGetStatus(...this.keys(userId));
  }

  /** Extends the life of every connection this node registered; the store calls it on a timer. */
  async heartbeat(): Promise<void> {
    const calls: Promise<number>[] = [];
    for (const entries of this.heartbeatGroups()) {
      for (let i = 0; i < entries.length; i += HEARTBEAT_BATCH) {
        const batch = entries.slice(i, i + HEARTBEAT_BATCH);
        const keys = batch.flatMap(([, userId]) => this.keys(userId));
        const ids = batch.map(([connectionId]) => connectionId);
        calls.push(this.redis.presenceHeartbeat(keys.length, ...keys, this.ttlMs, ...ids));
      }
    }
    await Promise.all(calls);
  }

  /**
   * One script may only touch keys of one slot on a Cluster: there the connections are grouped
   * by the slot of their user's keys (the `{userId}` hash tag); one server takes them all at once.
   */
  private heartbeatGroups(): [connectionId: string, userId: number][][] {
    const entries = [...this.local];
    if (!isCluster(this.redis)) return [entries];
    const bySlot = new Map<number, [string, number][]>();
    for (const entry of entries) {
      const slot = calculateSlot(this.keys(entry[1])[0]);
      const group = bySlot.get(slot);
      if (group) group.push(entry);
      else bySlot.set(slot, [entry]);
    }
    return [...bySlot.values()];
  }

  /** Stops the heartbeat; the connections still registered expire after the ttl. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.health.close();
    this.local.clear();
    await closeConnection(this.redis);
  }

  private beat(): void {
    if (this.beating || !this.health.connected) return;
    this.beating = true;
    this.heartbeat()
      .catch((error: unknown) => {
        if (this.redis.status === 'ready')
          this.logger.error({ err: error }, 'presence store: heartbeat failed');
      })
      .finally(() => {
        this.beating = false;
      });
  }

  private keys(userId: number): [connections: string, status: string] {
    const connections = `${this.keyPrefix}{${userId}}`;
    return [connections, `${connections}:status`];
  }
}
