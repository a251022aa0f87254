/**
 * One logical connection to one Switchboard endpoint, kept alive across socket drops.
 *
 * - `send` puts a frame in the outbox with a fresh `ref` and resolves with the server's `ack`
 *   (rejects with the `error` frame, a timeout, or the end of the connection).
 * - While the socket is not open, frames wait in the outbox (bounded, persisted by the storage);
 *   on every (re)open they are written in order. Frames with a `client_id` stay until acked, so a
 *   drop before the ack resends them; the server stores them once.
 * - Drops are retried with exponential backoff and full jitter; close codes decide whether to
 *   retry, refresh the token once (4401), or stop (see close-policy.ts).
 * - With `refreshToken`, the token is renewed in band shortly before it expires (an `auth` frame,
 *   see token-renewal.ts), so the server never has to close the socket for an expired token.
 * - A frame with a `client_id` refused with SERVICE_UNAVAILABLE or RATE_LIMIT_EXCEEDED (nothing was
 *   stored) stays queued and is sent again after `retry_after` or a backoff delay, a bounded number
 *   of times, before its promise rejects.
 */
import { ErrorCode } from '@switchboard/protocol/codes';
import { type BackoffOptions, backoffDelay, defaultBackoff } from './backoff.ts';
import { CLIENT_DROP_CODE, closeAction } from './close-policy.ts';
import type { ConnectionState } from './connection-state.ts';
import { Emitter } from './emitter.ts';
import {
  AckTimeoutError,
  ConnectionClosedError,
  OutcomeUnknownError,
  ServerError,
  SwitchboardError,
} from './errors.ts';
import { FrameBatcher } from './frame-batcher.ts';
import type { AckFrame, ErrorFrame, Outgoing, TypedFrame } from './frames.ts';
import { randomId } from './ids.ts';
import { Outbox, type OutboxEntry, type QueuedFrame } from './outbox.ts';
import { defaultOutboxStorage, type OutboxStorage } from './outbox-storage.ts';
import { jwtExpiry, renewalDelay } from './token-renewal.ts';

/** The part of the WebSocket API used here; the browser's WebSocket and the `ws` package both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The handler properties set on a socket. Kept apart from WebSocketLike so both DOM and `ws` typings fit it. */
interface SocketHandlers {
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: (() => void) | null;
}

type QueryValue = string | number | undefined | null;

export interface ConnectionOptions<ServerFrame extends TypedFrame = TypedFrame> {
  /** The endpoint, e.g. `ws://localhost:8000/ws/notifications/`. */
  url: string;
  /** The current access token, read before every attempt and sent as `?token=`. */
  token?: () => string | null | undefined;
  /**
   * Resolves a fresh access token, or null to give up. Called shortly before the current token
   * expires, to renew it in band (no reconnect), and when the server refuses the token (close
   * 4401), before reconnecting: once per refusal streak, a second 4401 in a row fails the connection.
   * It must also make `token` return the new token, for the next reconnect.
   */
  refreshToken?: () => Promise<string | null | undefined>;
  /** Extra query parameters, read before every attempt (e.g. a resume cursor). */
  params?: () => Record<string, QueryValue>;
  /**
   * When given, the connection counts as `open` (and flushes the outbox) only once a frame
   * passes this test, e.g. the chat endpoint's `synced` after its replay.
   */
  readyWhen?: (frame: ServerFrame) => boolean;
  /** Return false to drop a frame before listeners see it (e.g. a replayed duplicate). */
  admit?: (frame: ServerFrame) => boolean;
  /** WebSocket implementation; defaults to the global one (browsers, Node ≥ 22). Pass `ws` on Node 20. */
  WebSocket?: WebSocketConstructor;
  backoff?: Partial<BackoffOptions>;
  /** Source of randomness for the jitter, [0, 1). */
  random?: () => number;
  /** How long a written frame may wait for its reply before the promise rejects. Default 15 s. */
  ackTimeoutMs?: number;
  /** How long an attempt may take to open. Default 10 s. */
  connectTimeoutMs?: number;
  /** Frames larger than this (UTF-8 bytes) are refused locally instead of being closed on with 1009. */
  maxFrameBytes?: number;
  outbox?: {
    /** Defaults to localStorage in a browser page, memory elsewhere. */
    storage?: OutboxStorage;
    /** Storage key; include the user so two accounts in one browser never share a queue. Default: the URL path. */
    key?: string;
    /** Maximum queued frames. Default 200. */
    limit?: number;
  };
  /** Follow the browser's online/offline events (default: on when they exist). */
  watchNetwork?: boolean;
  /**
   * Send the frames written in one tick as one `batch` frame (Switchboard servers take it on every
   * endpoint; see docs/protocol.md). Default off, for servers that speak only the plain frames.
   */
  batch?: boolean;
}

interface Waiter {
  resolve(ack: AckFrame): void;
  reject(error: Error): void;
}

/** WebSocket.OPEN, the same in the DOM and in `ws`. */
const SOCKET_OPEN = 1;

/** Once open this long without a refusal, the connection is trusted: backoff and token-refresh reset. */
const TRUSTED_AFTER_MS = 2_000;

export class SwitchboardConnection<ClientFrame extends TypedFrame, ServerFrame extends TypedFrame> {
  readonly #options: ConnectionOptions<ServerFrame>;
  /** Set with the `batch` option; what it holds at a close is resent from the outbox. */
  readonly #batcher: FrameBatcher | undefined;
  readonly #backoff: BackoffOptions;
  readonly #WebSocket: WebSocketConstructor;
  readonly #outbox: Outbox<ClientFrame>;
  readonly #waiters = new Map<string, Waiter>();
  readonly #ackTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Resends so far of frames refused as "try again later", by ref. */
  readonly #laterAttempts = new Map<string, number>();
  readonly #frames = new Emitter<Record<string, unknown>>();
  readonly #changes = new Emitter<{ state: ConnectionState; queue: readonly QueuedFrame<ClientFrame>[] }>();
  readonly #refPrefix = `${randomId(4)}-`;
  #refCounter = 0;

  #state: ConnectionState = { status: 'closed' };
  #queueSnapshot: readonly QueuedFrame<ClientFrame>[] | undefined;
  #socket: WebSocketLike | undefined;
  /** Failed attempts since the connection was last trusted; drives the backoff and maxAttempts. */
  #failures = 0;
  /** The current socket has proven itself (see #trust); its loss is a drop, not a failed attempt. */
  #trusted = false;
  #refreshedToken = false;
  #refreshing = false;
  /** The error frame received just before a close: the server's reason for refusing. */
  #refusal: ErrorFrame | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #trustTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the token of the current socket expires (ms since the epoch), if known. */
  #tokenExpiresAt: number | undefined;
  /** The in-band renewal of the current socket's token; at most one at a time. */
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  /** The ref of the `auth` frame waiting for its reply. */
  #authRef: string | undefined;
  #unwatchNetwork: (() => void) | undefined;

  constructor(options: ConnectionOptions<ServerFrame>) {
    this.#options = options;
    this.#batcher = options.batch
      ? new FrameBatcher((text) => this.#writableSocket()?.send(text), options.maxFrameBytes ?? 1024 * 1024)
      : undefined;
    this.#backoff = { ...defaultBackoff, ...options.backoff };
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketImpl) {
      throw new SwitchboardError(
        'No global WebSocket here: pass one as options.WebSocket (e.g. the `ws` package).',
      );
    }
    this.#WebSocket = WebSocketImpl;
    this.#outbox = new Outbox<ClientFrame>(
      options.outbox?.storage ?? defaultOutboxStorage(),
      options.outbox?.key ?? new URL(options.url).pathname,
      options.outbox?.limit ?? 200,
    );
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Frames waiting for a reply or for a socket, oldest first. The same array until the queue changes. */
  get queued(): readonly QueuedFrame<ClientFrame>[] {
    this.#queueSnapshot ??= this.#outbox.entries().map((entry) => entry.frame);
    return this.#queueSnapshot;
  }

  /** Opens the connection (no-op when already connecting or open). */
  connect(): void {
    if (this.#state.status === 'open' || this.#state.status === 'connecting') return;
    if (this.#state.status === 'reconnecting') {
      this.retryNow();
      return;
    }
    this.#failures = 0;
    this.#refreshedToken = false;
    this.#watchNetwork();
    this.#open();
  }

  /** Ends the connection for good. Unsent frames stay queued (and stored) for the next `connect`. */
  close(): void {
    this.#unwatchNetwork?.();
    this.#unwatchNetwork = undefined;
    this.#clearTimers();
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) this.#dropWritten();
    socket?.close(1000, 'client closed');
    this.#rejectWaiters(new ConnectionClosedError('The connection was closed.'));
    this.#setState({ status: 'closed' });
  }

  /** Skips the wait of a scheduled reconnect (e.g. when the network is back or the user asks). */
  retryNow(): void {
    if (this.#state.status !== 'reconnecting' || this.#refreshing) return;
    clearTimeout(this.#retryTimer);
    this.#open();
  }

  /**
   * Sends a frame that expects a reply and resolves with the `ack`. Queued while not open.
   * `Ack` only narrows the result type for frames whose ack carries fields (e.g. MessageAck).
   */
  send<Ack extends AckFrame = AckFrame>(frame: Outgoing<ClientFrame>): Promise<Ack> {
    if (this.#state.status === 'failed') {
      return Promise.reject(new ConnectionClosedError(`The connection failed: ${this.#state.reason}`));
    }
    const ref = `${this.#refPrefix}${++this.#refCounter}`;
    const queued = { ...frame, ref } as QueuedFrame<ClientFrame>;
    const tooBig = this.#checkSize(queued);
    if (tooBig) return Promise.reject(tooBig);
    let entry: OutboxEntry<ClientFrame>;
    try {
      entry = this.#outbox.add(queued);
    } catch (error) {
      return Promise.reject(error);
    }
    const promise = new Promise<Ack>((resolve, reject) => {
      this.#waiters.set(ref, { resolve: resolve as (ack: AckFrame) => void, reject });
    });
    this.#queueChanged();
    if (this.#state.status === 'open') this.#write(entry);
    return promise;
  }

  /** Fire-and-forget (typing indicators, presence pings): written now if open, else dropped. */
  sendEphemeral(frame: Outgoing<ClientFrame>): boolean {
    const socket = this.#writableSocket();
    if (this.#state.status !== 'open' || !socket) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Listens to one server frame type; returns the unsubscribe function. `error` frames that
   * answer no pending send (a refusal before a close, a rate-limit notice) arrive here too.
   */
  on<Type extends (ServerFrame | ErrorFrame)['type']>(
    type: Type,
    listener: (frame: Extract<ServerFrame | ErrorFrame, { type: Type }>) => void,
  ): () => void {
    return this.#frames.on(type, listener as (frame: unknown) => void);
  }

  /** Listens to every server frame (after de-duplication), acks excepted. */
  onFrame(listener: (frame: ServerFrame | ErrorFrame) => void): () => void {
    return this.#frames.on('*', listener as (frame: unknown) => void);
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    return this.#changes.on('state', listener);
  }

  onQueueChange(listener: (queued: readonly QueuedFrame<ClientFrame>[]) => void): () => void {
    return this.#changes.on('queue', listener);
  }

  // --- socket lifecycle -----------------------------------------------------------------------

  #open(): void {
    clearTimeout(this.#retryTimer);
    this.#setState({ status: 'connecting', attempt: this.#failures + 1 });
    let socket: WebSocketLike;
    try {
      socket = new this.#WebSocket(this.#attemptUrl());
    } catch (error) {
      this.#fail(CLIENT_DROP_CODE, `Cannot open the socket: ${(error as Error).message}`);
      return;
    }
    this.#socket = socket;
    const handlers = socket as unknown as SocketHandlers;
    handlers.onopen = () => this.#onSocketOpen(socket);
    handlers.onmessage = (event) => this.#onSocketMessage(socket, event.data);
    handlers.onclose = (event) => this.#onSocketClose(socket, event.code, event.reason);
    // An error is always followed by a close event, which decides what happens next. The handler
    // stays attached even on stale sockets: `ws` throws on an 'error' nobody listens to.
    handlers.onerror = () => {};
    this.#connectTimer = setTimeout(() => {
      if (this.#socket === socket && this.#state.status === 'connecting') {
        this.#dropSocket(socket, CLIENT_DROP_CODE, 'connect timeout');
      }
    }, this.#options.connectTimeoutMs ?? 10_000);
  }

  #attemptUrl(): string {
    const url = new URL(this.#options.url);
    const token = this.#options.token?.();
    if (token) url.searchParams.set('token', token);
    this.#tokenExpiresAt = token ? jwtExpiry(token) : undefined;
    for (const [name, value] of Object.entries(this.#options.params?.() ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  #onSocketOpen(socket: WebSocketLike): void {
    if (socket !== this.#socket) return;
    this.#refusal = undefined;
    this.#trustTimer = setTimeout(() => this.#trust(socket), TRUSTED_AFTER_MS);
    this.#scheduleRenewal(socket);
    if (!this.#options.readyWhen) this.#becomeOpen();
  }

  /** Arms the in-band renewal of the current socket's token (see token-renewal.ts). */
  #scheduleRenewal(socket: WebSocketLike): void {
    clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
    if (this.#tokenExpiresAt === undefined || !this.#options.refreshToken) return;
    // An expired token is refused at connect (4401), and that path refreshes it.
    if (this.#tokenExpiresAt <= Date.now()) return;
    const delay = renewalDelay(this.#tokenExpiresAt, Date.now());
    this.#renewTimer = setTimeout(() => void this.#renew(socket), delay);
  }

  async #renew(socket: WebSocketLike): Promise<void> {
    this.#renewTimer = undefined;
    let token: string | null | undefined;
    try {
      token = await this.#options.refreshToken?.();
    } catch {
      token = undefined;
    }
    // Without a new token the server closes the socket at expiry, and the 4401 path tries again.
    if (!token || socket !== this.#socket || socket.readyState !== SOCKET_OPEN) return;
    this.#authRef = `${this.#refPrefix}auth-${++this.#refCounter}`;
    socket.send(JSON.stringify({ type: 'auth', token, ref: this.#authRef }));
  }

  /**
   * The reply to the renewal. An ack names the new expiry; a refusal is followed by a 4401 close
   * (kept as the reason); any other error (the server could not check the token right now)
   * leaves the old token standing, and the renewal is tried again before it expires.
   */
  #onRenewed(socket: WebSocketLike, reply: TypedFrame & { expires_at?: unknown }): void {
    this.#authRef = undefined;
    if (reply.type === 'ack') {
      const expiresAt = reply.expires_at;
      this.#tokenExpiresAt = typeof expiresAt === 'number' ? expiresAt * 1000 : undefined;
    } else if ((reply as ErrorFrame).code === ErrorCode.AUTHENTICATION_FAILED) {
      this.#refusal = reply as ErrorFrame;
      return;
    }
    this.#scheduleRenewal(socket);
  }

  #becomeOpen(): void {
    clearTimeout(this.#connectTimer);
    this.#setState({ status: 'open' });
    for (const entry of this.#outbox.entries()) {
      if (!entry.written) this.#write(entry);
    }
  }

  /** The server kept the socket: what failed before is forgiven. */
  #trust(socket: WebSocketLike): void {
    if (socket !== this.#socket) return;
    this.#trusted = true;
    this.#failures = 0;
    this.#refreshedToken = false;
  }

  #onSocketMessage(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.#socket || typeof data !== 'string') return;
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return; // The server only sends JSON; anything else is noise we cannot act on.
    }
    if (typeof frame !== 'object' || frame === null || typeof (frame as TypedFrame).type !== 'string') return;
    const typed = frame as TypedFrame & { ref?: unknown };
    if (this.#authRef !== undefined && typed.ref === this.#authRef) {
      this.#onRenewed(socket, typed);
      return;
    }
    if (typed.type === 'ack' && typeof typed.ref === 'string') {
      this.#settle(typed.ref, typed as AckFrame);
      return;
    }
    if (typed.type === 'error') {
      const error = typed as ErrorFrame;
      if (typeof error.ref === 'string' && this.#outbox.get(error.ref)) {
        this.#settle(error.ref, error);
        return;
      }
      this.#refusal = error;
    } else {
      this.#refusal = undefined;
      this.#trust(socket);
    }
    const serverFrame = typed as unknown as ServerFrame;
    if (this.#options.admit && !this.#options.admit(serverFrame)) return;
    this.#frames.emit(serverFrame.type, serverFrame);
    this.#frames.emit('*', serverFrame);
    if (this.#state.status === 'connecting' && this.#options.readyWhen?.(serverFrame)) this.#becomeOpen();
  }

  #onSocketClose(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    const wasTrusted = this.#trusted;
    this.#trusted = false;
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#trustTimer);
    clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
    this.#authRef = undefined;
    this.#dropWritten();
    const refusal = this.#refusal;
    this.#refusal = undefined;
    const why = refusal?.error ?? (reason || `closed with code ${code}`);

    switch (closeAction(code)) {
      case 'stop':
        this.#unwatchNetwork?.();
        this.#unwatchNetwork = undefined;
        this.#rejectWaiters(new ConnectionClosedError(`The server closed the connection: ${why}`));
        this.#setState({ status: 'closed', code, reason: why });
        return;
      case 'fail':
        this.#fail(code, why, { dropQueue: true });
        return;
      case 'refresh-token':
        if (this.#options.refreshToken && !this.#refreshedToken) {
          this.#refreshedToken = true;
          this.#refreshThenRetry(code, why);
        } else {
          this.#fail(code, why);
        }
        return;
      case 'retry':
        if (!wasTrusted) this.#failures += 1;
        this.#scheduleRetry(code, why, refusal?.retry_after);
    }
  }

  /** Gives up on a socket ourselves (dead peer, offline) without waiting for its close handshake. */
  #dropSocket(socket: WebSocketLike, code: number, reason: string): void {
    try {
      socket.close(code, reason);
    } catch {
      // Closing a socket that is still connecting may throw in some implementations.
    }
    this.#onSocketClose(socket, code, reason);
  }

  async #refreshThenRetry(code: number, reason: string): Promise<void> {
    this.#setState({
      status: 'reconnecting',
      attempt: this.#failures + 1,
      nextAttemptAt: Date.now(),
      code,
      reason,
    });
    let token: string | null | undefined;
    this.#refreshing = true;
    try {
      token = await this.#options.refreshToken?.();
    } catch {
      token = undefined;
    } finally {
      this.#refreshing = false;
    }
    if (this.#state.status !== 'reconnecting') return; // closed meanwhile
    if (token) this.#open();
    else this.#fail(code, reason);
  }

  #scheduleRetry(code: number, reason: string, retryAfterSeconds: number | undefined): void {
    if (this.#failures >= this.#backoff.maxAttempts) {
      this.#fail(code, `${reason} (gave up after ${this.#failures} attempts)`);
      return;
    }
    let delay = backoffDelay(this.#failures, this.#backoff, this.#options.random);
    if (retryAfterSeconds !== undefined) delay = Math.max(delay, retryAfterSeconds * 1000);
    const attempt = this.#failures + 1;
    if (isOffline()) {
      // No point knocking while the browser says there is no network; the 'online' event retries.
      this.#setState({ status: 'reconnecting', attempt, nextAttemptAt: null, code, reason });
      return;
    }
    this.#setState({ status: 'reconnecting', attempt, nextAttemptAt: Date.now() + delay, code, reason });
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  /**
   * Gives up. `dropQueue` when nothing queued can ever be delivered here (forbidden, not found);
   * otherwise the queue is kept for a later `connect` (e.g. after signing in again).
   */
  #fail(code: number, reason: string, { dropQueue = false } = {}): void {
    this.#unwatchNetwork?.();
    this.#unwatchNetwork = undefined;
    this.#clearTimers();
    this.#rejectWaiters(new ConnectionClosedError(`The connection failed: ${reason}`));
    if (dropQueue && this.#outbox.size > 0) {
      this.#outbox.clear();
      this.#queueChanged();
    }
    this.#setState({ status: 'failed', code, reason });
  }

  #watchNetwork(): void {
    const target = globalThis as { addEventListener?: EventTarget['addEventListener'] };
    if (
      this.#unwatchNetwork ||
      this.#options.watchNetwork === false ||
      typeof target.addEventListener !== 'function'
    ) {
      return;
    }
    const online = () => this.retryNow();
    const offline = () => {
      if (this.#socket) this.#dropSocket(this.#socket, CLIENT_DROP_CODE, 'offline');
    };
    globalThis.addEventListener('online', online);
    globalThis.addEventListener('offline', offline);
    this.#unwatchNetwork = () => {
      globalThis.removeEventListener('online', online);
      globalThis.removeEventListener('offline', offline);
    };
  }

  // --- outbox and replies ---------------------------------------------------------------------

  #write(entry: OutboxEntry<ClientFrame>): void {
    // A socket already closing keeps the entry unwritten: the next socket sends it.
    const socket = this.#writableSocket();
    if (!socket) return;
    const text = JSON.stringify(entry.frame);
    if (this.#batcher) this.#batcher.write(text);
    else socket.send(text);
    entry.written = true;
    const ref = entry.frame.ref;
    this.#ackTimers.set(
      ref,
      setTimeout(() => this.#ackTimedOut(ref), this.#options.ackTimeoutMs ?? 15_000),
    );
  }

  #ackTimedOut(ref: string): void {
    this.#ackTimers.delete(ref);
    const entry = this.#outbox.get(ref);
    if (!entry) return;
    this.#waiters
      .get(ref)
      ?.reject(new AckTimeoutError(`No reply to ${entry.frame.type} within the ack timeout.`));
    this.#waiters.delete(ref);
    if (!isIdempotent(entry.frame)) {
      this.#outbox.remove(ref);
      this.#queueChanged();
    }
    // A reply this late usually means a half-open socket that no browser API reports: start over.
    if (this.#socket) this.#dropSocket(this.#socket, CLIENT_DROP_CODE, 'ack timeout');
  }

  #settle(ref: string, reply: AckFrame | ErrorFrame): void {
    clearTimeout(this.#ackTimers.get(ref));
    this.#ackTimers.delete(ref);
    if (reply.type === 'error' && this.#retryLater(ref, reply)) return;
    this.#laterAttempts.delete(ref);
    const waiter = this.#waiters.get(ref);
    this.#waiters.delete(ref);
    if (this.#outbox.remove(ref)) this.#queueChanged();
    if (reply.type === 'ack') waiter?.resolve(reply);
    else waiter?.reject(new ServerError(reply));
  }

  /** Keeps an idempotent frame that the server could not take right now, and sends it again later. */
  #retryLater(ref: string, error: ErrorFrame): boolean {
    const entry = this.#outbox.get(ref);
    if (!entry || !isIdempotent(entry.frame) || !RETRY_LATER_CODES.has(error.code)) return false;
    const attempt = (this.#laterAttempts.get(ref) ?? 0) + 1;
    if (attempt > MAX_RESENDS_LATER) return false;
    this.#laterAttempts.set(ref, attempt);
    entry.written = false;
    const delay =
      error.retry_after !== undefined
        ? error.retry_after * 1000
        : backoffDelay(attempt - 1, this.#backoff, this.#options.random);
    setTimeout(() => {
      if (this.#outbox.get(ref) === entry && !entry.written && this.#state.status === 'open')
        this.#write(entry);
    }, delay);
    return true;
  }

  /**
   * The socket is gone: idempotent frames go back to "unwritten" and are resent on the next
   * socket; for the others the outcome is unknown, so their senders are told.
   */
  #dropWritten(): void {
    let changed = false;
    for (const entry of this.#outbox.entries()) {
      if (!entry.written) continue;
      const ref = entry.frame.ref;
      clearTimeout(this.#ackTimers.get(ref));
      this.#ackTimers.delete(ref);
      entry.written = false;
      if (isIdempotent(entry.frame)) continue;
      this.#outbox.remove(ref);
      changed = true;
      this.#waiters
        .get(ref)
        ?.reject(
          new OutcomeUnknownError(`The connection dropped before the server answered ${entry.frame.type}.`),
        );
      this.#waiters.delete(ref);
    }
    if (changed) this.#queueChanged();
  }

  #rejectWaiters(error: Error): void {
    for (const waiter of this.#waiters.values()) waiter.reject(error);
    this.#waiters.clear();
  }

  #checkSize(frame: QueuedFrame<ClientFrame>): SwitchboardError | undefined {
    const limit = this.#options.maxFrameBytes ?? 1024 * 1024;
    const bytes = new TextEncoder().encode(JSON.stringify(frame)).byteLength;
    return bytes > limit
      ? new SwitchboardError(`The frame is ${bytes} bytes; the limit is ${limit}.`)
      : undefined;
  }

  /** The socket, if it can take a frame right now (its close event may still be on its way). */
  #writableSocket(): WebSocketLike | undefined {
    return this.#socket?.readyState === SOCKET_OPEN ? this.#socket : undefined;
  }

  #clearTimers(): void {
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#trustTimer);
    clearTimeout(this.#renewTimer);
    for (const timer of this.#ackTimers.values()) clearTimeout(timer);
    this.#ackTimers.clear();
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    this.#changes.emit('state', state);
  }

  #queueChanged(): void {
    this.#queueSnapshot = undefined;
    this.#changes.emit('queue', this.queued);
  }
}

/** Resends of one frame refused as "try again later" before its promise rejects with the refusal. */
const MAX_RESENDS_LATER = 5;
/** Refusals that mean "nothing was stored, try again later" rather than "this frame is wrong". */
const RETRY_LATER_CODES: ReadonlySet<string> = new Set([
  ErrorCode.SERVICE_UNAVAILABLE,
  ErrorCode.RATE_LIMIT_EXCEEDED,
]);

function isIdempotent(frame: object): boolean {
  return typeof (frame as { client_id?: unknown }).client_id === 'string';
}

function isOffline(): boolean {
  const navigator = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  return navigator?.onLine === false;
}
