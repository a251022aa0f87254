/**
 * Online status derived from live sockets. Every authenticated socket (chat, notifications,
 * status) registers in the presence store, which counts a user's sockets on every node. The
 * first one makes the user online. A socket that closes stays counted for a grace period, so a
 * page reload (close, then open within a second) is one session to everyone: the store, every
 * snapshot and every peer's change events say the same thing, with the same explicit status.
 * The store is the one source of truth; nothing here remembers who is "leaving".
 *
 * Fan-out: a status change goes to the status group of the user and of each room peer, one
 * `groupSend` per peer, after one indexed query for the peers. Each group holds only that
 * peer's own status sockets, so the cost is O(peers) per change and one group per socket.
 * (Subscribing every socket to each peer's group would make a change O(1) but cost O(peers)
 * subscriptions per socket, N² in a big room, and would go stale when membership changes;
 * asking for the peers at change time is always current.)
 */
import { type PresenceStatus, presenceStatus, type UserStatus } from '@switchboard/protocol';
import type { PresenceStore } from '@switchboard/redis';
import type { ChannelLayer } from '@switchboard/server';
import type { Logger } from 'pino';
import type { Author } from '../domain/chat-rooms.ts';
import { statusGroup } from '../domain/groups.ts';
import type { PeerProfile, Storage } from '../storage/storage.ts';

/** Peers listed in one status snapshot. */
const MAX_SNAPSHOT_PEERS = 1000;

export class PresenceTracker {
  /** Closed sockets still counted for the grace period. */
  private readonly lingering = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly store: PresenceStore,
    private readonly storage: Storage,
    private readonly layer: ChannelLayer,
    private readonly graceMs: number,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  /** A socket of `user` opened. Never throws: presence is not worth refusing a connection for. */
  async connected(user: Author, connectionId: string): Promise<void> {
    try {
      const first = await this.store.connect(user.id, connectionId);
      if (first)
        await this.announce(user, parseStatus(await this.store.getStatus(user.id)) ?? 'online', null);
    } catch (error) {
      this.log.warn({ err: error, user: user.id }, 'presence: could not register a connection');
    }
  }

  /** A socket of `user` closed: it stops counting once the grace period is over. Never throws. */
  async disconnected(user: Author, connectionId: string): Promise<void> {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.lingering.delete(timer);
      void this.release(user, connectionId);
    }, this.graceMs);
    timer.unref();
    this.lingering.add(timer);
  }

  /** Sets an explicit status; `offline` makes a connected user look offline (invisible). */
  async setStatus(user: Author, status: PresenceStatus): Promise<void> {
    await this.store.setStatus(user.id, status);
    const lastSeen = status === 'offline' ? new Date().toISOString() : null;
    if (lastSeen) await this.storage.setLastSeen(user.id, lastSeen);
    await this.announce(user, status, lastSeen);
  }

  async isOnline(userId: number): Promise<boolean> {
    return this.store.isOnline(userId);
  }

  /** The status of `user` and of every peer (up to a bound), for a status socket that just opened. */
  async snapshot(user: Author): Promise<UserStatus[]> {
    const peers = await this.storage.peerProfiles(user.id, MAX_SNAPSHOT_PEERS);
    const self: PeerProfile = { id: user.id, username: user.username, avatar: null, lastSeen: null };
    return Promise.all([self, ...peers].map((peer) => this.statusOf(peer)));
  }

  /**
   * Stops pending offline announcements; sockets closing after this are not tracked. In a shared
   * store their entries expire with this node's heartbeat, so users who move to another node
   * during a restart are never shown offline.
   */
  close(): void {
    this.closed = true;
    for (const timer of this.lingering) clearTimeout(timer);
    this.lingering.clear();
  }

  private async statusOf(peer: PeerProfile): Promise<UserStatus> {
    const [online, explicit] = await Promise.all([
      this.store.isOnline(peer.id),
      this.store.getStatus(peer.id),
    ]);
    const status = online ? (parseStatus(explicit) ?? 'online') : 'offline';
    return {
      user_id: peer.id,
      username: peer.username,
      status,
      last_seen: status === 'offline' ? peer.lastSeen : null,
    };
  }

  /** The grace period of a closed socket is over; the user's last one makes them offline. */
  private async release(user: Author, connectionId: string): Promise<void> {
    if (this.closed) return;
    try {
      if (!(await this.store.disconnect(user.id, connectionId))) return;
      const lastSeen = new Date().toISOString();
      await this.storage.setLastSeen(user.id, lastSeen);
      await this.announce(user, 'offline', lastSeen);
    } catch (error) {
      this.log.warn({ err: error, user: user.id }, 'presence: could not announce a user offline');
    }
  }

  private async announce(user: Author, status: PresenceStatus, lastSeen: string | null): Promise<void> {
    const frame = {
      type: 'user_status',
      user_id: user.id,
      username: user.username,
      status,
      last_seen: lastSeen,
    } as const;
    const peers = await this.storage.roomPeers(user.id);
    // One object for every group, so the in-memory layer serialises it once for all the peers.
    await Promise.all([user.id, ...peers].map((id) => this.layer.groupSend(statusGroup(id), frame)));
  }
}

function parseStatus(raw: string | null): PresenceStatus | undefined {
  const parsed = presenceStatus.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
