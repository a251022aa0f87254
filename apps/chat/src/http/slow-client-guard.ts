/**
 * Slow-client (slowloris) limits for the HTTP server that carries both REST and the WebSocket
 * upgrades. Node's defaults let a peer drip its request headers for a minute per connection, with
 * as many connections as it likes; here headers must arrive within `headersTimeoutMs`, and one
 * address may hold at most `maxPendingPerAddress` connections whose first request has not yet
 * arrived in full. Connections from trusted proxies are not capped: they carry many clients.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface SlowClientLimits {
  headersTimeoutMs: number;
  /** The whole request, body included; long enough for the largest upload on a slow line. */
  requestTimeoutMs: number;
  maxPendingPerAddress: number;
  /** Addresses exempt from the per-address cap (configured proxies). */
  isTrustedProxy: (address: string) => boolean;
}

export const SLOW_CLIENT_LIMITS: Omit<SlowClientLimits, 'isTrustedProxy'> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  maxPendingPerAddress: 64,
};

/**
 * Node enforces both timeouts by sweeping its connections on this interval (30 s by default, which
 * would let a 10 s limit stretch to 40 s). It can only be set when the server is created.
 */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

export function guardSlowClients(server: Server, limits: SlowClientLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  const pending = new Map<string, number>();
  const releases = new WeakMap<Socket, () => void>();

  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    if (limits.isTrustedProxy(address)) return;
    const held = pending.get(address) ?? 0;
    if (held >= limits.maxPendingPerAddress) {
      socket.destroy();
      return;
    }
    pending.set(address, held + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (pending.get(address) ?? 1) - 1;
      if (left > 0) pending.set(address, left);
      else pending.delete(address);
    };
    releases.set(socket, release);
    socket.once('close', release);
  });
  // Complete headers make a connection active rather than pending.
  const arrived = (request: { socket: Socket }) => releases.get(request.socket)?.();
  server.prependListener('request', arrived);
  server.prependListener('upgrade', arrived);
}
