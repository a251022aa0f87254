/**
 * One fan-out room, ready to load: a server child (bare `ws` or Switchboard), its subscribers and
 * its publishers, all connected. Used by the fan-out and compression cases.
 */
import { BENCH_ROOM } from './chat-frame.ts';
import { openClients } from './clients.ts';
import { FanOutLoad } from './fan-out-load.ts';
import { ServerProcess } from './server-process.ts';
import { benchSecret, signTokens } from './tokens.ts';

export type FanOutServer = 'bare-ws' | 'switchboard';

export interface FanOutRoomOptions {
  subscribers: number;
  publishers: number;
  /** permessage-deflate threshold; absent = off on both sides. */
  compressionThreshold?: number;
}

export interface FanOutRoom {
  server: ServerProcess;
  load: FanOutLoad;
  close(): Promise<void>;
}

export async function openFanOutRoom(kind: FanOutServer, options: FanOutRoomOptions): Promise<FanOutRoom> {
  const compression = options.compressionThreshold !== undefined;
  const jwtSecret = benchSecret();
  const server =
    kind === 'bare-ws'
      ? await ServerProcess.start('bare-ws', { compressionThreshold: options.compressionThreshold })
      : await ServerProcess.start('switchboard-room', {
          jwtSecret,
          compressionThreshold: options.compressionThreshold,
        });
  try {
    const base = `ws://127.0.0.1:${server.port}`;
    let urlOf: (index: number, listen: boolean) => string;
    if (kind === 'bare-ws') {
      urlOf = (_index, listen) => `${base}/${listen ? '' : '?listen=0'}`;
    } else {
      // One user per connection: publishers after the subscribers.
      const tokens = await signTokens(jwtSecret, options.subscribers + options.publishers);
      urlOf = (index, listen) => {
        const token = tokens[listen ? index : options.subscribers + index]!;
        return `${base}/ws/room/${BENCH_ROOM}/?token=${token}${listen ? '' : '&listen=0'}`;
      };
    }
    const subscribers = await openClients(options.subscribers, (i) => urlOf(i, true), { compression });
    const publishers = await openClients(options.publishers, (i) => urlOf(i, false), { compression });
    const load = new FanOutLoad(subscribers, publishers);
    return {
      server,
      load,
      close: async () => {
        load.close();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}
