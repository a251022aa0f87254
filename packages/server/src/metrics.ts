/**
 * Prometheus metrics of one Switchboard instance. Each instance has its own registry, so several
 * servers in one process (tests, benchmarks) never collide; an application can merge it with its own.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ChannelLayer } from './layer/channel-layer.ts';

export class SwitchboardMetrics {
  readonly registry: Registry;
  readonly connectionsTotal: Counter;
  readonly openConnections: Gauge;
  readonly messagesTotal: Counter<'type'>;
  readonly messageLatency: Histogram<'type'>;
  readonly framesSent: Counter;
  readonly refusals: Counter<'code'>;
  readonly closes: Counter<'code'>;
  readonly slowConsumerCloses: Counter;
  readonly rateLimited: Counter;

  constructor(
    layer: ChannelLayer,
    sources: { openConnections: () => number; framesSent: () => number },
    registry = new Registry(),
  ) {
    this.registry = registry;
    const registers = [registry];
    this.connectionsTotal = new Counter({
      name: 'websocket_connections_total',
      help: 'Total WebSocket connections accepted',
      registers,
    });
    this.openConnections = new Gauge({
      name: 'websocket_open_connections',
      help: 'WebSocket connections open now',
      registers,
      collect() {
        this.set(sources.openConnections());
      },
    });
    this.messagesTotal = new Counter({
      name: 'websocket_messages_total',
      help: 'Client frames received, by type ("invalid" for frames that failed validation)',
      labelNames: ['type'],
      registers,
    });
    this.messageLatency = new Histogram({
      name: 'websocket_message_latency_seconds',
      help: 'Time from receiving a client frame to its handler finishing (ack sent)',
      labelNames: ['type'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    // Counted in a plain number on the hot path and published here, on scrape.
    let reported = 0;
    this.framesSent = new Counter({
      name: 'websocket_frames_sent_total',
      help: 'Frames written to clients',
      registers,
      collect() {
        const now = sources.framesSent();
        this.inc(now - reported);
        reported = now;
      },
    });
    this.refusals = new Counter({
      name: 'websocket_error_frames_total',
      help: 'Error frames sent, by error code',
      labelNames: ['code'],
      registers,
    });
    this.closes = new Counter({
      name: 'websocket_closes_total',
      help: 'Connections closed, by close code',
      labelNames: ['code'],
      registers,
    });
    this.slowConsumerCloses = new Counter({
      name: 'websocket_slow_consumer_closes_total',
      help: 'Connections closed with 1013 because their unsent buffer passed the bound',
      registers,
    });
    this.rateLimited = new Counter({
      name: 'websocket_rate_limited_total',
      help: 'Client frames refused with RATE_LIMIT_EXCEEDED',
      registers,
    });
    const layerStat = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    layerStat(
      'channel_layer_dropped_over_capacity',
      'Layer messages dropped: channel mailbox full',
      () => layer.stats().droppedOverCapacity,
    );
    layerStat(
      'channel_layer_dropped_expired',
      'Layer messages dropped: waited past expiry',
      () => layer.stats().droppedExpired,
    );
    layerStat(
      'channel_layer_undeliverable',
      'Layer messages for channels that no longer exist',
      () => layer.stats().undeliverable,
    );
  }
}
