/**
 * The chat server's REST API as a test uses it: sign up, rooms, membership, history. Works
 * against any running server (in-process or a child process), given its base URL.
 */
import type { ChatMessage } from '@switchboard/protocol';

export interface ChatUser {
  id: number;
  username: string;
  password: string;
  access: string;
  refresh: string;
}

export interface ApiAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test answers are read field by field
  body: any;
}

export interface HistoryPage {
  messages: ChatMessage[];
  next_before_seq: number | null;
}

const PASSWORD = 'correct horse battery staple';

export class ChatApi {
  private names = 0;

  /** @param url `http://host:port` of a running chat server */
  constructor(readonly url: string) {}

  /** `ws://host:port/ws/chat/{slug}/` with the given query parameters. */
  wsUrl(slug: string, query: Record<string, string | number> = {}): string {
    const search = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    const suffix = search.size > 0 ? `?${search}` : '';
    return `${this.url.replace(/^http/, 'ws')}/ws/chat/${slug}/${suffix}`;
  }

  async call(method: string, path: string, options: { token?: string; body?: unknown } = {}) {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined } as ApiAnswer;
  }

  /** Registers a fresh user (a unique name from `prefix`) and signs in. */
  async signUp(prefix = 'user'): Promise<ChatUser> {
    this.names += 1;
    const username = `${prefix}_${this.names}_${Math.random().toString(36).slice(2, 6)}`;
    const registered = await this.expect(201, 'POST', '/api/register/', {
      body: { username, password: PASSWORD },
    });
    const tokens = await this.expect(200, 'POST', '/api/token/', { body: { username, password: PASSWORD } });
    return {
      id: registered.id,
      username,
      password: PASSWORD,
      access: tokens.access,
      refresh: tokens.refresh,
    };
  }

  /** Creates a room owned (and joined) by `owner`; returns its slug. */
  async createRoom(owner: ChatUser, options: { slug?: string; private?: boolean } = {}): Promise<string> {
    const slug = options.slug ?? `room-${Math.random().toString(36).slice(2, 10)}`;
    await this.expect(201, 'POST', '/api/rooms/', {
      token: owner.access,
      body: { slug, name: `Room ${slug}`, private: options.private ?? false },
    });
    return slug;
  }

  async join(user: ChatUser, slug: string): Promise<void> {
    await this.expect(200, 'POST', `/api/rooms/${slug}/join/`, { token: user.access });
  }

  async invite(member: ChatUser, slug: string, invitee: ChatUser): Promise<void> {
    await this.expect(200, 'POST', `/api/rooms/${slug}/members/`, {
      token: member.access,
      body: { username: invitee.username },
    });
  }

  async leave(user: ChatUser, slug: string): Promise<void> {
    await this.expect(204, 'DELETE', `/api/rooms/${slug}/members/me/`, { token: user.access });
  }

  /** One page of history, newest first. */
  async history(user: ChatUser, slug: string, query = 'limit=200'): Promise<HistoryPage> {
    return this.expect(200, 'GET', `/api/rooms/${slug}/messages/?${query}`, { token: user.access });
  }

  /** POST /api/rooms/{slug}/files/ as multipart: optional text fields first, then the file. */
  async upload(
    user: ChatUser,
    slug: string,
    bytes: Uint8Array,
    options: { type?: string; name?: string; fields?: Record<string, string> } = {},
  ): Promise<ApiAnswer & { headers: Headers }> {
    const form = new FormData();
    for (const [name, value] of Object.entries(options.fields ?? {})) form.append(name, value);
    form.append(
      'file',
      new Blob([new Uint8Array(bytes)], { type: options.type ?? 'text/plain' }),
      options.name ?? 'a.txt',
    );
    const response = await fetch(`${this.url}/api/rooms/${slug}/files/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.access}` },
      body: form,
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  private async expect(
    status: number,
    method: string,
    path: string,
    options: { token?: string; body?: unknown },
    // biome-ignore lint/suspicious/noExplicitAny: test answers are read field by field
  ): Promise<any> {
    const answer = await this.call(method, path, options);
    if (answer.status !== status) {
      throw new Error(
        `${method} ${path}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`,
      );
    }
    return answer.body;
  }
}
