/**
 * Which users have a chat socket open to which room, across every node: what decides whether a
 * new message needs a notification. It is a second presence store (its own key namespace in
 * Redis, or its own map in memory) counting sockets per (room, user) pair, so it inherits the
 * store's cluster semantics: several sockets per pair, and sockets of a crashed node expiring.
 */
import type { PresenceStore } from '@switchboard/redis';
import type { Logger } from 'pino';

/** The store counts per numeric key: a pair packs into one below 2^52 while both ids are below 2^26. */
const ID_BITS = 2 ** 26;

export class RoomPresence {
  constructor(
    private readonly store: PresenceStore,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  /** A chat socket opened to the room. Never throws: at worst the user gets a needless notification. */
  async enter(roomId: number, userId: number, connectionId: string): Promise<void> {
    const key = pairKey(roomId, userId);
    if (key !== undefined) await this.store.connect(key, connectionId).catch((error) => this.warn(error));
  }

  /** The socket closed. Never throws. */
  async leave(roomId: number, userId: number, connectionId: string): Promise<void> {
    const key = pairKey(roomId, userId);
    if (key !== undefined) await this.store.disconnect(key, connectionId).catch((error) => this.warn(error));
  }

  /** The users of `userIds` with no socket open to the room. */
  async absent(roomId: number, userIds: number[]): Promise<number[]> {
    const present = await Promise.all(
      userIds.map((userId) => {
        const key = pairKey(roomId, userId);
        return key === undefined ? false : this.store.isOnline(key);
      }),
    );
    return userIds.filter((_, i) => !present[i]);
  }

  private warn(error: unknown): void {
    this.log.warn({ err: error }, 'room presence unavailable');
  }
}

/** Ids beyond the packing range are not tracked: such a user just gets notifications they might not need. */
function pairKey(roomId: number, userId: number): number | undefined {
  if (roomId >= ID_BITS || userId >= ID_BITS) return undefined;
  return roomId * ID_BITS + userId;
}
