export * from './chat.ts';
export * from './common.ts';
export * from './envelope.ts';
export * from './notifications.ts';
export * from './status.ts';
