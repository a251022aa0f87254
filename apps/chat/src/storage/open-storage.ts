/**
 * Opens the storage the configuration asks for: PostgreSQL when a `postgres://` URL is given,
 * otherwise a SQLite file in the data directory. Call `migrate()` on the result before use.
 */
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDialectConfig } from 'kysely';
import pg from 'pg';
import { makePrivateDir, touchPrivateFile } from '../data-dir.ts';
import { kyselyStorage } from './kysely-storage.ts';
import type { Database } from './schema.ts';
import type { Storage } from './storage.ts';

export interface StorageConfig {
  /** `postgres://` or `postgresql://`; absent means SQLite. */
  databaseUrl?: string;
  /** Where the SQLite file lives (`<dataDir>/switchboard.sqlite`). */
  dataDir: string;
}

export const SQLITE_FILE_NAME = 'switchboard.sqlite';

export async function openStorage(config: StorageConfig): Promise<Storage> {
  const url = config.databaseUrl?.trim();
  if (!url) {
    makePrivateDir(config.dataDir);
    return openSqliteStorage(join(config.dataDir, SQLITE_FILE_NAME));
  }
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgresStorage(url);
  throw new Error('DATABASE_URL must be a postgres:// URL (leave it unset to use SQLite).');
}

/**
 * One connection per process, as SQLite wants. WAL lets readers run beside the writer;
 * synchronous=FULL syncs the WAL on every commit, so a resolved write survives a power cut
 * (NORMAL would only survive a process crash). Group commit keeps that affordable.
 */
export async function openSqliteStorage(file: string): Promise<Storage> {
  // SQLite gives its -wal and -shm files the database file's mode: 0600 for all three.
  touchPrivateFile(file);
  const database = new SqliteDatabase(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  // Another process (or a second connection) writing: wait for its commit rather than fail.
  database.pragma('busy_timeout = 5000');
  const cached = withStatementCache(database, STATEMENT_CACHE_SIZE);
  return kyselyStorage(new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) }), 'sqlite');
}

/** Enough for every distinct query the app issues, with room for batch sizes; bounded all the same. */
const STATEMENT_CACHE_SIZE = 512;

/**
 * Kysely prepares every query anew, and preparing is a measurable share of a SQLite write. A
 * better-sqlite3 statement is reusable, and Kysely runs one query at a time on this single
 * connection, so recent statements are kept by SQL text (least recently used goes first).
 */
function withStatementCache(
  database: SqliteDatabase.Database,
  size: number,
): SqliteDialectConfig['database'] {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement) statements.delete(sql);
      else statement = database.prepare(sql);
      statements.set(sql, statement);
      if (statements.size > size) statements.delete(statements.keys().next().value!);
      return statement;
    },
  };
}

export async function openPostgresStorage(connectionString: string, poolSize = 10): Promise<Storage> {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    // Fail a query instead of waiting forever when the database is unreachable or the pool is exhausted.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A database that drops packets instead of refusing them must not hold a query (and its
    // sender's ack) forever: time it out, and let TCP keep-alive notice a dead peer.
    query_timeout: 15_000,
    keepAlive: true,
  });
  // A connection lost under a client must not crash the process: the pool's own listener only
  // covers idle clients, and a client checked out (between a transaction's statements, or while
  // its query is in flight) would otherwise emit an unhandled 'error'. The query in flight, or
  // the next one, still fails, and callers report it (SERVICE_UNAVAILABLE on the socket).
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return kyselyStorage(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
}
