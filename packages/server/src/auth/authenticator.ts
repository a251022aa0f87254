import type { IncomingMessage } from 'node:http';

/**
 * Who is on the other end of a connection. Applications widen it by declaration merging, as
 * Fastify does for its request type:
 *
 *   declare module '@switchboard/server' { interface Principal { username: string } }
 */
export interface Principal {
  id: string | number;
}

export interface UpgradeRequest {
  readonly request: IncomingMessage;
  readonly url: URL;
}

/**
 * Decides who opens a connection, before any consumer runs. Returns the principal, or throws a
 * WsError (AUTHENTICATION_FAILED) to refuse; `null` allows an anonymous connection only where the
 * route says so.
 */
export type Authenticator = (upgrade: UpgradeRequest) => Promise<Principal | null>;

/** Where a token came from matters: a cookie is sent by the browser on its own, so it needs an Origin check. */
export interface FoundToken {
  token: string;
  source: 'query' | 'header' | 'subprotocol' | 'cookie';
}

/** The subprotocol pair `bearer, <token>` lets browsers, which cannot set headers, keep tokens out of URLs. */
export const BEARER_SUBPROTOCOL = 'bearer';

const BEARER_HEADER = /^bearer +([^ ]+) *$/i;

export function findToken(upgrade: UpgradeRequest, cookieName?: string): FoundToken | null {
  const fromQuery = upgrade.url.searchParams.get('token');
  if (fromQuery) return { token: fromQuery, source: 'query' };

  // The scheme is case-insensitive (RFC 9110 §11.1), as on the REST side.
  const bearer = BEARER_HEADER.exec(upgrade.request.headers.authorization ?? '');
  if (bearer) return { token: bearer[1]!, source: 'header' };

  const protocols = upgrade.request.headers['sec-websocket-protocol'];
  if (protocols) {
    const offered = protocols.split(',').map((p) => p.trim());
    const at = offered.indexOf(BEARER_SUBPROTOCOL);
    const token = at >= 0 ? offered[at + 1] : undefined;
    if (token) return { token, source: 'subprotocol' };
  }

  if (cookieName) {
    const token = readCookie(upgrade.request.headers.cookie, cookieName);
    if (token) return { token, source: 'cookie' };
  }
  return null;
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeCookieValue(part.slice(eq + 1).trim());
  }
  return null;
}

/** A malformed escape (`%E0%A4%A`) is the peer's mistake: such a cookie names no token. */
function decodeCookieValue(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}
