/**
 * Revocation across nodes: two chat servers sharing only Redis and PostgreSQL. An admin disables
 * a user through node A; the user's socket on node B closes at once, and node B refuses the
 * user's access token right away — although it had just cached the user's standing when the
 * socket connected, the announcement through the Redis layer drops that cache entry.
 *
 * Needs Redis at 127.0.0.1:6379 and PostgreSQL at 127.0.0.1:5432; skipped with the reason printed
 * when they are missing, unless CI=true.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatUser } from './support/chat-api.ts';
import { ChatFixture } from './support/chat-fixture.ts';
import { type FreshDatabase, freshDatabase, REDIS_URL, servicesAvailable } from './support/services.ts';

const available = await servicesAvailable('the revocation cluster suite', ['postgres', 'redis']);
const ADMIN = `root_${randomBytes(3).toString('hex')}`;
const PASSWORD = 'correct horse battery staple';

describe.skipIf(!available)('revocation across two nodes', () => {
  let database: FreshDatabase;
  let nodeA: ChatFixture;
  let nodeB: ChatFixture;
  let adminToken: string;

  beforeAll(async () => {
    database = await freshDatabase('switchboard_revoke');
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_PREFIX: `sbtest:${randomBytes(4).toString('hex')}:`,
      ADMIN_USERS: ADMIN,
      AUTH_RATE_LIMIT: '1000',
    };
    nodeA = await ChatFixture.start(env);
    nodeB = await ChatFixture.start(env);
    await nodeA.api.call('POST', '/api/register/', { body: { username: ADMIN, password: PASSWORD } });
    const signedIn = await nodeA.api.call('POST', '/api/token/', {
      body: { username: ADMIN, password: PASSWORD },
    });
    adminToken = signedIn.body.access;
  });

  afterAll(async () => {
    await nodeA?.close();
    await nodeB?.close();
    await database?.drop();
  });

  async function revokedOnB(user: ChatUser, slug: string) {
    expect(await nodeB.api.call('GET', '/api/me/', { token: user.access })).toEqual({
      status: 401,
      body: { code: 'AUTHENTICATION_FAILED', error: 'Token revoked.' },
    });
    const again = await nodeB.connect(user, slug);
    expect(await again.next()).toMatchObject({ type: 'error', error: 'Token revoked.' });
    expect((await again.closed()).code).toBe(4401);
  }

  it('disabling a user on node A closes their socket on node B and refuses their token there at once', async () => {
    const [user, friend] = [await nodeA.signUp('victim'), await nodeA.signUp('friend')];
    const slug = await nodeA.room(user, [friend]);
    const onB = await nodeB.enter(user, slug);
    const friendOnB = await nodeB.enter(friend, slug);
    // Node B has just checked (and cached) the user's standing.
    expect((await nodeB.api.call('GET', '/api/me/', { token: user.access })).status).toBe(200);

    const disabled = await nodeA.api.call('POST', `/api/admin/users/${user.username}/disable/`, {
      token: adminToken,
    });
    expect(disabled.status).toBe(200);
    expect(await onB.closed()).toEqual({ code: 4401, reason: 'token revoked' });
    expect(onB.frames.at(-1)).toMatchObject({ type: 'error', code: 'AUTHENTICATION_FAILED' });
    await revokedOnB(user, slug);
    expect(friendOnB.isOpen).toBe(true);
  });

  it('deleting a user on node A closes their socket on node B', async () => {
    const user = await nodeA.signUp('gone');
    const slug = await nodeA.room(user);
    const onB = await nodeB.enter(user, slug);
    const deleted = await nodeA.api.call('DELETE', `/api/admin/users/${user.username}/`, {
      token: adminToken,
    });
    expect(deleted.status).toBe(204);
    expect((await onB.closed()).code).toBe(4401);
    await revokedOnB(user, slug);
  });
});
