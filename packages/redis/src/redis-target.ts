/**
 * Where Redis is, as one string every part of this package takes (`url`):
 *
 *   redis://[user:password@]host[:port][/db]      one server (rediss:// for TLS)
 *   redis+cluster://[user:password@]host:port,host:port,…   a Redis Cluster, by any of its nodes
 *   redis+sentinel://[user:password@]host:port,host:port,…/<master name>[/db]   Sentinel
 *
 * One string, so that configuration (REDIS_URL) and every constructor stay as they were.
 */
export type RedisTarget =
  | { kind: 'server'; url: string }
  | { kind: 'cluster'; nodes: HostPort[]; username?: string; password?: string; tls: boolean }
  | {
      kind: 'sentinel';
      sentinels: HostPort[];
      name: string;
      db: number;
      username?: string;
      password?: string;
      tls: boolean;
    };

export interface HostPort {
  host: string;
  port: number;
}

const MULTI_HOST = /^(rediss?)\+(cluster|sentinel):\/\/(?:([^@/]*)@)?([^/]+)(?:\/(.*))?$/;

export function parseRedisTarget(url: string): RedisTarget {
  const multi = MULTI_HOST.exec(url);
  if (!multi) {
    if (!/^rediss?:\/\//.test(url)) throw new TypeError(`not a Redis URL: ${redact(url)}`);
    return { kind: 'server', url };
  }
  const [, scheme, kind, auth, hosts, path = ''] = multi;
  const tls = scheme === 'rediss';
  const credentials = parseAuth(auth);
  const nodes = hosts!.split(',').map(parseHostPort);
  if (kind === 'cluster') return { kind: 'cluster', nodes, tls, ...credentials };
  const [name, db = '0'] = path.split('/');
  if (!name) throw new TypeError(`a redis+sentinel:// URL names its master: …/<name>: ${redact(url)}`);
  if (!/^\d+$/.test(db)) throw new TypeError(`not a database number: ${db}`);
  return {
    kind: 'sentinel',
    sentinels: nodes,
    name: decodeURIComponent(name),
    db: Number(db),
    tls,
    ...credentials,
  };
}

function parseHostPort(text: string): HostPort {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : 0;
  if (!match || port < 1 || port > 65535) throw new TypeError(`not host:port: ${text}`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

function parseAuth(auth: string | undefined): { username?: string; password?: string } {
  if (!auth) return {};
  const colon = auth.indexOf(':');
  const username = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon));
  const password = colon < 0 ? undefined : decodeURIComponent(auth.slice(colon + 1));
  return { ...(username ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}

/** A URL fit for an error message: no password. */
export function redact(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
