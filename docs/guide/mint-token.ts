import { SignJWT } from 'jose';
import { secret } from './scores.ts';

/** A development token: HS256 with the app's secret, `sub` = the user id, valid for an hour. */
export function mintToken(userId: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setExpirationTime('1h')
    .sign(secret);
}

// `node --import tsx docs/guide/mint-token.ts ada` prints a token for user "ada".
if (import.meta.url === `file://${process.argv[1]}`) console.log(await mintToken(process.argv[2] ?? 'dev'));
