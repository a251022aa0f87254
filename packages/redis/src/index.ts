export type { LinkState } from './link-health.ts';
export type { Logger } from './logger.ts';
export {
  MemoryPresenceStore,
  type PresenceStore,
  RedisPresenceStore,
  type RedisPresenceStoreOptions,
} from './presence-store.ts';
export { RedisRateLimiter, type RedisRateLimiterOptions } from './rate-limiter.ts';
export { RedisChannelLayer, type RedisLayerOptions, type RedisLayerStats } from './redis-layer.ts';
