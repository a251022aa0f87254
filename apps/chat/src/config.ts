/**
 * Configuration from the environment. Every variable is validated up front; a bad value stops
 * start-up with a message that names the variable.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { makePrivateDir, PRIVATE_FILE_MODE } from './data-dir.ts';
import { type LiveConfig, liveConfig, liveEnv } from './live-config.ts';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const seconds = z.coerce.number().nonnegative();

/** An IPv4/IPv6 address, optionally with a CIDR prefix length (`10.0.0.0/8`, `::1`). */
function isAddressOrCidr(item: string): boolean {
  const [address = '', prefix, extra] = item.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

const addressList = z
  .string()
  .default('')
  .transform((raw) =>
    raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .refine((items) => items.every(isAddressOrCidr), {
    message: 'must be comma-separated IP addresses or CIDR ranges (e.g. 127.0.0.1,10.0.0.0/8)',
  });

const schema = z.object({
  PORT: port.default(8000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (leave unset for the embedded SQLite file)')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(
      /^rediss?(\+cluster|\+sentinel)?:\/\//,
      'must be a redis://, rediss://, redis+cluster:// or redis+sentinel:// URL (leave unset for the in-memory layer)',
    )
    .optional(),
  /** Comma-separated host:port seeds of a Redis Cluster (instead of a redis+cluster:// REDIS_URL). */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be host:port[,host:port…]')
    .optional(),
  /** Comma-separated host:port of Redis Sentinels, with REDIS_SENTINEL_NAME. */
  REDIS_SENTINELS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be host:port[,host:port…]')
    .optional(),
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[\w.-]{1,64}$/)
    .optional(),
  /** Namespace of every Redis key and pub/sub channel; nodes of one deployment share it. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[\w:.-]{1,64}$/, 'must be 1-64 letters, digits or _ : . -')
    .default('sb:'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_MESSAGE_LENGTH: positiveInt.default(500),
  WS_RATE_LIMIT: positiveInt.default(60),
  WS_RATE_WINDOW_SECONDS: positiveInt.default(60),
  WS_MAX_PAYLOAD_BYTES: positiveInt.default(1024 * 1024),
  WS_HEARTBEAT_SECONDS: z.coerce.number().positive().default(30),
  WS_IDLE_TIMEOUT_SECONDS: seconds.default(3600),
  WS_MAX_BUFFERED_BYTES: positiveInt.default(4 * 1024 * 1024),
  WS_MAX_CONNECTIONS_PER_USER: positiveInt.default(50),
  /** Smallest frame compressed with permessage-deflate; unset = compression off. */
  WS_COMPRESSION_THRESHOLD: positiveInt.optional(),
  /** Comma-separated origins allowed to open cookie-authenticated sockets (besides the server's own). */
  ALLOWED_ORIGINS: z.string().default(''),
  /** Comma-separated usernames (any case) who are admins; everyone else is not. */
  ADMIN_USERS: z.string().default(''),
  MAX_UPLOAD_BYTES: positiveInt.default(25 * 1024 * 1024),
  AUTH_RATE_LIMIT: positiveInt.default(30),
  /** Failed sign-ins per username per window, from any address. */
  SIGNIN_FAILURE_LIMIT: positiveInt.default(10),
  SIGNIN_FAILURE_WINDOW_SECONDS: positiveInt.default(15 * 60),
  /** Proxies whose X-Forwarded-For is believed; anyone else's is ignored (default: nobody's). */
  TRUST_PROXY: addressList,
  /** Rooms one user may create per rolling hour. */
  ROOMS_PER_HOUR: positiveInt.default(50),
  /** Bearer token /metrics requires; unset = /metrics is open on its port. */
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Serve /metrics on this port (on HOST) instead of the app port. */
  METRICS_PORT: port.optional(),
  /** Serves apps/web/dist at / when present. */
  WEB_DIST: z.string().optional(),
});
/** The base variables and those of the live features (live-config.ts). */
const fullSchema = schema.and(liveEnv);

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  redisPrefix: string;
  jwtSecret: Uint8Array;
  /** True when the secret was generated for development and kept in the data directory. */
  jwtSecretGenerated: boolean;
  logLevel: string;
  maxMessageLength: number;
  rate: { limit: number; windowSeconds: number };
  maxPayloadBytes: number;
  heartbeatSeconds: number;
  idleTimeoutSeconds: number;
  maxBufferedBytes: number;
  /** Open sockets per user on one node. */
  maxConnectionsPerUser: number;
  compressionThreshold: number | undefined;
  allowedOrigins: string[];
  /** Lower-cased usernames of the admins (ADMIN_USERS). */
  adminUsers: string[];
  maxUploadBytes: number;
  /** Sign-in / sign-up / refresh attempts per client address per minute. */
  authAttemptsPerMinute: number;
  /** Failed sign-ins per username per window, whatever the address. */
  signInFailures: { limit: number; windowSeconds: number };
  /** Proxy addresses / CIDRs whose X-Forwarded-For names the client; empty = trust none. */
  trustProxy: string[];
  roomsPerHour: number;
  metrics: { token: string | undefined; port: number | undefined };
  webDist: string | undefined;
  /** Presence, typing, notifications, uploads, Web Push. */
  live: LiveConfig;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = fullSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.DATA_DIR);
  const secret = e.JWT_SECRET ? { value: e.JWT_SECRET, generated: false } : developmentSecret(dataDir);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    redisUrl: redisUrlOf(e),
    redisPrefix: e.REDIS_PREFIX,
    jwtSecret: new TextEncoder().encode(secret.value),
    jwtSecretGenerated: secret.generated,
    logLevel: e.LOG_LEVEL,
    maxMessageLength: e.MAX_MESSAGE_LENGTH,
    rate: { limit: e.WS_RATE_LIMIT, windowSeconds: e.WS_RATE_WINDOW_SECONDS },
    maxPayloadBytes: e.WS_MAX_PAYLOAD_BYTES,
    heartbeatSeconds: e.WS_HEARTBEAT_SECONDS,
    idleTimeoutSeconds: e.WS_IDLE_TIMEOUT_SECONDS,
    maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
    maxConnectionsPerUser: e.WS_MAX_CONNECTIONS_PER_USER,
    compressionThreshold: e.WS_COMPRESSION_THRESHOLD,
    allowedOrigins: e.ALLOWED_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    adminUsers: e.ADMIN_USERS.split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    authAttemptsPerMinute: e.AUTH_RATE_LIMIT,
    signInFailures: { limit: e.SIGNIN_FAILURE_LIMIT, windowSeconds: e.SIGNIN_FAILURE_WINDOW_SECONDS },
    trustProxy: e.TRUST_PROXY,
    roomsPerHour: e.ROOMS_PER_HOUR,
    metrics: { token: e.METRICS_TOKEN, port: e.METRICS_PORT },
    webDist: e.WEB_DIST,
    live: liveConfig(e),
  };
}

/**
 * The one Redis URL every Redis part takes: REDIS_URL as given, or the Cluster / Sentinel it
 * describes with the list variables (which are easier to template in a deployment).
 */
function redisUrlOf(e: {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
  REDIS_SENTINELS?: string | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
}): string | undefined {
  const given = [e.REDIS_URL, e.REDIS_CLUSTER_NODES, e.REDIS_SENTINELS].filter(Boolean);
  if (given.length > 1) {
    throw new ConfigError('Set one of REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS, not several.');
  }
  if (e.REDIS_CLUSTER_NODES) return `redis+cluster://${e.REDIS_CLUSTER_NODES}`;
  if (e.REDIS_SENTINELS) {
    if (!e.REDIS_SENTINEL_NAME)
      throw new ConfigError('REDIS_SENTINELS needs REDIS_SENTINEL_NAME (the master name).');
    return `redis+sentinel://${e.REDIS_SENTINELS}/${e.REDIS_SENTINEL_NAME}`;
  }
  return e.REDIS_URL;
}

/** A secret generated once and kept in the data directory, so tokens survive restarts in development. */
function developmentSecret(dataDir: string): { value: string; generated: true } {
  const file = join(dataDir, 'jwt-secret');
  try {
    return { value: readFileSync(file, 'utf8').trim(), generated: true };
  } catch {
    makePrivateDir(dataDir);
    const value = randomBytes(48).toString('base64url');
    writeFileSync(file, `${value}\n`, { mode: PRIVATE_FILE_MODE });
    return { value, generated: true };
  }
}
