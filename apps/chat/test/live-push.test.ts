/**
 * Web Push against a local HTTPS server that plays the push service (self-signed certificate,
 * trusted through PUSH_CA_FILE): subscriptions over REST, delivery only to users with no socket
 * open, what arrives (VAPID JWT, TTL, aes128gcm payload, decrypted as a browser would), and the
 * removal of a subscription the push service calls gone (410).
 */

import { execFileSync } from 'node:child_process';
import { createDecipheriv, createECDH, type ECDH, hkdfSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PUSH_SUBSCRIPTIONS } from '../src/http/push-routes.ts';
import { type LiveFixture, startLive } from './live-support.ts';
import type { ChatUser } from './support/chat-api.ts';

const SERVICE_TOKEN = 'push-service-token-'.padEnd(40, 'p');

interface Delivered {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A browser's side of a subscription: its key pair and auth secret. */
interface BrowserKeys {
  ecdh: ECDH;
  auth: Buffer;
}

describe('Web Push', () => {
  let certDir: string;
  let pushService: Server;
  let origin: string;
  const delivered: Delivered[] = [];
  let live: LiveFixture;

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'switchboard-push-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(certDir, 'key.pem'),
        '-out',
        join(certDir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    pushService = createServer(
      { key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) },
      (request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          delivered.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) });
          // What real push services answer: 201 Created, 410 Gone for a dead subscription.
          const status = request.url?.startsWith('/push/gone')
            ? 410
            : request.url?.startsWith('/push/broken')
              ? 500
              : 201;
          response.writeHead(status).end();
        });
      },
    );
    await new Promise<void>((resolve) => pushService.listen(0, '127.0.0.1', resolve));
    origin = `https://127.0.0.1:${(pushService.address() as AddressInfo).port}`;
    live = await startLive({
      SERVICE_TOKEN,
      PUSH_ALLOWED_HOSTS: '127.0.0.1',
      PUSH_CA_FILE: join(certDir, 'cert.pem'),
      PUSH_TTL_SECONDS: '120',
    });
  });

  afterAll(async () => {
    await live?.close();
    await new Promise((resolve) => pushService?.close(resolve));
    rmSync(certDir, { recursive: true, force: true });
  });

  function browserKeys(): BrowserKeys {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    return { ecdh, auth: randomBytes(16) };
  }

  const subscriptionBody = (endpoint: string, keys: BrowserKeys) => ({
    endpoint,
    expirationTime: null,
    keys: { p256dh: keys.ecdh.getPublicKey().toString('base64url'), auth: keys.auth.toString('base64url') },
  });

  async function subscribe(user: ChatUser, path: string): Promise<{ endpoint: string; keys: BrowserKeys }> {
    const keys = browserKeys();
    const endpoint = `${origin}${path}`;
    const answer = await live.call('POST', '/api/push/subscriptions/', {
      token: user.access,
      body: subscriptionBody(endpoint, keys),
    });
    expect(answer).toMatchObject({ status: 201, body: { endpoint } });
    return { endpoint, keys };
  }

  async function notify(user: ChatUser, title: string) {
    const sent = await live.call('POST', '/api/notifications/', {
      token: SERVICE_TOKEN,
      body: { user_id: user.id, title, message: 'body text', url: '/#/rooms/ops' },
    });
    expect(sent.status).toBe(201);
    await live.server.services.push.idle();
    return sent.body.notification as { id: number };
  }

  const mySubscriptions = async (user: ChatUser) =>
    (await live.call('GET', '/api/push/subscriptions/', { token: user.access })).body.subscriptions.map(
      (s: { endpoint: string }) => s.endpoint,
    );

  it('keeps at most MAX_PUSH_SUBSCRIPTIONS per user, dropping the oldest', async () => {
    const user = await live.signUp('many');
    const endpoints: string[] = [];
    for (let i = 0; i <= MAX_PUSH_SUBSCRIPTIONS; i++)
      endpoints.push((await subscribe(user, `/push/many-${i}`)).endpoint);
    expect(await mySubscriptions(user)).toEqual(endpoints.slice(1));
  });

  it('publishes the VAPID public key', async () => {
    const answer = await live.call('GET', '/api/push/vapid-public-key');
    expect(answer.status).toBe(200);
    expect(Buffer.from(answer.body.public_key, 'base64url')).toHaveLength(65);
  });

  it('accepts only well-formed subscriptions to allowed push services', async () => {
    const alice = await live.signUp();
    const keys = browserKeys();
    const post = (body: unknown, token: string | null = alice.access) =>
      live.call('POST', '/api/push/subscriptions/', { ...(token && { token }), body });
    expect(await post(subscriptionBody('https://evil.example/collect', keys))).toMatchObject({
      status: 400,
      body: { code: 'INVALID_MESSAGE', field: 'endpoint' },
    });
    expect(await post(subscriptionBody(`http://127.0.0.1:1/push`, keys))).toMatchObject({ status: 400 });
    expect(
      await post({ ...subscriptionBody(`${origin}/push/x`, keys), keys: { p256dh: 'short', auth: 'x' } }),
    ).toMatchObject({ status: 400, body: { field: 'keys.p256dh' } });
    expect((await post(subscriptionBody(`${origin}/push/x`, keys), null)).status).toBe(401);
  });

  it('pushes a notification to a user with no socket open: VAPID, TTL and an encrypted payload', async () => {
    const alice = await live.signUp();
    const { keys } = await subscribe(alice, '/push/ok-alice');
    const notification = await notify(alice, 'Deploy finished');

    const push = delivered.find((d) => d.path === '/push/ok-alice');
    expect(push).toBeDefined();
    expect(push!.headers.ttl).toBe('120');
    expect(push!.headers['content-encoding']).toBe('aes128gcm');
    const vapid = /^vapid t=([^,]+), k=(\S+)$/.exec(String(push!.headers.authorization));
    expect(vapid).not.toBeNull();
    const publicKey = (await live.call('GET', '/api/push/vapid-public-key')).body.public_key as string;
    expect(vapid![2]).toBe(publicKey);
    const point = Buffer.from(publicKey, 'base64url');
    const key = await importJWK(
      {
        kty: 'EC',
        crv: 'P-256',
        x: point.subarray(1, 33).toString('base64url'),
        y: point.subarray(33).toString('base64url'),
      },
      'ES256',
    );
    const { payload } = await jwtVerify(vapid![1]!, key, { audience: origin });
    expect(payload.sub).toMatch(/^mailto:/);

    expect(JSON.parse(decrypt(push!.body, keys))).toEqual({
      id: notification.id,
      title: 'Deploy finished',
      body: 'body text',
      category: 'system',
      url: '/#/rooms/ops',
    });
  });

  it('does not push to a user who has a socket open', async () => {
    const bob = await live.signUp();
    await subscribe(bob, '/push/ok-bob');
    const { client } = await live.notifications(bob);
    await notify(bob, 'You are here');
    expect((await client.next('notification')).notification).toMatchObject({ title: 'You are here' });
    expect(delivered.filter((d) => d.path === '/push/ok-bob')).toEqual([]);
  });

  it('deletes a subscription the push service calls gone, and keeps one that merely failed', async () => {
    const carol = await live.signUp();
    const gone = await subscribe(carol, '/push/gone-carol');
    const broken = await subscribe(carol, '/push/broken-carol');
    const { expired } = live.server.services.push.stats;
    await notify(carol, 'Anyone there?');
    expect(delivered.some((d) => d.path === '/push/gone-carol')).toBe(true);
    expect(live.server.services.push.stats.expired).toBe(expired + 1);
    expect(await mySubscriptions(carol)).toEqual([broken.endpoint]);
    expect(await mySubscriptions(carol)).not.toContain(gone.endpoint);
  });

  it('lets a user remove only their own subscription', async () => {
    const [dave, erin] = [await live.signUp(), await live.signUp()];
    const { endpoint } = await subscribe(dave, '/push/ok-dave');
    const remove = (user: ChatUser) =>
      live.call('DELETE', '/api/push/subscriptions/', { token: user.access, body: { endpoint } });
    expect(await remove(erin)).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect((await remove(dave)).status).toBe(204);
    expect(await mySubscriptions(dave)).toEqual([]);
  });
});

/** RFC 8291 decryption (aes128gcm, one record), as the browser does it with its private key. */
function decrypt(body: Buffer, { ecdh, auth }: BrowserKeys): string {
  const salt = body.subarray(0, 16);
  const keyLength = body[20]!;
  const serverKey = body.subarray(21, 21 + keyLength);
  const record = body.subarray(21 + keyLength);
  const secret = ecdh.computeSecret(serverKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), serverKey]);
  const ikm = Buffer.from(hkdfSync('sha256', secret, auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(-16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, -16)), decipher.final()]);
  let end = padded.length - 1;
  while (end > 0 && padded[end] === 0) end--;
  expect(padded[end]).toBe(2); // the last record's delimiter
  return padded.subarray(0, end).toString();
}
