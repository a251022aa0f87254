/**
 * The clients of a soak: one `ChatRoomConnection` of the real client SDK each (Node WebSocket via
 * `ws`), written like an application would use it. Each client sits in one room, sends messages
 * at random intervals (the SDK gives each a `client_id` we choose, so the checker can follow it),
 * and records what the checker needs: every change the SDK delivered, every message it sent and
 * every ack it got, and a log of its own events (connects, drops, refusals) to print when
 * something goes wrong.
 *
 * Failing over: the SDK reconnects to the one URL it was given. A client here gets the URLs of
 * every node's relay and a WebSocket constructor that sends each new attempt to the next relay,
 * so a client whose node is down lands on another one — what DNS round robin or a load balancer
 * does for a browser.
 */
import {
  AckTimeoutError,
  ChatRoomConnection,
  type ChatServerFrame,
  type ErrorFrame,
  type MessageAck,
  memoryOutboxStorage,
  QueueFullError,
  ServerError,
  type WebSocketConstructor,
} from '@switchboard/client';
import WebSocket from 'ws';
import type { SeededRandom } from './seeded-random.ts';

export interface ClientAccount {
  /** `c17`: names the client in every report. */
  name: string;
  userId: number;
  room: string;
  token: string;
  /** Index of the relay the client tries first. */
  home: number;
}

/** One change of the room as the client received it. */
export interface Received {
  seq: number;
  id: number;
  clientId: string | null;
  content: string;
}

/** One message the application sent, followed through every attempt. */
export interface SentMessage {
  clientId: string;
  content: string;
  /** Times the application handed it to the SDK (again after a "try later" refusal). */
  attempts: number;
  /** Every ack received for it (a resend is acked again, with the original id and seq). */
  acks: Pick<MessageAck, 'message_id' | 'seq' | 'duplicate'>[];
  /** Why the SDK last rejected it, if it did; a retry clears nothing, the history keeps it all. */
  rejections: string[];
  /** The application is waiting to hand it to the SDK again. */
  retryScheduled: boolean;
}

export interface ClientTuning {
  /** Mean time between two messages of one client. */
  meanSendIntervalMs: number;
  /** Most messages a client lets wait in the SDK's queue before it stops typing new ones. */
  maxQueued: number;
}

/** SDK settings for the soak: shorter than the defaults so a 45 s run sees several recoveries. */
const SDK_TIMING = {
  // Below the longest relay stall and node pause: some stalls are noticed by the ack timeout
  // (the SDK drops the socket and reconnects elsewhere), shorter ones heal underneath it.
  ackTimeoutMs: 6_000,
  connectTimeoutMs: 5_000,
  backoff: { baseMs: 250, capMs: 4_000 },
};

/** Refusals after which the application tries again with the same client_id (nothing was stored). */
const TRY_LATER = new Set(['SERVICE_UNAVAILABLE', 'RATE_LIMIT_EXCEEDED']);

export class ChaosClient {
  readonly received: Received[] = [];
  readonly sent = new Map<string, SentMessage>();
  /** `12.345 s text`, oldest first. */
  readonly events: string[] = [];
  reconnects = 0;

  private readonly connection: ChatRoomConnection;
  private sending = false;
  private sendTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly retryTimers = new Set<ReturnType<typeof setTimeout>>();
  private counter = 0;

  constructor(
    readonly account: ClientAccount,
    relayUrls: readonly string[],
    private readonly random: SeededRandom,
    private readonly tuning: ClientTuning,
    /** Seconds since the start of the run. */
    private readonly clock: () => number,
  ) {
    this.connection = new ChatRoomConnection({
      server: relayUrls[account.home]!,
      room: account.room,
      // From the start of the room: the client must end with all of its history.
      afterSeq: 0,
      token: () => account.token,
      WebSocket: rotatingWebSocket(relayUrls, account.home, (relay) =>
        this.note(`connecting via relay ${relay}`),
      ),
      random: () => random.next(),
      outbox: { storage: memoryOutboxStorage(), key: account.name },
      watchNetwork: false,
      ...SDK_TIMING,
    });
    this.connection.onFrame((frame) => this.receive(frame));
    this.connection.onStateChange((state) => {
      if (state.status === 'reconnecting') {
        this.reconnects += 1;
        this.note(`reconnecting: ${state.code} ${state.reason}`);
      } else if (state.status === 'failed' || state.status === 'closed') {
        this.note(`${state.status}: ${state.code ?? ''} ${state.reason ?? ''}`);
      } else {
        this.note(state.status);
      }
    });
  }

  get name(): string {
    return this.account.name;
  }

  get status(): string {
    return this.connection.state.status;
  }

  /** The highest seq the SDK has seen in the room. */
  get lastSeq(): number {
    return this.connection.lastSeq ?? 0;
  }

  connect(): void {
    this.connection.connect();
  }

  startSending(): void {
    this.sending = true;
    this.scheduleNext();
  }

  /** No new messages from now on; those already written still get their retries. */
  stopSending(): void {
    this.sending = false;
    clearTimeout(this.sendTimer);
  }

  /** Open, nothing waiting in the SDK's queue, and nothing the application still means to resend. */
  get settled(): boolean {
    return (
      this.status === 'open' &&
      this.connection.queued.length === 0 &&
      ![...this.sent.values()].some((m) => m.retryScheduled)
    );
  }

  close(): void {
    this.stopSending();
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.connection.close();
  }

  /** The client's own events about one of its messages, oldest first. */
  eventsAbout(clientId: string): string[] {
    // `c1-1 ` or `c1-1:`, never `c1-10`.
    return this.events.filter((event) => event.includes(`${clientId} `) || event.includes(`${clientId}:`));
  }

  private note(text: string): void {
    this.events.push(`${this.clock().toFixed(3)} s ${text}`);
  }

  private scheduleNext(): void {
    const delay = this.tuning.meanSendIntervalMs * (0.5 + this.random.next());
    this.sendTimer = setTimeout(() => {
      if (!this.sending) return;
      // Like a person whose messages show "sending…": after a while they stop typing new ones.
      if (this.connection.queued.length < this.tuning.maxQueued) this.sendNew();
      this.scheduleNext();
    }, delay);
  }

  private sendNew(): void {
    const clientId = `${this.name}-${++this.counter}`;
    const message: SentMessage = {
      clientId,
      content: `${this.name} says ${this.counter}`,
      attempts: 0,
      acks: [],
      rejections: [],
      retryScheduled: false,
    };
    this.sent.set(clientId, message);
    this.hand(message);
  }

  /** Gives the message to the SDK and follows its fate. */
  private hand(message: SentMessage): void {
    message.attempts += 1;
    message.retryScheduled = false;
    this.note(
      `send ${message.clientId} (attempt ${message.attempts}, ${this.connection.queued.length} queued)`,
    );
    this.connection.sendMessage(message.content, { clientId: message.clientId }).then(
      (ack) => {
        message.acks.push({ message_id: ack.message_id, seq: ack.seq, duplicate: ack.duplicate });
        this.note(
          `ack ${message.clientId}: id ${ack.message_id} seq ${ack.seq}${ack.duplicate ? ' duplicate' : ''}`,
        );
      },
      (error: Error) => {
        const why =
          error instanceof ServerError
            ? `${error.code}: ${error.message}`
            : `${error.name}: ${error.message}`;
        message.rejections.push(why);
        this.note(`rejected ${message.clientId}: ${why}`);
        // The SDK keeps a timed-out message queued and resends it itself; nothing to do here.
        if (error instanceof AckTimeoutError) return;
        // The SDK gave up resending "try later" refusals; a person would tap "retry". Same client_id.
        if ((error instanceof ServerError && TRY_LATER.has(error.code)) || error instanceof QueueFullError) {
          message.retryScheduled = true;
          const timer = setTimeout(
            () => {
              this.retryTimers.delete(timer);
              this.hand(message);
            },
            this.random.between(1_000, 3_000),
          );
          this.retryTimers.add(timer);
        }
        // Anything else (a refusal that is not "try later", a failed connection) is left as it
        // is: the checker reports the message if it ends up not stored.
      },
    );
  }

  private receive(frame: ChatServerFrame | ErrorFrame): void {
    if (frame.type === 'chat_message') {
      const m = frame.message;
      this.received.push({ seq: m.seq, id: m.id, clientId: m.client_id ?? null, content: m.content });
      if (m.client_id?.startsWith(`${this.name}-`)) this.note(`received own ${m.client_id} as seq ${m.seq}`);
    } else if (frame.type === 'synced') {
      this.note(`synced at seq ${frame.last_seq}`);
    } else if (frame.type === 'error') {
      this.note(`error frame: ${frame.code} ${frame.error}`);
    }
  }
}

/** A WebSocket class whose every new socket goes to the next relay in turn, starting at `first`. */
function rotatingWebSocket(
  relayUrls: readonly string[],
  first: number,
  onAttempt: (relay: number) => void,
): WebSocketConstructor {
  let next = first;
  return class RotatingWebSocket extends WebSocket {
    constructor(url: string) {
      const relay = next;
      next = (next + 1) % relayUrls.length;
      const target = new URL(url);
      target.host = new URL(relayUrls[relay]!).host;
      super(target);
      onAttempt(relay);
    }
  };
}
