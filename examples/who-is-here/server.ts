/**
 * Who is here: a presence-only endpoint. Every socket in a room hears the full list of names
 * whenever someone arrives or the last socket of a name leaves. No messages, no storage.
 */
import { createServer } from 'node:http';
import { defineConsumer, Switchboard, WsError } from '@switchboard/server';
import { z } from 'zod';

const name = z.string().trim().min(1).max(32);

/**
 * Open sockets per name per room. One process owns the whole truth here; across several nodes
 * this count would live in Redis (see RedisPresenceStore in @switchboard/redis).
 */
const rooms = new Map<string, Map<string, number>>();

function announce(conn: { layer: Switchboard['layer'] }, room: string) {
  const here = [...(rooms.get(room)?.keys() ?? [])].sort();
  return conn.layer.groupSend(`room.${room}`, { type: 'presence', room, here });
}

const presence = defineConsumer({
  description: 'Who is in a room, pushed on every change.',
  messages: {},
  sends: { presence: z.object({ type: z.literal('presence'), room: z.string(), here: z.array(z.string()) }) },
  async connect(conn) {
    const parsed = name.safeParse(conn.query.get('name'));
    if (!parsed.success) {
      // 4400: a bad connection parameter, which the client SDK does not retry (the same URL cannot work).
      throw new WsError('INVALID_MESSAGE', 'Say who you are: ?name=…', { field: 'name', closeCode: 4400 });
    }
    const room = conn.params.room!;
    const members = rooms.get(room) ?? new Map<string, number>();
    rooms.set(room, members);
    members.set(parsed.data, (members.get(parsed.data) ?? 0) + 1);
    await conn.groupAdd(`room.${room}`);
    await announce(conn, room);
    return { room, name: parsed.data };
  },
  handlers: {},
  forward: { presence: true },
  async disconnect(conn) {
    const members = rooms.get(conn.state.room);
    const left = (members?.get(conn.state.name) ?? 1) - 1;
    if (left > 0) return void members?.set(conn.state.name, left); // another tab of theirs is still here
    members?.delete(conn.state.name);
    if (members?.size === 0) rooms.delete(conn.state.room);
    await announce(conn, conn.state.room);
  },
});

const app = new Switchboard();
app.route('/ws/rooms/:room/', presence);
const server = createServer((_req, res) => res.writeHead(404).end());
app.attach(server);
server.listen(Number(process.env.PORT ?? 8002), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(`who-is-here listening on http://127.0.0.1:${port}`);
});
const stop = () => void app.close().then(() => server.close());
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
