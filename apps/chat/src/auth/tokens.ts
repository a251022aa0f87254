/**
 * Access and refresh tokens: HS256 JWTs signed with the server's secret.
 *
 * Claims: `sub` (the user id as a string), `username`, `typ` ('access' | 'refresh'), `iat`, `exp`.
 * Verification pins HS256, so a token claiming `alg: none` or any other algorithm is refused, and
 * checks `typ`, so a refresh token never opens a socket or an API call and an access token never
 * buys a new access token. The WebSocket side verifies access tokens the same way (`accessClaims`).
 */
import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';

export const TOKEN_ALGORITHM = 'HS256';
const DEFAULT_ACCESS_TTL_SECONDS = 15 * 60;
const DEFAULT_REFRESH_TTL_SECONDS = 7 * 24 * 60 * 60;
/** HS256 is only as strong as its key: at least as many bytes as the hash. */
const MIN_SECRET_BYTES = 32;

export type TokenType = 'access' | 'refresh';

export interface TokenUser {
  userId: number;
  username: string;
  /** The token's `iat` (unix seconds): a revocation refuses tokens issued before it. */
  issuedAt: number;
}

export interface TokenPair {
  access: string;
  refresh: string;
}

export class InvalidTokenError extends Error {
  constructor(
    message: string,
    readonly expired = false,
  ) {
    super(message);
  }
}

export interface TokenServiceOptions {
  accessTtlSeconds?: number;
  refreshTtlSeconds?: number;
}

export class TokenService {
  private readonly accessTtlSeconds: number;
  private readonly refreshTtlSeconds: number;

  constructor(
    private readonly secret: Uint8Array,
    opts: TokenServiceOptions = {},
  ) {
    if (secret.byteLength < MIN_SECRET_BYTES) {
      throw new Error(`The token secret must be at least ${MIN_SECRET_BYTES} bytes.`);
    }
    this.accessTtlSeconds = positiveSeconds(opts.accessTtlSeconds ?? DEFAULT_ACCESS_TTL_SECONDS);
    this.refreshTtlSeconds = positiveSeconds(opts.refreshTtlSeconds ?? DEFAULT_REFRESH_TTL_SECONDS);
  }

  async issue(user: { id: number; username: string }): Promise<TokenPair> {
    const who = { userId: user.id, username: user.username };
    return {
      access: await this.sign(who, 'access', this.accessTtlSeconds),
      refresh: await this.sign(who, 'refresh', this.refreshTtlSeconds),
    };
  }

  /** A new access token for a valid refresh token; InvalidTokenError otherwise. */
  async refresh(refreshToken: string): Promise<string> {
    const who = await this.verify(refreshToken, 'refresh');
    return this.sign(who, 'access', this.accessTtlSeconds);
  }

  async verifyAccess(token: string): Promise<TokenUser> {
    return this.verify(token, 'access');
  }

  /** Verifies a refresh token without issuing anything (e.g. to check its user still exists). */
  async verifyRefresh(token: string): Promise<TokenUser> {
    return this.verify(token, 'refresh');
  }

  private async sign(
    who: Pick<TokenUser, 'userId' | 'username'>,
    typ: TokenType,
    ttlSeconds: number,
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ username: who.username, typ })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'JWT' })
      .setSubject(String(who.userId))
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(this.secret);
  }

  private async verify(token: string, typ: TokenType): Promise<TokenUser> {
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.secret, {
        algorithms: [TOKEN_ALGORITHM],
        requiredClaims: ['sub', 'iat', 'exp'],
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new InvalidTokenError('Token expired.', true);
      throw new InvalidTokenError('Invalid token.');
    }
    const who = tokenClaims(claims, typ);
    if (!who) throw new InvalidTokenError(`Not an ${typ} token.`);
    return who;
  }
}

/**
 * The user an already signature-checked token names, if its claims are those of a `typ` token.
 * For verifiers that run `jwtVerify` themselves (the WebSocket authenticator): pass the claims.
 */
export function tokenClaims(claims: JWTPayload, typ: TokenType = 'access'): TokenUser | null {
  const { typ: claimed, username, sub, iat } = claims;
  if (claimed !== typ || typeof username !== 'string' || typeof sub !== 'string' || typeof iat !== 'number')
    return null;
  if (!/^[1-9][0-9]{0,15}$/.test(sub)) return null;
  return { userId: Number(sub), username, issuedAt: iat };
}

function positiveSeconds(value: number): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new Error('Token lifetimes must be positive whole seconds.');
  return value;
}
