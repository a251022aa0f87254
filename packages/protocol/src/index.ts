export * from './chat.ts';
export { ChatErrorCode, ERRORS, ErrorCode } from './codes.ts';
export * from './common.ts';
export * from './envelope.ts';
export * from './notifications.ts';
export * from './room-change.ts';
export * from './status.ts';
