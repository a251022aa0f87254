/**
 * The fan-out load generator: subscribers that only count and sample latency, publishers that
 * send chat frames either as fast as the server takes them (bounded window) or at a fixed rate.
 *
 * "In flight" is end to end: a message counts as in flight until every subscriber received it,
 * so the window bounds the server's backlog, not just the publishers' sockets.
 */
import type WebSocket from 'ws';
import { type ChatBroadcast, publishFrame, sentAtOf } from './chat-frame.ts';
import { closeClients, wireBytesRead } from './clients.ts';
import { LatencySamples } from './latency.ts';

/** One subscriber in this many parses its frames for latency; the rest only count. */
const SAMPLE_STRIDE = 20;
/** A paced phase stops publishing while this many messages are still in flight (overload guard). */
const PACED_MAX_IN_FLIGHT = 1000;
const PACE_TICK_MS = 2;

export interface PhaseResult {
  seconds: number;
  published: number;
  delivered: number;
  deliveriesPerSecond: number;
  publishesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  latencySamples: number;
  /** CPU the generator (this process) used, in cores. */
  generatorCores: number;
  /** Subscribers that were closed by the server or the network during the phase. */
  subscribersLost: number;
  /** Bytes subscribers read from the wire, per delivery. */
  wireBytesPerDelivery: number;
}

export class FanOutLoad {
  private sent = 0;
  private delivered = 0;
  private open: number;
  private latency = new LatencySamples();
  private pump: () => void = () => {};
  private nextPublisher = 0;

  constructor(
    private readonly subscribers: WebSocket[],
    private readonly publishers: WebSocket[],
  ) {
    this.open = subscribers.length;
    subscribers.forEach((ws, index) => {
      const sampled = index % SAMPLE_STRIDE === 0;
      ws.on('message', (data: Buffer) => {
        this.delivered++;
        if (sampled) {
          const sentAt = sentAtOf(JSON.parse(data.toString()) as ChatBroadcast);
          if (sentAt !== undefined) this.latency.add(performance.now() - sentAt);
        }
        this.pump();
      });
      ws.once('close', () => this.open--);
    });
  }

  /** Messages not yet received by every open subscriber. */
  get inFlight(): number {
    return this.open === 0 ? 0 : this.sent - this.delivered / this.open;
  }

  /** Publishes as fast as deliveries complete, keeping at most `window` messages in flight. */
  runAtMaxRate(seconds: number, window: number): Promise<PhaseResult> {
    return this.phase(seconds, (stop) => {
      this.pump = () => {
        while (this.inFlight < window && !stop.stopped) this.publish();
      };
      this.pump();
      return () => {};
    });
  }

  /** Publishes `perSecond` messages per second, spread evenly over the phase. */
  runAtRate(perSecond: number, seconds: number): Promise<PhaseResult> {
    return this.phase(seconds, () => {
      const start = performance.now();
      const first = this.sent;
      const timer = setInterval(() => {
        const due = first + Math.floor(((performance.now() - start) / 1000) * perSecond);
        while (this.sent < due && this.inFlight < PACED_MAX_IN_FLIGHT) this.publish();
      }, PACE_TICK_MS);
      return () => clearInterval(timer);
    });
  }

  /** Waits (bounded) until every published message reached every subscriber. */
  async drain(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0.5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  close(): void {
    closeClients(this.publishers);
    closeClients(this.subscribers);
  }

  private publish(): void {
    const publisher = this.publishers[this.nextPublisher++ % this.publishers.length]!;
    publisher.send(publishFrame(performance.now()));
    this.sent++;
  }

  private async phase(
    seconds: number,
    start: (stop: { stopped: boolean }) => () => void,
  ): Promise<PhaseResult> {
    this.latency = new LatencySamples();
    const stop = { stopped: false };
    const openAtStart = this.open;
    const sentAtStart = this.sent;
    const deliveredAtStart = this.delivered;
    const bytesAtStart = this.wireBytes();
    const cpuAtStart = process.cpuUsage();
    const started = performance.now();
    const finish = start(stop);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    stop.stopped = true;
    finish();
    this.pump = () => {};
    const elapsed = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);
    const delivered = this.delivered - deliveredAtStart;
    const published = this.sent - sentAtStart;
    return {
      seconds: elapsed,
      published,
      delivered,
      deliveriesPerSecond: delivered / elapsed,
      publishesPerSecond: published / elapsed,
      p50Ms: this.latency.quantile(0.5),
      p99Ms: this.latency.quantile(0.99),
      latencySamples: this.latency.count,
      generatorCores: (cpu.user + cpu.system) / 1e6 / elapsed,
      subscribersLost: openAtStart - this.open,
      wireBytesPerDelivery: delivered === 0 ? 0 : (this.wireBytes() - bytesAtStart) / delivered,
    };
  }

  private wireBytes(): number {
    let total = 0;
    for (const ws of this.subscribers) total += wireBytesRead(ws);
    return total;
  }
}
