/**
 * A small client for the chat server's REST API: accounts, tokens, rooms and history. It keeps the
 * token pair, refreshes the access token once when a call answers 401, and turns every non-2xx
 * answer into an ApiError carrying the server's `{error, code}`.
 */
import type { ChatMessage } from './frames.ts';

export interface Session {
  username: string;
  access: string;
  refresh: string;
}

export interface RoomSummary {
  slug: string;
  name: string;
  is_private: boolean;
  is_direct: boolean;
  last_seq: number;
  unread: number;
  last_read_seq: number;
}

export interface HistoryPage {
  /** Newest first. Deleted messages are tombstones (`deleted: true`, empty content). */
  messages: ChatMessage[];
  /** Pass as `beforeSeq` for the next (older) page; null when there is none. */
  next_before_seq: number | null;
}

export interface Me {
  id: number;
  username: string;
  avatar: string | null;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiOptions {
  /** The server's origin; '' (the default) means the page's own origin. */
  server?: string;
  session?: Session | null;
  /** Told whenever the session changes (sign-in, refresh, sign-out) so the app can persist it. */
  onSessionChange?: (session: Session | null) => void;
  fetch?: typeof globalThis.fetch;
}

export class SwitchboardApi {
  readonly server: string;
  #session: Session | null;
  readonly #onSessionChange: (session: Session | null) => void;
  readonly #fetch: typeof globalThis.fetch;
  #refreshing: Promise<string | null> | undefined;

  constructor(options: ApiOptions = {}) {
    this.server = options.server ?? '';
    this.#session = options.session ?? null;
    this.#onSessionChange = options.onSessionChange ?? (() => {});
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  get session(): Session | null {
    return this.#session;
  }

  /** The current access token (for WebSocket connections), or null when signed out. */
  accessToken(): string | null {
    return this.#session?.access ?? null;
  }

  async register(username: string, password: string): Promise<void> {
    await this.#call('POST', '/api/register/', { username, password }, { auth: false });
  }

  async signIn(username: string, password: string): Promise<Session> {
    const tokens = await this.#call<{ access: string; refresh: string }>(
      'POST',
      '/api/token/',
      { username, password },
      { auth: false },
    );
    this.#setSession({ username, ...tokens });
    return this.#session as Session;
  }

  signOut(): void {
    this.#setSession(null);
  }

  /**
   * Trades the refresh token for a new access token; null when that is refused (the user must
   * sign in again). Concurrent callers share one request.
   */
  refreshAccessToken(): Promise<string | null> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  me(): Promise<Me> {
    return this.#call('GET', '/api/me/');
  }

  /** Every room the user is in, fetched page by page. */
  async rooms(): Promise<RoomSummary[]> {
    const rooms: RoomSummary[] = [];
    let after: number | null = 0;
    while (after !== null) {
      const page: { rooms: RoomSummary[]; next_after_id: number | null } = await this.#call<{
        rooms: RoomSummary[];
        next_after_id: number | null;
      }>('GET', `/api/rooms/?limit=200&after_id=${after}`);
      rooms.push(...page.rooms);
      after = page.next_after_id;
    }
    return rooms;
  }

  createRoom(room: { slug: string; name: string; private?: boolean }): Promise<RoomSummary> {
    return this.#call('POST', '/api/rooms/', room);
  }

  joinRoom(slug: string): Promise<unknown> {
    return this.#call('POST', `/api/rooms/${encodeURIComponent(slug)}/join/`);
  }

  invite(slug: string, username: string): Promise<unknown> {
    return this.#call('POST', `/api/rooms/${encodeURIComponent(slug)}/members/`, { username });
  }

  leaveRoom(slug: string): Promise<unknown> {
    return this.#call('DELETE', `/api/rooms/${encodeURIComponent(slug)}/members/me/`);
  }

  /** Opens (or finds) the direct room shared with `username`. */
  openDirect(username: string): Promise<RoomSummary> {
    return this.#call('POST', '/api/direct/', { username });
  }

  history(slug: string, page: { beforeSeq?: number | null; limit?: number } = {}): Promise<HistoryPage> {
    const query = new URLSearchParams();
    if (page.beforeSeq != null) query.set('before_seq', String(page.beforeSeq));
    if (page.limit != null) query.set('limit', String(page.limit));
    const suffix = query.toString() ? `?${query}` : '';
    return this.#call('GET', `/api/rooms/${encodeURIComponent(slug)}/messages/${suffix}`);
  }

  async #refresh(): Promise<string | null> {
    const session = this.#session;
    if (!session) return null;
    try {
      const { access } = await this.#call<{ access: string }>(
        'POST',
        '/api/token/refresh/',
        { refresh: session.refresh },
        { auth: false },
      );
      // Still the same session? (a sign-out may have happened meanwhile)
      if (this.#session !== session) return null;
      this.#setSession({ ...session, access });
      return access;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.#setSession(null);
      return null;
    }
  }

  async #call<T>(
    method: string,
    path: string,
    body?: unknown,
    { auth = true, retried = false } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const token = auth ? this.accessToken() : null;
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await this.#fetch(`${this.server}${path}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    if (response.status === 401 && auth && !retried && (await this.refreshAccessToken())) {
      return this.#call(method, path, body, { auth, retried: true });
    }
    const text = await response.text();
    const json: unknown = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const { error, code } = (json ?? {}) as { error?: unknown; code?: unknown };
      throw new ApiError(
        response.status,
        typeof code === 'string' ? code : `HTTP_${response.status}`,
        typeof error === 'string' ? error : `${method} ${path} failed with HTTP ${response.status}`,
      );
    }
    return json as T;
  }

  #setSession(session: Session | null): void {
    this.#session = session;
    this.#onSessionChange(session);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
