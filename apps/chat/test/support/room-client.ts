/**
 * A chat-room client for multi-node tests: it follows one room's stream and, when its node goes
 * away, reconnects to the next node in its list with `after_seq` (what a client behind a load
 * balancer does) and resends what was not acked, under the same client_id. It records everything
 * a test needs to check "every message exactly once, in seq order": the messages in arrival order
 * and any frame that came twice or ahead of its turn.
 */
import type { ChatMessage } from '@switchboard/protocol';
import WebSocket from 'ws';

export interface RoomClientOptions {
  /** `ws://…` base URLs of the nodes, in the order the client tries them. */
  nodes: string[];
  slug: string;
  token: string;
  /** Resume from here on the first connect (default: live only, no replay). */
  afterSeq?: number;
  /** Names the client in failure messages. */
  name: string;
}

export interface Ack {
  type: 'ack';
  ref: string;
  message_id: number;
  seq: number;
  client_id: string | null;
  duplicate: boolean;
}

interface PendingSend {
  frame: Record<string, unknown>;
  resolve: (ack: Ack) => void;
  reject: (error: Error) => void;
}

const CONNECT_ATTEMPTS = 20;

export class RoomClient {
  /** Every chat_message received, in arrival order, across reconnects. */
  readonly messages: ChatMessage[] = [];
  /** Seqs that arrived although the client already had them. */
  readonly duplicates: number[] = [];
  /** Seqs that arrived while an earlier one was still missing. */
  readonly outOfOrder: number[] = [];
  /** Error frames received, for a failure message. */
  readonly errors: unknown[] = [];
  /** Highest seq received with nothing missing below it (the resume cursor). */
  lastSeq: number;
  /** Index into `nodes` of the node the client is on. */
  node = 0;
  reconnects = 0;

  private socket: WebSocket | undefined;
  private readonly pending = new Map<string, PendingSend>();
  private refs = 0;
  private closing = false;
  private resumed: Promise<void> = Promise.resolve();
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly options: RoomClientOptions) {
    this.lastSeq = options.afterSeq ?? 0;
  }

  /** Connects to the first node and resolves once the room is synced (replay done). */
  static async open(options: RoomClientOptions): Promise<RoomClient> {
    const client = new RoomClient(options);
    await client.connect(options.afterSeq);
    return client;
  }

  get name(): string {
    return this.options.name;
  }

  /** Sends a chat message and resolves with its ack, resending it after a reconnect if needed. */
  send(text: string, clientId: string): Promise<Ack> {
    const ref = `${clientId}#${++this.refs}`;
    const frame = { type: 'chat_message', message: text, client_id: clientId, ref };
    return new Promise<Ack>((resolve, reject) => {
      this.pending.set(ref, { frame, resolve, reject });
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
    });
  }

  /** Resolves once a message with seq ≥ `seq` has arrived (without a hole before it). */
  async waitForSeq(seq: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.lastSeq < seq) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `${this.name}: waited for seq ${seq}, has ${this.lastSeq} (node ${this.node}, errors ${JSON.stringify(this.errors)})`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, Math.min(left, 250));
        function wake() {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(wake);
      });
    }
  }

  /** Resolves once the client is connected again after losing its node. */
  whenResumed(): Promise<void> {
    return this.resumed;
  }

  async close(): Promise<void> {
    this.closing = true;
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.close(1000);
    });
  }

  private async connect(afterSeq: number | undefined): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < CONNECT_ATTEMPTS; attempt++) {
      try {
        await this.connectOnce(afterSeq);
        return;
      } catch (error) {
        lastError = error;
        await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
      }
    }
    throw new Error(`${this.name}: could not connect: ${String(lastError)}`);
  }

  private connectOnce(afterSeq: number | undefined): Promise<void> {
    const query = new URLSearchParams({ token: this.options.token });
    if (afterSeq !== undefined) query.set('after_seq', String(afterSeq));
    const url = `${this.options.nodes[this.node]}/ws/chat/${this.options.slug}/?${query}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    return new Promise<void>((resolve, reject) => {
      let synced = false;
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; [field: string]: unknown };
        if (frame.type === 'synced' && !synced) {
          synced = true;
          // Whatever was sent on the lost connection and not acked goes again, with its client_id.
          for (const { frame: unacked } of this.pending.values()) socket.send(JSON.stringify(unacked));
          resolve();
          return;
        }
        this.receive(frame);
      });
      socket.on('error', () => {});
      socket.on('close', (code) => {
        if (!synced) {
          reject(new Error(`closed with ${code} before synced`));
          return;
        }
        if (this.closing) return;
        // The node went away: move on to the next one and resume after the last seq we have.
        this.reconnects++;
        this.node = (this.node + 1) % this.options.nodes.length;
        this.resumed = this.connect(this.lastSeq);
        this.resumed.catch((error: unknown) => this.errors.push(String(error)));
      });
    });
  }

  private receive(frame: { type: string; [field: string]: unknown }): void {
    if (frame.type === 'chat_message') {
      const message = frame.message as ChatMessage;
      if (message.seq <= this.lastSeq) this.duplicates.push(message.seq);
      else if (message.seq !== this.lastSeq + 1) this.outOfOrder.push(message.seq);
      else this.lastSeq = message.seq;
      this.messages.push(message);
      for (const wake of this.waiters) wake();
      this.waiters.clear();
      return;
    }
    const ref = typeof frame.ref === 'string' ? frame.ref : undefined;
    const pending = ref === undefined ? undefined : this.pending.get(ref);
    if (frame.type === 'ack' && pending) {
      this.pending.delete(ref!);
      pending.resolve(frame as unknown as Ack);
    } else if (frame.type === 'error') {
      this.errors.push(frame);
      if (pending) {
        this.pending.delete(ref!);
        pending.reject(new Error(`${this.name}: ${JSON.stringify(frame)}`));
      }
    }
  }
}
