/**
 * A node in its own process, for the test that SIGKILLs one: registers one connection, prints
 * "registered", then heartbeats until it is killed.
 * Arguments: redis url, key prefix, user id, connection id, ttl seconds.
 */
import { RedisPresenceStore } from '../../src/presence-store.ts';

const [url = '', prefix = '', userId = '', connectionId = '', ttlSeconds = ''] = process.argv.slice(2);
const store = new RedisPresenceStore({ url, prefix, ttlSeconds: Number(ttlSeconds) });
await store.ready();
await store.connect(Number(userId), connectionId);
process.stdout.write('registered\n');
