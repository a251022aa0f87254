import { randomBytes } from 'node:crypto';
import {
  assertValidName,
  type LayerMessage,
  type LayerOptions,
  type LayerStats,
  type Receiver,
} from './channel-layer.ts';
import { Mailbox } from './mailbox.ts';

/**
 * The channels and group memberships that live in this process. Both layers keep one: the
 * in-memory layer is nothing more, the Redis layer adds the routes between processes.
 */
export class LocalChannels {
  readonly stats: LayerStats = { droppedOverCapacity: 0, droppedExpired: 0, undeliverable: 0 };
  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly groups = new Map<string, Set<string>>();
  private readonly groupsOf = new Map<string, Set<string>>();
  private counter = 0;

  constructor(
    /** Every local channel name starts with it, so a process can tell its own channels from others'. */
    readonly prefix: string,
    private readonly options: LayerOptions,
    private readonly onError: (error: unknown) => void,
  ) {
    assertValidName('channel', `${prefix}x`);
  }

  static randomPrefix(): string {
    return `${randomBytes(6).toString('hex')}!`;
  }

  add(receiver: Receiver): string {
    const name = `${this.prefix}${(++this.counter).toString(36)}`;
    this.mailboxes.set(name, new Mailbox(receiver, this.options, this.stats, this.onError));
    return name;
  }

  /**
   * Closes a channel and takes it out of every group it was in (the layer contract: a removed
   * channel leaves all its groups). Returns the groups that have no local member left.
   */
  remove(channel: string): string[] {
    this.mailboxes.get(channel)?.close();
    this.mailboxes.delete(channel);
    const emptied: string[] = [];
    for (const group of this.groupsOf.get(channel) ?? []) {
      if (this.discard(group, channel)) emptied.push(group);
    }
    this.groupsOf.delete(channel);
    return emptied;
  }

  /** Whether the channel is open in this process. */
  has(channel: string): boolean {
    return this.mailboxes.has(channel);
  }

  owns(channel: string): boolean {
    return channel.startsWith(this.prefix);
  }

  /** Delivers to a local channel; false when it is gone. */
  deliver(channel: string, message: LayerMessage): boolean {
    const mailbox = this.mailboxes.get(channel);
    if (!mailbox) return false;
    mailbox.deliver(message);
    return true;
  }

  /**
   * Adds a local channel to a group; true when it is the group's first local member. A channel
   * that is already closed (a groupAdd that raced the disconnect) is not added: it would stay forever.
   */
  join(group: string, channel: string): boolean {
    assertValidName('group', group);
    if (!this.mailboxes.has(channel)) return false;
    let members = this.groups.get(group);
    const first = members === undefined;
    if (!members) {
      members = new Set();
      this.groups.set(group, members);
    }
    members.add(channel);
    let joined = this.groupsOf.get(channel);
    if (!joined) {
      joined = new Set();
      this.groupsOf.set(channel, joined);
    }
    joined.add(group);
    return first;
  }

  /** Removes a local channel from a group; true when the group has no local member left. */
  discard(group: string, channel: string): boolean {
    const members = this.groups.get(group);
    if (!members?.delete(channel)) return false;
    this.groupsOf.get(channel)?.delete(group);
    if (members.size > 0) return false;
    this.groups.delete(group);
    return true;
  }

  /** Hands one message object to every local member: receivers may cache its serialisation. */
  fanOut(group: string, message: LayerMessage): number {
    const members = this.groups.get(group);
    if (!members) return 0;
    for (const channel of members) this.mailboxes.get(channel)?.deliver(message);
    return members.size;
  }

  localGroups(): IterableIterator<string> {
    return this.groups.keys();
  }

  clear(): void {
    for (const mailbox of this.mailboxes.values()) mailbox.close();
    this.mailboxes.clear();
    this.groups.clear();
    this.groupsOf.clear();
  }
}
