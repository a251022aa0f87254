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
 * A verified credential: who it names and, when it has a lifetime, the moment it ends (ms since
 * the epoch). A connection is closed with 4401 at that moment unless the client renewed it in band.
 */
export interface Credential {
  principal: Principal;
  /** Absent: the credential never expires, and the connection keeps no expiry timer. */
  expiresAt?: number;
}

/**
 * Decides who is on a connection, before any consumer runs and again whenever the client renews
 * its token in band (an `auth` frame). Both methods throw a WsError (AUTHENTICATION_FAILED) to refuse.
 */
export interface Authenticator {
  /** The credential an upgrade request carries; `null` lets the connection in anonymously. */
  fromUpgrade(upgrade: UpgradeRequest): Promise<Credential | null>;
  /** The credential of a token sent in an `auth` frame. */
  fromToken(token: string): Promise<Credential>;
}

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
