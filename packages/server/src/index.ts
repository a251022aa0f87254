export { DEFAULT_LIMITS, type Limits, Switchboard, type SwitchboardOptions } from './app/switchboard.ts';
export { type AsyncApiInfo, asyncApiDocument } from './asyncapi.ts';
export {
  type Authenticator,
  BEARER_SUBPROTOCOL,
  type Credential,
  type FoundToken,
  findToken,
  type Principal,
  type UpgradeRequest,
} from './auth/authenticator.ts';
export { type JwtAuthenticatorOptions, jwtAuthenticator } from './auth/jwt-authenticator.ts';
export { SLOW_CONSUMER_REASON } from './connection/live-connection.ts';
export { illFormedTextPath } from './connection/well-formed-text.ts';
export {
  type AckFields,
  type BinaryHandler,
  type Connection,
  type ConnectionContext,
  type ConsumerSpec,
  defineConsumer,
  type MessageSchemas,
  type RateRule,
} from './consumer/consumer.ts';
export {
  type ApplicationErrorCodes,
  type ErrorCode,
  FRAMEWORK_ERRORS,
  FrameworkErrorCode,
  WsError,
} from './errors.ts';
export {
  assertValidName,
  type BinaryLayerMessage,
  binaryLayerMessage,
  type ChannelLayer,
  DEFAULT_LAYER_OPTIONS,
  type LayerMessage,
  type LayerOptions,
  type LayerStats,
  layerMessageBytes,
  type Receiver,
} from './layer/channel-layer.ts';
export { LocalChannels } from './layer/local-channels.ts';
export { MemoryChannelLayer } from './layer/memory-layer.ts';
export { MemoryRateLimiter, type RateDecision, type RateLimiter } from './limits/rate-limiter.ts';
export { SwitchboardMetrics } from './metrics.ts';
export { type RouteParams, Router } from './routing/router.ts';
