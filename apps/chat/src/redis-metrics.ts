/**
 * Prometheus gauges for a node's link to Redis, so an outage shows on a dashboard and not only in
 * the log: whether the layer is connected, how often it came back, and what it could not publish.
 */
import type { RedisChannelLayer } from '@switchboard/redis';
import { Gauge, type Registry } from 'prom-client';

export function registerRedisMetrics(registry: Registry, layer: RedisChannelLayer): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge(
    'channel_layer_redis_connected',
    '1 while the channel layer is connected to Redis with every subscription in place, else 0',
    () => (layer.connected ? 1 : 0),
  );
  gauge(
    'channel_layer_redis_reconnects',
    'Times the channel layer came back after losing Redis',
    () => layer.stats().reconnects,
  );
  gauge(
    'channel_layer_dropped_unpublished',
    'Messages for other nodes that never reached Redis (it was unreachable or refused the PUBLISH)',
    () => layer.stats().droppedUnpublished,
  );
}
