/**
 * The machine's PostgreSQL and Redis for suites that need them: whether they answer (a suite
 * without them is skipped with the reason printed, except under CI=true, where it must fail),
 * and a fresh PostgreSQL database per suite, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { redisProblem } from '@switchboard/redis/testing';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Resolves to true when every named service answers. Otherwise prints why the suite is skipped
 * and resolves to false, or, under CI=true, throws so the run fails.
 */
export async function servicesAvailable(suite: string, needs: ('postgres' | 'redis')[]): Promise<boolean> {
  const missing: string[] = [];
  if (needs.includes('postgres')) {
    const why = await postgresProblem();
    if (why) missing.push(`PostgreSQL at ${PG_ADMIN_URL}: ${why}`);
  }
  if (needs.includes('redis')) {
    const why = await redisProblem(REDIS_URL);
    if (why) missing.push(`Redis at ${REDIS_URL}: ${why}`);
  }
  if (missing.length === 0) return true;
  const reason = `${suite} needs ${missing.join('; ')}`;
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: not skipping)`);
  console.warn(`\n  SKIPPING ${reason}. Start the service(s); under CI=true this fails.\n`);
  return false;
}

async function postgresProblem(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

export interface FreshDatabase {
  name: string;
  /** `postgres://…/<name>` */
  url: string;
  /** The same database reached through `host:port` instead (e.g. a proxy in front of the server). */
  urlVia(hostPort: string): string;
  drop(): Promise<void>;
}

/** Creates `<prefix>_<random>` on the machine's PostgreSQL; `drop()` removes it even with clients left. */
export async function freshDatabase(prefix: string): Promise<FreshDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const urlVia = (hostPort: string) => {
    const url = new URL(PG_ADMIN_URL);
    url.host = hostPort;
    url.pathname = `/${name}`;
    return url.toString();
  };
  const admin = new URL(PG_ADMIN_URL);
  return {
    name,
    url: urlVia(admin.host),
    urlVia,
    drop: () => adminQuery(`drop database if exists ${name} with (force)`),
  };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
