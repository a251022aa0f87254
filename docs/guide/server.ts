import { createServer } from 'node:http';
import { app } from './scores.ts';

// Any node http.Server works: your own, Fastify's (`fastify.server`), Express's (`createServer(expressApp)`).
const server = createServer(async (req, res) => {
  // POST /matches/42/score?home=2&away=1 pushes a score to everyone watching match 42.
  // (A real app authenticates this request first.)
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = /^\/matches\/([0-9]+)\/score$/.exec(url.pathname)?.[1];
  if (req.method !== 'POST' || !match) return void res.writeHead(404).end();
  const home = Number(url.searchParams.get('home'));
  const away = Number(url.searchParams.get('away'));
  await app.layer.groupSend(`match.${match}`, { type: 'score', home, away });
  res.writeHead(204).end();
});
app.attach(server);
server.listen(Number(process.env.PORT ?? 8000), () => {
  const { port } = server.address() as { port: number };
  console.log(`scores on ws://localhost:${port}/ws/scores/<match>/`);
});
