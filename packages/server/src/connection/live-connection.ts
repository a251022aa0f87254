/**
 * One WebSocket connection driven through its consumer: authenticate → connect → frames and
 * layer events → disconnect. Frames of one connection are handled one at a time, in arrival
 * order; connections never wait on each other.
 */
import { randomBytes } from 'node:crypto';
import {
  type AuthFrame,
  type BatchFrame,
  CloseCode,
  type ErrorMapping,
  FrameworkErrorCode,
} from '@switchboard/protocol/envelope';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Credential, Principal } from '../auth/authenticator.ts';
import type { AnyConsumer, Connection, ConnectionLogger, RateRule } from '../consumer/consumer.ts';
import { WsError } from '../errors.ts';
import type { BinaryLayerMessage, ChannelLayer, LayerMessage } from '../layer/channel-layer.ts';
import type { RateLimiter } from '../limits/rate-limiter.ts';
import type { SwitchboardMetrics } from '../metrics.ts';
import type { RouteParams } from '../routing/router.ts';
import { Admission } from './admission.ts';
import { type DecodedFrame, decodeFrame, decodeValue } from './frame-decoder.ts';
import { corkForTurn, rawSocket, type SharedFrame, sharedBinaryFrame, sharedFrame } from './socket-writer.ts';

export interface ConnectionSettings {
  layer: ChannelLayer;
  rateLimiter: RateLimiter;
  metrics: SwitchboardMetrics;
  logger: Logger;
  defaultRate: RateRule;
  /** Unsent bytes a socket may hold before it is closed as a slow consumer. */
  maxBufferedBytes: number;
  /** Received frames waiting for their handler before the socket stops being read. */
  maxQueuedFrames: number;
  /** Frames refused before a handler ran, per window, before the connection is closed with 4429. */
  invalidFrames: RateRule;
  /** Verifies a token sent in an `auth` frame; absent when the server has no authenticator. */
  fromToken: ((token: string) => Promise<Credential>) | undefined;
  /** Each code's close code (the framework's table with the application's on top). */
  errors: Readonly<Record<string, ErrorMapping>>;
  /** Counts frames written, read by the metrics on scrape (a plain number is cheaper than a counter per write). */
  counters: { framesSent: number };
}

/**
 * The one lifecycle state: `connecting` while the consumer's connect runs (layer events wait for
 * it), `open` once it returned, `closed` once the socket is gone. A connection that closed while
 * `connecting` never ran its consumer's disconnect; `start` cleans up after it. (Closing, the
 * time between our close frame and the socket's end, is the socket's own readyState.)
 */
type Phase = 'connecting' | 'open' | 'closed';

/** A client frame that decoded: a typed JSON frame, or bytes for the consumer's binary handler. */
type Frame = Extract<DecodedFrame, { ok: true }> | { ok: true; type: typeof BINARY_TYPE; data: Buffer };

interface Received {
  data: Buffer;
  isBinary: boolean;
  at: number;
}

const OPEN = 1;
/** The longest delay setTimeout holds (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The metrics label and rate bucket of binary frames. */
const BINARY_TYPE = 'binary';
export const SLOW_CONSUMER_REASON = 'slow consumer';
/** Close reasons are limited to 123 bytes by RFC 6455. */
const reasonOf = (text: string) => Buffer.from(text).subarray(0, 123).toString();
/**
 * One flat string: `randomUUID()` returns a rope of some twenty pieces that each connection would
 * keep for its lifetime (about 450 bytes; measured by the idle-connections bench).
 */
const newConnectionId = () => randomBytes(16).toString('hex');

export class LiveConnection implements Connection<unknown> {
  readonly id = newConnectionId();
  channelName = '';
  principal: Principal = { id: this.id };
  params: RouteParams = {};
  state: unknown = undefined;
  /** Set by the heartbeat; cleared when the peer shows life. */
  awaitingPong = false;
  lastActivity = Date.now();

  private phase: Phase = 'connecting';
  private consumer: AnyConsumer | undefined;
  /** Received frames not yet handled, and whether reading paused because there are too many. */
  private readonly inbound: Received[] = [];
  private paused = false;
  /** The drain of `inbound` in progress, if any. */
  private handling: Promise<void> | undefined;
  private readonly admission: Admission;
  /** Tasks waiting for the current frame's reply; undefined when no frame is being handled. */
  private afterReplyTasks: (() => void | Promise<void>)[] | undefined;
  private opened: { promise: Promise<void>; resolve: () => void } | undefined;
  private finished: Promise<void> | undefined;
  private logger: ConnectionLogger | undefined;
  /** When the credential ends (ms since the epoch); undefined: never, and no timer is kept. */
  private expiresAt: number | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly query: URLSearchParams,
    private readonly settings: ConnectionSettings,
  ) {
    // Listeners are inline arrows rather than arrow-valued class fields: tsx (esbuild keepNames)
    // gives every such field instance its own `name` property, about 250 bytes per connection each.
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
    ws.on('error', (error) => this.log.debug({ err: error }, 'socket error'));
    this.admission = new Admission(settings.rateLimiter, settings.invalidFrames, (error) =>
      this.log.warn({ err: error }, 'rate limiter unavailable; allowing'),
    );
  }

  /** False for a consumer that speaks a binary protocol: its clients cannot read JSON frames. */
  get speaksJson(): boolean {
    return this.consumer !== undefined && this.consumer.binary === undefined;
  }

  get layer(): ChannelLayer {
    return this.settings.layer;
  }

  get log(): ConnectionLogger {
    this.logger ??= this.settings.logger.child({ conn: this.id });
    return this.logger;
  }

  /**
   * Runs the consumer's connect; on refusal sends the error frame and closes with its code.
   * Without a credential the connection is anonymous: its principal id is its connection id.
   */
  async start(consumer: AnyConsumer, credential: Credential | null, params: RouteParams): Promise<void> {
    this.consumer = consumer;
    if (credential) this.principal = credential.principal;
    this.params = params;
    let gateOpen: () => void = () => {};
    this.opened = { promise: new Promise((resolve) => (gateOpen = resolve)), resolve: gateOpen };
    this.channelName = this.settings.layer.addChannel((event) => this.receive(event));
    try {
      this.state = await consumer.connect(this);
    } catch (error) {
      this.opened.resolve();
      this.refuse(error);
      this.leaveLayer();
      return;
    }
    if (this.phase === 'closed') {
      // The peer left while connect ran: undo what connect set up.
      this.opened.resolve();
      await this.finish(1006);
      return;
    }
    this.phase = 'open';
    this.armExpiry(credential?.expiresAt);
    this.opened.resolve();
    this.opened = undefined;
    this.settings.metrics.connectionsTotal.inc();
    if (this.inbound.length > 0) this.handling ??= this.drain();
  }

  /** Sends an error frame (answering `ref` when given) and closes with the error's close code. */
  refuse(error: unknown, reason?: string, ref?: string): void {
    const refusal = this.asWsError(error);
    this.sendError(refusal, ref);
    const closeCode =
      refusal.details.closeCode ?? this.settings.errors[refusal.code]?.close ?? CloseCode.INTERNAL_ERROR;
    this.close(closeCode, reason ?? refusal.message);
  }

  // --- Connection API for consumers -----------------------------------------------------------

  send(frame: object): void {
    if (this.ws.readyState !== OPEN) return;
    const socket = rawSocket(this.ws);
    if (socket) corkForTurn(socket);
    this.ws.send(Buffer.from(JSON.stringify(frame)), { binary: false });
    this.afterWrite();
  }

  sendBinary(data: Uint8Array): void {
    if (this.ws.readyState !== OPEN) return;
    const socket = rawSocket(this.ws);
    if (socket) corkForTurn(socket);
    this.ws.send(data, { binary: true });
    this.afterWrite();
  }

  async whenWritable(): Promise<void> {
    const socket = rawSocket(this.ws);
    while (
      socket &&
      !socket.destroyed &&
      this.ws.readyState === OPEN &&
      this.ws.bufferedAmount > this.settings.maxBufferedBytes / 2
    ) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
  }

  afterReply(task: () => void | Promise<void>): void {
    if (this.afterReplyTasks) this.afterReplyTasks.push(task);
    else void this.runTask(task);
  }

  private async runTask(task: () => void | Promise<void>): Promise<void> {
    try {
      await task();
    } catch (error) {
      this.log.error({ err: error }, 'afterReply task failed');
    }
  }

  async groupAdd(group: string): Promise<void> {
    await this.settings.layer.groupAdd(group, this.channelName);
  }

  async groupDiscard(group: string): Promise<void> {
    await this.settings.layer.groupDiscard(group, this.channelName);
  }

  close(code = 1000, reason = ''): void {
    if (this.ws.readyState === OPEN) this.ws.close(code, reasonOf(reason));
  }

  // --- transport ------------------------------------------------------------------------------

  /** Writes a broadcast: the bytes are serialised and framed once for all recipients on this node. */
  private sendShared(frame: SharedFrame, binary: boolean): void {
    if (this.ws.readyState !== OPEN) return;
    const socket = rawSocket(this.ws);
    if (!socket) return;
    corkForTurn(socket);
    if (this.ws.extensions === '') socket.write(frame.framed);
    else this.ws.send(frame.payload, { binary });
    this.afterWrite();
  }

  private afterWrite(): void {
    this.settings.counters.framesSent++;
    if (this.ws.bufferedAmount > this.settings.maxBufferedBytes) this.closeSlowConsumer();
  }

  private closeSlowConsumer(): void {
    if (this.phase === 'closed' || this.ws.readyState !== OPEN) return;
    this.settings.metrics.slowConsumerCloses.inc();
    this.log.warn({ buffered: this.ws.bufferedAmount }, 'closing slow consumer');
    this.ws.close(1013, SLOW_CONSUMER_REASON);
    // Its close frame waits behind the backlog; a peer that does not read is cut off.
    setTimeout(() => this.ws.terminate(), 3000).unref();
  }

  private sendError(error: WsError, ref: string | undefined): void {
    this.settings.metrics.refusals.inc({ code: error.code });
    const binary = this.consumer?.binary;
    if (binary?.refusal) {
      const frame = binary.refusal(error);
      if (frame) this.sendBinary(frame);
      return;
    }
    this.send({
      type: 'error',
      ...(ref === undefined ? {} : { ref }),
      code: error.code,
      error: error.message,
      ...(error.details.field === undefined ? {} : { field: error.details.field }),
      ...(error.details.retryAfter === undefined ? {} : { retry_after: error.details.retryAfter }),
    });
  }

  private asWsError(error: unknown): WsError {
    if (error instanceof WsError) return error;
    this.log.error({ err: error }, 'unexpected error');
    return new WsError(FrameworkErrorCode.INTERNAL_ERROR, 'Internal server error.');
  }

  // --- layer events ---------------------------------------------------------------------------

  private receive(event: LayerMessage): void | Promise<void> {
    if (this.opened) return this.opened.promise.then(() => this.dispatch(event));
    return this.dispatch(event);
  }

  private dispatch(event: LayerMessage): void | Promise<void> {
    if (this.phase !== 'open' || !this.consumer) return;
    const forward = this.consumer.forward?.[event.type];
    if (forward !== undefined) {
      if (forward === true || forward(this, event)) this.sendShared(sharedFrame(event), false);
      return;
    }
    const forwardBinary = this.consumer.forwardBinary?.[event.type];
    if (forwardBinary !== undefined) {
      const binary = event as BinaryLayerMessage;
      if (typeof binary.bytes !== 'string') return;
      if (forwardBinary === true || forwardBinary(this, binary))
        this.sendShared(sharedBinaryFrame(binary), true);
      return;
    }
    const handler = this.consumer.events?.[event.type];
    if (!handler) {
      this.log.debug({ event: event.type }, 'no handler for layer event');
      return;
    }
    try {
      const result = handler(this, event);
      if (result)
        return result.catch((error: unknown) =>
          this.log.error({ err: error, event: event.type }, 'event handler failed'),
        );
    } catch (error) {
      this.log.error({ err: error, event: event.type }, 'event handler failed');
    }
  }

  // --- client frames --------------------------------------------------------------------------

  private onFrame(data: Buffer, isBinary: boolean): void {
    // Once closing, no answer can be written: what is still arriving is dropped unread (a client
    // resends what was not acked).
    if (this.ws.readyState !== OPEN) return;
    this.lastActivity = Date.now();
    this.awaitingPong = false;
    this.inbound.push({ data, isBinary, at: performance.now() });
    if (this.inbound.length >= this.settings.maxQueuedFrames && !this.paused) {
      // Backpressure instead of an unbounded queue: TCP slows the sender down.
      this.paused = true;
      this.ws.pause();
    }
    if (this.phase === 'open') this.handling ??= this.drain();
  }

  private async drain(): Promise<void> {
    for (let item = this.inbound.shift(); item; item = this.inbound.shift()) {
      if (this.ws.readyState !== OPEN) {
        this.inbound.length = 0;
        // A paused socket never reads the peer's close frame: the closing handshake would hang
        // until ws gives up (30 s), and the client would learn of the close only then.
        if (this.paused) {
          this.paused = false;
          this.ws.resume();
        }
        break;
      }
      if (this.paused && this.inbound.length < this.settings.maxQueuedFrames / 2) {
        this.paused = false;
        this.ws.resume();
      }
      try {
        await this.handleFrame(item);
      } catch (error) {
        // Every step of handleFrame answers for itself; this is the net under a bug, so that a
        // frame can never become an unhandled rejection (which would end the process).
        this.log.error({ err: error }, 'frame handling failed');
        this.close(1011, 'internal error');
      }
    }
    this.handling = undefined;
  }

  /** One frame, in four steps, each of which may answer it and stop: decode, admit, run, reply. */
  private async handleFrame(received: Received): Promise<void> {
    const frame = this.decode(received);
    if (!frame) return;
    if (frame.type === 'batch' && 'message' in frame) return this.runBatch(frame, received.at);
    if (!(await this.admit(frame))) return;
    await this.run(frame, received.at);
  }

  /**
   * A batch is its frames, in order, each taken exactly as if it had come alone (its own
   * validation, rate hit, handler and reply); the batch itself costs no rate hit.
   */
  private async runBatch(batch: Extract<Frame, { message: unknown }>, at: number): Promise<void> {
    const { frames } = batch.message as BatchFrame;
    for (const inner of frames) {
      if (this.ws.readyState !== OPEN) return;
      const decoded = decodeValue(inner, this.consumer!.messages, false, true);
      if (!decoded.ok) {
        this.settings.metrics.messagesTotal.inc({ type: 'invalid' });
        this.sendError(decoded.error, decoded.ref);
        this.countUnusable(at);
      } else if (await this.admit(decoded)) {
        await this.run(decoded, at);
      }
    }
    if (batch.ref !== undefined) this.send({ type: 'ack', ref: batch.ref, count: frames.length });
  }

  /** Parses and validates; a frame that does not decode is answered here and counted. */
  private decode({ data, isBinary, at }: Received): Frame | undefined {
    const { metrics } = this.settings;
    if (isBinary && this.consumer!.binary) return { ok: true, type: BINARY_TYPE, data };
    const decoded = decodeFrame(data, isBinary, this.consumer!.messages);
    if (decoded.ok) return decoded;
    metrics.messagesTotal.inc({ type: 'invalid' });
    this.sendError(decoded.error, decoded.ref);
    this.countUnusable(at);
    return undefined;
  }

  /** The frame's rate bucket: its type's own, or the connection's default. */
  private async admit(frame: Frame): Promise<boolean> {
    const { metrics, defaultRate } = this.settings;
    // Only a type the consumer declares gets here, so clients cannot grow the label set.
    metrics.messagesTotal.inc({ type: frame.type });
    const own = 'data' in frame ? this.consumer!.binary!.rate : this.consumer!.rateLimits?.[frame.type];
    const verdict = await this.admission.admit(
      `${this.principal.id}:${own ? frame.type : 'default'}`,
      own ?? defaultRate,
    );
    if (verdict.allowed) return true;
    metrics.rateLimited.inc();
    this.sendError(verdict.refusal, 'ref' in frame ? frame.ref : undefined);
    if (verdict.letGo) this.close(CloseCode.RATE_LIMITED, 'rate limit exceeded');
    return false;
  }

  /** Hands the frame to its handler, then replies (ack or error) and runs what waits for the reply. */
  private async run(frame: Frame, at: number): Promise<void> {
    if (frame.type === 'auth' && 'message' in frame) {
      return this.renew((frame.message as AuthFrame).token, frame.ref);
    }
    const tasks: (() => void | Promise<void>)[] = [];
    this.afterReplyTasks = tasks;
    try {
      if ('data' in frame) {
        await this.consumer!.binary!.handle(this, frame.data);
      } else {
        const result = await this.consumer!.handlers[frame.type]!(this, frame.message);
        if (frame.ref !== undefined) this.send({ ...(result ?? {}), type: 'ack', ref: frame.ref });
      }
    } catch (error) {
      const refusal = this.asWsError(error);
      this.sendError(refusal, 'ref' in frame ? frame.ref : undefined);
      // A binary handler's refusals are its stream's own: an unusable one counts, and one that
      // names a close code means the stream cannot go on.
      if ('data' in frame && refusal.code === FrameworkErrorCode.INVALID_MESSAGE) this.countUnusable(at);
      if ('data' in frame && refusal.details.closeCode !== undefined)
        this.close(refusal.details.closeCode, refusal.message);
    } finally {
      this.afterReplyTasks = undefined;
      this.settings.metrics.messageLatency.observe({ type: frame.type }, (performance.now() - at) / 1000);
    }
    for (const task of tasks) await this.runTask(task);
  }

  private countUnusable(at: number): void {
    if (!this.admission.unusable(at)) return;
    this.settings.metrics.rateLimited.inc();
    this.close(CloseCode.RATE_LIMITED, 'too many invalid frames');
  }

  // --- credential lifetime -------------------------------------------------------------------

  /** One timer per connection with an expiring credential, re-armed by every renewal. */
  private armExpiry(expiresAt: number | undefined): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.expiresAt = expiresAt;
    if (expiresAt === undefined || this.phase !== 'open') return;
    const wait = Math.min(Math.max(expiresAt - Date.now(), 0), MAX_TIMER_MS);
    // One shared callback with the connection as its argument: an arrow per connection would be
    // one more closure kept per socket (about 100 bytes, measured by the idle-connections bench).
    this.expiryTimer = setTimeout(LiveConnection.expire, wait, this);
    // The socket keeps the process alive, not its expiry.
    this.expiryTimer.unref();
  }

  private static expire(conn: LiveConnection): void {
    conn.onExpiry();
  }

  private onExpiry(): void {
    this.expiryTimer = undefined;
    if (this.expiresAt === undefined) return;
    // A lifetime longer than one timer can hold waits again.
    if (Date.now() < this.expiresAt) this.armExpiry(this.expiresAt);
    else
      this.refuse(new WsError(FrameworkErrorCode.AUTHENTICATION_FAILED, 'Token expired.'), 'token expired');
  }

  /**
   * An `auth` frame: a new token for the same principal extends the connection's life. A token
   * that fails verification, or names someone else, ends it (4401), as an expired one would; a
   * verifier that is merely unavailable leaves the current credential standing until it expires.
   */
  private async renew(token: string, ref: string | undefined): Promise<void> {
    const { fromToken } = this.settings;
    if (!fromToken) {
      this.sendError(new WsError(FrameworkErrorCode.INVALID_MESSAGE, 'This server takes no tokens.'), ref);
      return;
    }
    let credential: Credential;
    try {
      credential = await fromToken(token);
    } catch (error) {
      const refusal = this.asWsError(error);
      if (refusal.code === FrameworkErrorCode.AUTHENTICATION_FAILED) this.refuse(refusal, undefined, ref);
      else this.sendError(refusal, ref);
      return;
    }
    if (credential.principal.id !== this.principal.id) {
      const refusal = new WsError(FrameworkErrorCode.AUTHENTICATION_FAILED, 'The token names another user.');
      this.refuse(refusal, undefined, ref);
      return;
    }
    if (this.phase !== 'open') return;
    this.principal = credential.principal;
    this.armExpiry(credential.expiresAt);
    const expiresAt = credential.expiresAt === undefined ? null : Math.floor(credential.expiresAt / 1000);
    if (ref !== undefined) this.send({ type: 'ack', ref, expires_at: expiresAt });
  }

  // --- end of life ----------------------------------------------------------------------------

  /** Called when the socket has closed; resolves once groups are left and disconnect has run. */
  onClosed(code: number): Promise<void> {
    const wasOpen = this.phase === 'open';
    this.phase = 'closed';
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.settings.metrics.closes.inc({ code: String(code) });
    // Closed while connecting: start() cleans up whatever connect had set up.
    return wasOpen ? this.finish(code) : Promise.resolve();
  }

  private finish(code: number): Promise<void> {
    this.finished ??= (async () => {
      if (this.handling) await this.handling;
      this.leaveLayer();
      try {
        await this.consumer?.disconnect?.(this, code);
      } catch (error) {
        this.log.error({ err: error }, 'disconnect failed');
      }
    })();
    return this.finished;
  }

  /** The layer owns membership: removing the channel leaves every group it joined. */
  private leaveLayer(): void {
    this.settings.layer.removeChannel(this.channelName);
  }

  /** Heartbeat tick: a peer that did not answer the last ping is cut off; an idle one is closed. */
  heartbeat(now: number, idleTimeoutMs: number): void {
    if (this.awaitingPong) {
      this.ws.terminate();
      return;
    }
    if (idleTimeoutMs > 0 && now - this.lastActivity > idleTimeoutMs) {
      this.close(4408, 'idle timeout');
      return;
    }
    this.awaitingPong = true;
    this.ws.ping();
  }

  /** Graceful shutdown: let the frame being handled finish (bounded), then close with 1001. */
  async shutdown(graceMs: number): Promise<void> {
    if (this.handling)
      await Promise.race([this.handling, new Promise((resolve) => setTimeout(resolve, graceMs))]);
    this.close(1001, 'server shutting down');
  }
}
