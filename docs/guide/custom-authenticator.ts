import { type Authenticator, WsError } from '@switchboard/server';

/** Stand-in for your session store: opaque tokens, each with a user and an end. */
const sessions = {
  store: new Map<string, { userId: string; expiresAt: number }>(),
  async find(token: string | null) {
    const session = token ? this.store.get(token) : undefined;
    return session && session.expiresAt > Date.now() ? session : undefined;
  },
};

export const authenticate: Authenticator = {
  // At upgrade: read the credential from the request; null lets the connection in anonymously.
  async fromUpgrade({ url }) {
    const session = await sessions.find(url.searchParams.get('token'));
    if (!session) throw new WsError('AUTHENTICATION_FAILED', 'Invalid token.');
    return { principal: { id: session.userId }, expiresAt: session.expiresAt };
  },
  // In band: the token of an `auth` frame.
  async fromToken(token) {
    const session = await sessions.find(token);
    if (!session) throw new WsError('AUTHENTICATION_FAILED', 'Invalid token.');
    return { principal: { id: session.userId }, expiresAt: session.expiresAt };
  },
};

export { sessions };
