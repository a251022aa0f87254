/**
 * Password hashing with node:crypto scrypt.
 *
 * Parameters: N = 2^15, r = 8, p = 1 (32 MiB and roughly 50-100 ms per hash on one core), a 16-byte
 * random salt per password, a 32-byte key. They are written into every stored hash
 * (`scrypt$N$r$p$salt$key`, base64url), so they can be raised later without breaking old hashes.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

const COST = 2 ** 15;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on what a stored hash may ask for, so a tampered row cannot exhaust memory or CPU. */
const MAX_COST = 2 ** 17;
const MAX_BLOCK_SIZE = 16;
const MAX_PARALLELISM = 4;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, { N: COST, r: BLOCK_SIZE, p: PARALLELISM });
  return [
    'scrypt',
    COST,
    BLOCK_SIZE,
    PARALLELISM,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

/** Constant-time comparison; false (never a throw) for a malformed stored hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  try {
    const key = await derive(password, parsed.salt, parsed.key.length, parsed.options);
    return timingSafeEqual(key, parsed.key);
  } catch {
    return false; // parameters scrypt itself rejects (e.g. N not a power of two)
  }
}

/**
 * Spends the same work as a real check, for sign-ins naming an unknown user, so response time does
 * not tell which usernames exist.
 */
export async function spendPasswordCheck(password: string): Promise<void> {
  await derive(password, DUMMY_SALT, KEY_BYTES, { N: COST, r: BLOCK_SIZE, p: PARALLELISM });
}
const DUMMY_SALT = randomBytes(SALT_BYTES);

function parseHash(stored: string): { options: ScryptOptions; salt: Buffer; key: Buffer } | null {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return null;
  const options = { N: Number(n), r: Number(r), p: Number(p) };
  const inRange = (value: number, max: number) => Number.isInteger(value) && value >= 1 && value <= max;
  if (
    !inRange(options.N, MAX_COST) ||
    !inRange(options.r, MAX_BLOCK_SIZE) ||
    !inRange(options.p, MAX_PARALLELISM)
  ) {
    return null;
  }
  const parsed = { options, salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url') };
  return parsed.key.length >= 16 ? parsed : null;
}

function derive(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; Node's default cap (32 MiB) is exactly at our cost, so lift it.
  const maxmem = 256 * (options.N ?? COST) * (options.r ?? BLOCK_SIZE);
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, { ...options, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}
