/**
 * Live scores: viewers subscribe over WebSocket, and an ordinary REST endpoint pushes each new
 * score to everyone watching that match with one `groupSend` — the endpoint never touches a socket.
 */
import { defineConsumer, Switchboard } from '@switchboard/server';
import Fastify from 'fastify';
import { z } from 'zod';

const score = z.strictObject({ home: z.number().int().min(0), away: z.number().int().min(0) });
type Score = z.infer<typeof score>;

/** The latest score per match, so that a viewer who arrives mid-match starts with it. */
const latest = new Map<string, Score>();

const viewer = defineConsumer({
  description: 'Scores of one match, as they change. Viewers only listen.',
  messages: {},
  sends: { score: score.extend({ type: z.literal('score') }) },
  async connect(conn) {
    const match = conn.params.match!;
    await conn.groupAdd(`match.${match}`);
    conn.send({ type: 'score', ...(latest.get(match) ?? { home: 0, away: 0 }) });
    return {};
  },
  handlers: {},
  forward: { score: true },
});

const app = new Switchboard(); // anonymous viewers, in-memory layer (RedisChannelLayer for several nodes)
app.route('/ws/matches/:match/', viewer);

const http = Fastify();
http.post<{ Params: { match: string } }>('/matches/:match/score', async (request, reply) => {
  const parsed = score.safeParse(request.body);
  if (!parsed.success) return reply.code(400).send({ error: parsed.error.issues[0]?.message });
  latest.set(request.params.match, parsed.data);
  await app.layer.groupSend(`match.${request.params.match}`, { type: 'score', ...parsed.data });
  return reply.code(204).send();
});
http.addHook('onClose', () => app.close());

app.attach(http.server);
const url = await http.listen({ port: Number(process.env.PORT ?? 8001), host: '127.0.0.1' });
console.log(`live scores listening on ${url}`);
process.once('SIGTERM', () => void http.close());
process.once('SIGINT', () => void http.close());
