/**
 * An AsyncAPI 3.0 document generated from the routes and the consumers' zod schemas, so the
 * documentation cannot drift from what the server validates: the schemas that check frames are
 * the ones the document describes.
 */
import { ackFrame, errorFrame } from '@switchboard/protocol/envelope';
import { z } from 'zod';
import type { Switchboard } from './app/switchboard.ts';
import { FRAMEWORK_FRAMES } from './connection/frame-decoder.ts';
import type { MessageSchemas } from './consumer/consumer.ts';

export interface AsyncApiInfo {
  title: string;
  version: string;
  description?: string;
  /** e.g. `{ local: { host: 'localhost:8000', protocol: 'ws' } }` */
  servers?: Record<string, { host: string; protocol: 'ws' | 'wss'; description?: string }>;
}

type Json = Record<string, unknown>;

/** `/ws/chat/:room/` → `chat`; `/ws/notifications/` → `notifications`. */
function channelId(pattern: string): string {
  const words = pattern.split('/').filter((part) => part && !part.startsWith(':') && part !== 'ws');
  return words.join('.') || 'root';
}

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  delete json.$schema;
  return json;
}

export function asyncApiDocument(app: Switchboard, info: AsyncApiInfo): Json {
  const channels: Json = {};
  const operations: Json = {};
  const messages: Json = {};
  const codes = app.errorCodes as [string, ...string[]];
  const envelope: MessageSchemas = { ack: ackFrame, error: errorFrame.extend({ code: z.enum(codes) }) };

  for (const { pattern, consumer } of app.routes()) {
    const id = channelId(pattern);
    const params = pattern.split('/').filter((part) => part.startsWith(':'));
    const channelMessages: Json = {};
    const add = (direction: 'receive' | 'send', schemas: MessageSchemas) => {
      for (const [type, schema] of Object.entries(schemas)) {
        const key = `${id}.${direction === 'receive' ? 'client' : 'server'}.${type}`;
        messages[key] = {
          name: type,
          title: `${type} (${direction === 'receive' ? 'client → server' : 'server → client'})`,
          contentType: 'application/json',
          payload: schemaOf(schema, direction === 'receive' ? 'input' : 'output'),
        };
        channelMessages[key] = { $ref: `#/components/messages/${key}` };
        operations[`${id}.${direction}.${type}`] = {
          action: direction,
          channel: { $ref: `#/channels/${id}` },
          messages: [{ $ref: `#/channels/${id}/messages/${key}` }],
        };
      }
    };
    add('receive', { ...consumer.messages, ...FRAMEWORK_FRAMES });
    add('send', { ...(consumer.sends ?? {}), ...envelope });
    channels[id] = {
      address: pattern.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
      ...(consumer.description ? { description: consumer.description } : {}),
      ...(params.length
        ? {
            parameters: Object.fromEntries(
              params.map((p) => [p.slice(1), { description: `path segment ${p}` }]),
            ),
          }
        : {}),
      messages: channelMessages,
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: info.title,
      version: info.version,
      ...(info.description ? { description: info.description } : {}),
    },
    ...(info.servers ? { servers: info.servers } : {}),
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { messages },
  };
}
