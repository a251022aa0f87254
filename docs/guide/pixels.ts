/** A consumer of a small binary protocol: 7-byte pixels, stored, then broadcast to the canvas. */
import { binaryLayerMessage, defineConsumer, WsError } from '@switchboard/server';

/** Where pixels are kept; the example only needs it to exist. */
async function savePixel(_canvas: string, _bytes: Uint8Array): Promise<void> {}

export const pixels = defineConsumer({
  messages: {}, // no JSON frames
  handlers: {},
  async connect(conn) {
    await conn.groupAdd(`canvas.${conn.params.canvas}`);
    return { canvas: conn.params.canvas!, channel: conn.channelName };
  },
  binary: {
    rate: { limit: 600, windowSeconds: 60 },
    async handle(conn, bytes) {
      if (bytes.length !== 7) throw new WsError('INVALID_MESSAGE', 'A pixel is 7 bytes.');
      await savePixel(conn.state.canvas, bytes); // durable first, then the broadcast
      await conn.layer.groupSend(
        `canvas.${conn.state.canvas}`,
        binaryLayerMessage('pixel', bytes, { from: conn.state.channel }),
      );
    },
    // Clients of a binary protocol may not read JSON error frames: say how a refusal looks in it
    // (or return undefined to send nothing; the close code of a refused connect still says why).
    refusal: (error) => new TextEncoder().encode(`E${error.code}`),
  },
  // Relayed as one binary frame of the message's bytes: decoded and framed once per node.
  forwardBinary: { pixel: (conn, event) => event.from !== conn.state.channel },
});
