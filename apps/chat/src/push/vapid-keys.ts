/**
 * The VAPID key pair that identifies this server to the browsers' push services. From the
 * environment when set (every node of a deployment must use the same pair: subscriptions are
 * bound to it), otherwise generated once and kept in the data directory.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../data-dir.ts';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

const KEYS_FILE = 'vapid-keys.json';

/** Returns the keys and whether they were generated here (worth a warning in a cluster). */
export function loadVapidKeys(
  dataDir: string,
  configured: VapidKeys | undefined,
): { keys: VapidKeys; generated: boolean } {
  if (configured)
    return { keys: checked(configured, 'VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY'), generated: false };
  const file = join(dataDir, KEYS_FILE);
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file}: ${String(error)}`);
    const keys = webpush.generateVAPIDKeys();
    makePrivateDir(dataDir);
    writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: PRIVATE_FILE_MODE });
    return { keys, generated: true };
  }
  const { publicKey, privateKey } = (saved ?? {}) as Partial<VapidKeys>;
  if (typeof publicKey !== 'string' || typeof privateKey !== 'string') {
    throw new Error(`${file}: expected {"publicKey", "privateKey"}; delete it to generate a new pair`);
  }
  return { keys: checked({ publicKey, privateKey }, file), generated: true };
}

/** A P-256 public key is 65 bytes uncompressed, its private key 32. */
function checked(keys: VapidKeys, source: string): VapidKeys {
  const publicBytes = Buffer.from(keys.publicKey, 'base64url').length;
  const privateBytes = Buffer.from(keys.privateKey, 'base64url').length;
  if (publicBytes !== 65 || privateBytes !== 32) {
    throw new Error(`${source}: not a P-256 VAPID key pair (expected 65 and 32 bytes, base64url)`);
  }
  return keys;
}
