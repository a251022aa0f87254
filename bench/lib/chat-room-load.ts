/**
 * The persisted-chat load: every member of a room sends `chat_message` frames with a `ref` and
 * keeps at most `window` of them un-acked; every member counts the broadcasts it receives.
 * Acks of one connection arrive in send order (the server handles a connection's frames in
 * order), so a FIFO of send times is enough to time them.
 */
import type WebSocket from 'ws';
import { CHAT_TEXT } from './chat-frame.ts';
import { closeClients } from './clients.ts';
import { LatencySamples } from './latency.ts';

/** Broadcasts are only counted, never parsed: they start with this (their `type` comes first). */
const BROADCAST_PREFIX = Buffer.from('{"type":"chat_message"');

export interface ChatPhaseResult {
  seconds: number;
  acked: number;
  ackedPerSecond: number;
  deliveriesPerSecond: number;
  ackP50Ms: number;
  ackP99Ms: number;
  errors: number;
  firstError: string | undefined;
  membersLost: number;
  generatorCores: number;
}

interface Sender {
  ws: WebSocket;
  sentAt: number[];
  next: number;
}

export class ChatRoomLoad {
  private readonly senders: Sender[];
  private running = false;
  private acked = 0;
  private delivered = 0;
  private errors = 0;
  private firstError: string | undefined;
  private open: number;
  private ackLatency = new LatencySamples();

  constructor(
    members: WebSocket[],
    private readonly window: number,
  ) {
    this.open = members.length;
    this.senders = members.map((ws, index) => {
      const sender: Sender = { ws, sentAt: [], next: 0 };
      ws.on('message', (data: Buffer) => {
        if (
          data.length > BROADCAST_PREFIX.length &&
          data.compare(BROADCAST_PREFIX, 0, BROADCAST_PREFIX.length, 0, BROADCAST_PREFIX.length) === 0
        ) {
          this.delivered++;
          return;
        }
        const frame = JSON.parse(data.toString()) as { type: string; ref?: string; error?: string };
        if (frame.ref === undefined) return; // `synced` and the like
        const sentAt = sender.sentAt.shift();
        if (frame.type === 'ack') {
          this.acked++;
          if (sentAt !== undefined) this.ackLatency.add(performance.now() - sentAt);
        } else {
          this.errors++;
          this.firstError ??= JSON.stringify(frame);
        }
        this.fill(sender, index);
      });
      ws.once('close', () => this.open--);
      return sender;
    });
  }

  async run(seconds: number): Promise<ChatPhaseResult> {
    this.ackLatency = new LatencySamples();
    const [acked, delivered, errors, open] = [this.acked, this.delivered, this.errors, this.open];
    const cpu = process.cpuUsage();
    const started = performance.now();
    this.running = true;
    for (const [index, sender] of this.senders.entries()) this.fill(sender, index);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    this.running = false;
    const elapsed = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      seconds: elapsed,
      acked: this.acked - acked,
      ackedPerSecond: (this.acked - acked) / elapsed,
      deliveriesPerSecond: (this.delivered - delivered) / elapsed,
      ackP50Ms: this.ackLatency.quantile(0.5),
      ackP99Ms: this.ackLatency.quantile(0.99),
      errors: this.errors - errors,
      firstError: this.firstError,
      membersLost: open - this.open,
      generatorCores: (used.user + used.system) / 1e6 / elapsed,
    };
  }

  /** Waits (bounded) for the acks of everything sent. */
  async drain(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.senders.some((s) => s.sentAt.length > 0) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
  }

  close(): void {
    closeClients(this.senders.map((s) => s.ws));
  }

  private fill(sender: Sender, index: number): void {
    while (this.running && sender.sentAt.length < this.window && sender.ws.readyState === sender.ws.OPEN) {
      const n = sender.next++;
      sender.sentAt.push(performance.now());
      sender.ws.send(
        JSON.stringify({
          type: 'chat_message',
          message: CHAT_TEXT,
          client_id: `m${index}-${n}`,
          ref: String(n),
        }),
      );
    }
  }
}
