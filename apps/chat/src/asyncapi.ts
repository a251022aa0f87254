import { asyncApiDocument, type Switchboard } from '@switchboard/server';

/** The chat server's AsyncAPI document: served at /asyncapi.json and kept in docs/asyncapi.json. */
export function chatAsyncApi(switchboard: Switchboard): Record<string, unknown> {
  return asyncApiDocument(switchboard, {
    title: 'Switchboard chat',
    version: '1.0.0',
    description:
      'WebSocket endpoints of the Switchboard chat server. JSON text frames; every frame has `type`; a client frame with `ref` gets exactly one `ack` or `error` with that `ref`. See docs/protocol.md.',
    servers: { local: { host: 'localhost:8000', protocol: 'ws', description: 'npm start' } },
  });
}
