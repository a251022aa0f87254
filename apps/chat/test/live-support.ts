/**
 * Helpers of the live-feature suites: sockets to the notification and status endpoints, REST
 * calls, an admin user, and a pause for "nothing more arrives" checks.
 */
import { TestClient } from '@switchboard/server/testing';
import type { ChatUser } from './support/chat-api.ts';
import { ChatFixture } from './support/chat-fixture.ts';

/** Every suite signs up more users than the default sign-in rate limit allows per minute. */
const LIVE_ENV = { AUTH_RATE_LIMIT: '1000' };

export async function startLive(env: Record<string, string> = {}): Promise<LiveFixture> {
  return new LiveFixture(await ChatFixture.start({ ...LIVE_ENV, ...env }));
}

export class LiveFixture {
  private readonly sockets = new Set<TestClient>();

  constructor(readonly chat: ChatFixture) {}

  get server() {
    return this.chat.server;
  }

  get api() {
    return this.chat.api;
  }

  signUp(prefix?: string): Promise<ChatUser> {
    return this.chat.signUp(prefix);
  }

  /** A user with the admin flag, signed in (admins are made by operators, not by the API). */
  async admin(): Promise<ChatUser> {
    const username = `admin_${Math.random().toString(36).slice(2, 8)}`;
    const user = await this.server.storage.createUser(username, 'not-a-password-hash', true);
    const tokens = await this.server.tokens.issue(user);
    return { id: user.id, username, password: '', ...tokens };
  }

  /** Opens `/ws/notifications/` or `/ws/status/` for `user` (token in the query). */
  async socket(user: ChatUser | null, path: '/ws/notifications/' | '/ws/status/'): Promise<TestClient> {
    const base = this.server.url.replace(/^http/, 'ws');
    const query = user ? `?token=${encodeURIComponent(user.access)}` : '';
    const client = await TestClient.connect(`${base}${path}${query}`);
    this.sockets.add(client);
    return client;
  }

  /** A notification socket that has received its initial unread count. */
  async notifications(user: ChatUser): Promise<{ client: TestClient; unread: number }> {
    const client = await this.socket(user, '/ws/notifications/');
    const first = await client.next('unread_count');
    return { client, unread: first.count as number };
  }

  /** A status socket that has received its snapshot. */
  async status(user: ChatUser): Promise<{ client: TestClient; snapshot: StatusEntry[] }> {
    const client = await this.socket(user, '/ws/status/');
    const first = await client.next('status_snapshot');
    return { client, snapshot: first.users as StatusEntry[] };
  }

  call(method: string, path: string, options: { token?: string; body?: unknown } = {}) {
    return this.api.call(method, path, options);
  }

  async close(): Promise<void> {
    await Promise.all([...this.sockets].map((client) => client.close().catch(() => undefined)));
    await this.chat.close();
  }
}

export interface StatusEntry {
  user_id: number;
  username: string;
  status: string;
  last_seen: string | null;
}

/** Waits so that anything still on its way arrives before a "nothing else came" assertion. */
export const settle = (ms = 150) => new Promise((resolve) => setTimeout(resolve, ms));
