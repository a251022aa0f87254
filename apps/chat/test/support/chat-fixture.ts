/**
 * A chat server in this process on an ephemeral port, with its own SQLite file in a temp
 * directory, plus the REST and socket helpers the chat suites share. Every socket opened through
 * the fixture is closed by `close()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClient, type TestClientOptions } from '@switchboard/server/testing';
import { type ChatServer, startChatServer } from '../../src/chat-server.ts';
import { loadConfig } from '../../src/config.ts';
import { ChatApi, type ChatUser } from './chat-api.ts';

export const TEST_JWT_SECRET = 'test-secret-'.padEnd(48, 'x');

/** The environment of a quiet test server; `overrides` wins. */
export function testEnv(dataDir: string, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'silent',
    ...overrides,
  };
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'switchboard-chat-'));
}

export interface ConnectOptions extends TestClientOptions {
  /** Sent as `?after_seq=` */
  afterSeq?: number | string;
  /** Put the token in the query string (default), or leave auth to `headers` / `protocols`. */
  token?: string | null;
}

export class ChatFixture {
  readonly api: ChatApi;
  private readonly clients = new Set<TestClient>();

  private constructor(
    readonly server: ChatServer,
    readonly dataDir: string,
  ) {
    this.api = new ChatApi(server.url);
  }

  /** Starts a server with the test environment plus `env` (e.g. `{ WS_RATE_LIMIT: '5' }`). */
  static async start(env: Record<string, string> = {}): Promise<ChatFixture> {
    const dataDir = tempDataDir();
    const server = await startChatServer(loadConfig(testEnv(dataDir, env)));
    return new ChatFixture(server, dataDir);
  }

  signUp(prefix?: string): Promise<ChatUser> {
    return this.api.signUp(prefix);
  }

  /** A room owned by `owner` with every one of `members` joined (invited when private). */
  async room(owner: ChatUser, members: ChatUser[] = [], options: { private?: boolean } = {}) {
    const slug = await this.api.createRoom(owner, options);
    for (const member of members) {
      if (options.private) await this.api.invite(owner, slug, member);
      else await this.api.join(member, slug);
    }
    return slug;
  }

  /** Opens a socket and returns it without waiting for anything (refusals arrive as frames). */
  async connect(user: ChatUser | null, slug: string, options: ConnectOptions = {}): Promise<TestClient> {
    const { afterSeq, token, ...clientOptions } = options;
    const query: Record<string, string | number> = {};
    const chosen = token === undefined ? user?.access : token;
    if (chosen) query.token = chosen;
    if (afterSeq !== undefined) query.after_seq = afterSeq;
    const client = await TestClient.connect(this.api.wsUrl(slug, query), clientOptions);
    this.clients.add(client);
    return client;
  }

  /** Opens a socket and waits for its `synced` marker: the client is live in the room. */
  async enter(user: ChatUser, slug: string, options: ConnectOptions = {}): Promise<TestClient> {
    const client = await this.connect(user, slug, options);
    await client.next('synced');
    return client;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients].map((client) => client.close().catch(() => undefined)));
    await this.server.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
