/** Access tokens for bench users, signed the way `jwtAuthenticator` verifies them (HS256, exp). */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';

/** A fresh secret per run: bench tokens are worthless anywhere else. */
export function benchSecret(): string {
  return randomBytes(32).toString('base64url');
}

export async function signTokens(secret: string, count: number, firstUserId = 1): Promise<string[]> {
  const key = new TextEncoder().encode(secret);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    tokens.push(
      await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(String(firstUserId + i))
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(key),
    );
  }
  return tokens;
}
