/**
 * GET /metrics in the Prometheus text format. The counters say who is online and how busy each
 * room is, so the route can require a bearer token (METRICS_TOKEN) and can live on its own port
 * (METRICS_PORT), reachable by the scraper and not by the public.
 */
import { timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '@switchboard/protocol';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export function metricsRoute(http: FastifyInstance, registry: Registry, token: string | undefined): void {
  http.get('/metrics', async (request, reply) => {
    if (token && !presents(request.headers.authorization, token)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({
        error: 'Send "Authorization: Bearer <METRICS_TOKEN>".',
        code: ErrorCode.AUTHENTICATION_FAILED,
      });
    }
    reply.type(registry.contentType);
    return registry.metrics();
  });
}

/** Constant-time, so the token cannot be guessed byte by byte from timings. */
function presents(header: string | undefined, token: string): boolean {
  const match = /^Bearer +([^ ]+) *$/i.exec(header ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
