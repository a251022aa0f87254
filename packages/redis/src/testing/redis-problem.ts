import { Redis } from 'ioredis';

/** Why the Redis at `url` does not answer a PING, or undefined when it does. */
export async function redisProblem(url: string): Promise<string | undefined> {
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, connectTimeout: 2000 });
  // The connect() rejection only says "Connection is closed"; the error event says why.
  let cause: Error | undefined;
  probe.on('error', (error: Error) => {
    cause = error;
  });
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (error) {
    return (cause ?? (error as Error)).message;
  } finally {
    probe.disconnect();
  }
}
