/**
 * Which tokens are still good. A token is refused when its user is disabled, deleted or unknown,
 * or when it was issued before the user's last revocation. Every check goes through `allows`:
 * socket connect and in-band renewal, the REST bearer hook, token refresh.
 *
 * Each node caches a user's standing for a few seconds, so a busy user costs one query per TTL.
 * A change of standing is announced on a channel-layer group that every node listens to: each
 * node drops its cached standing and, for a revocation, closes the user's sockets at once. The
 * layer is at-most-once; a node that misses an announcement refuses the user's tokens once its
 * cache entry ages out, and its open sockets close at their next renewal or expiry at the latest.
 */
import type { ChannelLayer } from '@switchboard/server';
import type { Storage, User } from '../storage/storage.ts';
import type { TokenUser } from './tokens.ts';

/** The layer group of revocation announcements; every node's server is a member. */
export const REVOCATIONS_GROUP = 'chat.revocations';
const CACHE_TTL_MS = 5_000;
/** Users whose standing one node remembers; the oldest entry goes first. */
const CACHE_MAX_USERS = 10_000;
/** Reads of one standing while announcements keep arriving, before the last one is taken as is. */
const MAX_READS = 3;

interface Standing {
  active: boolean;
  /** Tokens with an `iat` up to and including this second are refused (0: none). */
  revokedThrough: number;
}

export class Revocations {
  readonly #cache = new Map<number, { standing: Standing | null; until: number }>();
  /** Announcements received so far: a read that overlapped one may predate it, and is read again. */
  #announcements = 0;
  #channel: string | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly layer: ChannelLayer,
  ) {}

  /** Joins the announcements of every node; `onRevoked` closes the user's sockets on this one. */
  async listen(onRevoked: (userId: number) => void): Promise<void> {
    this.#channel = this.layer.addChannel((message) => {
      const userId = message.user_id;
      if (typeof userId !== 'number') return;
      this.#announcements++;
      this.#cache.delete(userId);
      if (message.revoked === true) onRevoked(userId);
    });
    await this.layer.groupAdd(REVOCATIONS_GROUP, this.#channel);
  }

  /** Whether the token `user` was read from may still be used. */
  async allows(user: TokenUser): Promise<boolean> {
    const standing = await this.#standing(user.userId);
    return standing?.active === true && user.issuedAt > standing.revokedThrough;
  }

  /**
   * Tells every node (this one included) that a user's standing changed: caches forget it, and
   * when `revoked`, the user's sockets are closed everywhere. Call it after storage has the change.
   */
  async announce(userId: number, revoked: boolean): Promise<void> {
    this.#cache.delete(userId);
    await this.layer.groupSend(REVOCATIONS_GROUP, { type: 'account.changed', user_id: userId, revoked });
  }

  close(): void {
    if (this.#channel) this.layer.removeChannel(this.#channel);
    this.#channel = undefined;
  }

  async #standing(userId: number): Promise<Standing | null> {
    const now = Date.now();
    const cached = this.#cache.get(userId);
    if (cached && cached.until > now) return cached.standing;
    let standing: Standing | null;
    let seen: number;
    let reads = 0;
    do {
      seen = this.#announcements;
      const user = await this.storage.findUserById(userId);
      standing = user ? standingOf(user) : null;
    } while (seen !== this.#announcements && ++reads < MAX_READS);
    this.#cache.delete(userId);
    if (this.#cache.size >= CACHE_MAX_USERS) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(userId, { standing, until: now + CACHE_TTL_MS });
    return standing;
  }
}

function standingOf(user: User): Standing {
  return { active: user.status === 'active', revokedThrough: revokedThrough(user.revokedAt) };
}

/**
 * `iat` has whole seconds, so every token of the revocation's second is refused, also one issued
 * just after it: safe, never a token from before the revocation that survives it.
 */
function revokedThrough(revokedAt: string | null): number {
  return revokedAt === null ? 0 : Math.floor(Date.parse(revokedAt) / 1000);
}

/**
 * Waits out the second of a recent revocation, so that tokens issued now are not refused as
 * belonging to it (at most one second, and only right after an admin re-enabled the account).
 */
export async function afterRevocationSecond(user: Pick<User, 'revokedAt'>): Promise<void> {
  const next = (revokedThrough(user.revokedAt) + 1) * 1000;
  // A loop, not one timeout: timers may fire a millisecond before the wall clock agrees.
  for (let wait = next - Date.now(); wait > 0; wait = next - Date.now()) {
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
