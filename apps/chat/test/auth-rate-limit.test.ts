import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatServer, startChatServer } from '../src/chat-server.ts';
import { loadConfig } from '../src/config.ts';

describe('sign-in and sign-up attempts are bounded per client address', () => {
  let server: ChatServer;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sb-auth-limit-'));
    server = await startChatServer(
      loadConfig({
        DATA_DIR: dataDir,
        PORT: '0',
        LOG_LEVEL: 'silent',
        JWT_SECRET: 'k'.repeat(40),
        AUTH_RATE_LIMIT: '5',
      }),
    );
  });
  afterAll(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = (path: string, body: object) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers 429 RATE_LIMIT_EXCEEDED with Retry-After once the allowance is spent', async () => {
    expect((await post('/api/register/', { username: 'carol', password: 'password123' })).status).toBe(201);
    for (let i = 0; i < 4; i++) {
      expect((await post('/api/token/', { username: 'carol', password: 'wrong-password' })).status).toBe(401);
    }
    const refused = await post('/api/token/', { username: 'carol', password: 'password123' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    // Other routes are not affected.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
