/**
 * @switchboard/client — the Switchboard SDK for browsers and Node.
 *
 * - ChatRoomConnection: one chat room, with resume (`after_seq`), de-duplication and helpers.
 * - SwitchboardConnection: any endpoint (`/ws/notifications/`, `/ws/status/`), typed by its frames.
 * - SwitchboardApi: the REST side (accounts, tokens, rooms, history).
 */

export { changeSeq } from '@switchboard/protocol/room-change';
export { type BackoffOptions, backoffDelay, defaultBackoff } from './backoff.ts';
export { ChatRoomConnection, type ChatRoomOptions, type QueuedChatMessage } from './chat-room.ts';
export {
  type ConnectionOptions,
  SwitchboardConnection,
  type WebSocketConstructor,
  type WebSocketLike,
} from './connection.ts';
export type { ConnectionState, ConnectionStatus } from './connection-state.ts';
export { endpointUrl } from './endpoint-url.ts';
export {
  AckTimeoutError,
  ConnectionClosedError,
  OutcomeUnknownError,
  QueueFullError,
  ServerError,
  SwitchboardError,
} from './errors.ts';
export type {
  AckFrame,
  Attachment,
  ChatClientFrame,
  ChatMessage,
  ChatServerFrame,
  ErrorFrame,
  MessageAck,
  NotificationClientFrame,
  NotificationServerFrame,
  Outgoing,
  StatusClientFrame,
  StatusServerFrame,
} from './frames.ts';
export { randomId } from './ids.ts';
export type { QueuedFrame } from './outbox.ts';
export {
  defaultOutboxStorage,
  type KeyValueStore,
  memoryOutboxStorage,
  type OutboxStorage,
  webOutboxStorage,
} from './outbox-storage.ts';
export {
  ApiError,
  type ApiOptions,
  type HistoryPage,
  type Me,
  type RoomSummary,
  type Session,
  SwitchboardApi,
} from './rest.ts';
