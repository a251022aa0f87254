import { ErrorCode } from '@switchboard/protocol/envelope';
import { type JWTPayload, jwtVerify } from 'jose';
import { WsError } from '../errors.ts';
import {
  type Authenticator,
  type Credential,
  findToken,
  type Principal,
  type UpgradeRequest,
} from './authenticator.ts';

export interface JwtAuthenticatorOptions {
  /** HMAC secret (HS256/384/512) or a public key for asymmetric algorithms. */
  key: Uint8Array | CryptoKey;
  /** Pinned: a token signed with any other algorithm (or `none`) is refused. */
  algorithms?: string[];
  issuer?: string;
  audience?: string;
  /**
   * Maps verified claims to a principal; throw a WsError or return null to refuse (a refresh token,
   * a revoked user). Runs at connect and for every in-band `auth` frame.
   */
  principal: (claims: JWTPayload) => Principal | null | Promise<Principal | null>;
  /** Accept tokens from this cookie too; such sockets must come from an allowed Origin. */
  cookieName?: string;
  /** Origins allowed for cookie-authenticated sockets; the request's own host is always allowed. */
  allowedOrigins?: string[];
}

const refuse = (text: string) => new WsError(ErrorCode.AUTHENTICATION_FAILED, text);

export function jwtAuthenticator(options: JwtAuthenticatorOptions): Authenticator {
  const algorithms = options.algorithms ?? ['HS256'];
  const fromToken = async (token: string): Promise<Credential> => {
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, options.key, {
        algorithms,
        ...(options.issuer ? { issuer: options.issuer } : {}),
        ...(options.audience ? { audience: options.audience } : {}),
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      const expired = (error as { code?: string }).code === 'ERR_JWT_EXPIRED';
      throw refuse(expired ? 'Token expired.' : 'Invalid token.');
    }
    const principal = await options.principal(claims);
    if (!principal) throw refuse('Invalid token.');
    // `exp` is required above, so every JWT credential has a lifetime.
    return { principal, expiresAt: (claims.exp as number) * 1000 };
  };
  return {
    async fromUpgrade(upgrade: UpgradeRequest) {
      const found = findToken(upgrade, options.cookieName);
      if (!found) throw refuse('Authentication required: pass a token.');
      if (found.source === 'cookie' && !originAllowed(upgrade, options.allowedOrigins ?? [])) {
        throw refuse('Cookie authentication is not allowed from this origin.');
      }
      return fromToken(found.token);
    },
    fromToken,
  };
}

function originAllowed(upgrade: UpgradeRequest, allowed: string[]): boolean {
  const origin = upgrade.request.headers.origin;
  if (!origin) return false;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === upgrade.request.headers.host;
  } catch {
    return false;
  }
}
