import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Switchboard } from '../src/app/switchboard.ts';
import { asyncApiDocument } from '../src/asyncapi.ts';
import { echoConsumer } from './helpers.ts';

describe('AsyncAPI document', () => {
  it('describes every route, client frame and declared server frame from the zod schemas', async () => {
    const app = new Switchboard({ logger: pino({ level: 'silent' }) });
    app.route('/ws/echo/:room/', {
      ...echoConsumer,
      description: 'Echoes.',
      sends: { echo: z.object({ type: z.literal('echo'), text: z.string(), n: z.number() }) },
    });
    const doc = asyncApiDocument(app, { title: 'Echo', version: '1.0.0' }) as {
      asyncapi: string;
      channels: Record<string, { address: string; parameters: object; messages: Record<string, unknown> }>;
      operations: Record<string, { action: string }>;
      components: {
        messages: Record<string, { payload: { properties: Record<string, unknown>; required: string[] } }>;
      };
    };
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.channels.echo?.address).toBe('/ws/echo/{room}/');
    expect(doc.channels.echo?.parameters).toHaveProperty('room');
    const echoIn = doc.components.messages['echo.client.echo']!;
    expect(echoIn.payload.properties).toHaveProperty('text');
    expect(echoIn.payload.required).toEqual(expect.arrayContaining(['type', 'text']));
    expect(doc.operations['echo.receive.shout']?.action).toBe('receive');
    expect(doc.operations['echo.send.echo']?.action).toBe('send');
    expect(doc.components.messages['echo.server.error']!.payload.properties).toHaveProperty('code');
    expect(doc.components.messages['echo.server.ack']).toBeDefined();
    await app.close();
  });
});
