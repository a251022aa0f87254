/**
 * Notifications caused by room changes. The domain's `publish` reports every change here
 * (`changed`), and every leave (`left`). New messages are worked off the sender's path:
 *
 * - a mention `@username` notifies that user, if they are a member of the room (a private room's
 *   text never reaches anyone else), whether or not they are looking at the room;
 * - any message notifies the members who have no chat socket open to the room (RoomPresence,
 *   cluster-wide), once until they read it — in rooms up to `maxMembers`; bigger rooms only
 *   notify mentions, as a message to a crowd is not a reason to ping each of them.
 *
 * Bounded and coalesced: the work runs at most once per PASS_INTERVAL_MS, and then one job per
 * room with activity (a burst of messages becomes one "new messages" check, carrying the latest
 * text, plus every mention), so a busy room costs a few queries per second, not a few per
 * message. At most MAX_ROOMS rooms wait; beyond that, activity is dropped and counted rather
 * than queued without end.
 */
import type { ChatMessage } from '@switchboard/protocol';
import type { Logger } from 'pino';
import type { RoomPresence } from '../presence/room-presence.ts';
import type { Room, RoomChange, Storage } from '../storage/storage.ts';
import { mentionedNames } from './mentions.ts';
import type { Notifications } from './notifications.ts';

/** Rooms with activity waiting to be worked off. */
const MAX_ROOMS = 1000;
/** Delay before a pass over the waiting rooms: what a burst of messages is coalesced over. */
const PASS_INTERVAL_MS = 200;
/** Mentions collected for one room while its job waits. */
const MAX_MENTIONS_PER_JOB = 100;
const SNIPPET_LENGTH = 140;

interface Job {
  room: Room;
  /** The newest message: what the "new messages" notification shows. */
  latest: ChatMessage;
  mentions: { name: string; message: ChatMessage }[];
}

export class RoomActivity {
  private readonly jobs = new Map<number, Job>();
  private working: Promise<void> | undefined;
  private nextPass: NodeJS.Timeout | undefined;
  private closed = false;
  /** Room activity dropped because too many rooms were waiting. */
  dropped = 0;

  constructor(
    private readonly storage: Storage,
    private readonly notifications: Notifications,
    private readonly roomPresence: RoomPresence,
    private readonly maxMembers: number,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  /**
   * A change was committed and broadcast. A new message's notifications follow shortly; an edit
   * or delete rewrites, at once, the notifications already copied from the message. Never throws.
   */
  async changed(room: Room, change: RoomChange): Promise<void> {
    if (change.kind === 'created') this.messagePosted(room, change.message);
    else await this.retext(room, change);
  }

  /** Leaving a private room empties the leaver's notifications from it. Never throws. */
  async left(room: Room, userId: number): Promise<void> {
    if (!room.isPrivate) return;
    try {
      await this.notifications.redactRoom(room.id, userId);
    } catch (error) {
      this.log.warn({ err: error, room: room.id }, 'could not redact the notifications of a leaver');
    }
  }

  private messagePosted(room: Room, message: ChatMessage): void {
    if (this.closed) return;
    let job = this.jobs.get(room.id);
    if (!job) {
      if (this.jobs.size >= MAX_ROOMS) {
        if (this.dropped++ % 1000 === 0)
          this.log.warn({ dropped: this.dropped }, 'notification backlog full');
        return;
      }
      job = { room, latest: message, mentions: [] };
      this.jobs.set(room.id, job);
    }
    job.latest = message;
    for (const name of mentionedNames(message.content)) {
      if (job.mentions.length < MAX_MENTIONS_PER_JOB) job.mentions.push({ name, message });
    }
    this.schedule();
  }

  /** Works off everything waiting now, without the delay (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.working || this.jobs.size > 0) {
      if (!this.working) this.startPass();
      await this.working;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.nextPass);
    this.jobs.clear();
    await this.idle();
  }

  private schedule(): void {
    if (this.nextPass || this.working || this.jobs.size === 0 || this.closed) return;
    this.nextPass = setTimeout(() => this.startPass(), PASS_INTERVAL_MS);
    this.nextPass.unref();
  }

  private startPass(): void {
    clearTimeout(this.nextPass);
    this.nextPass = undefined;
    this.working ??= this.pass().finally(() => {
      this.working = undefined;
      this.schedule();
    });
  }

  /** One pass over the rooms waiting now; activity arriving meanwhile waits for the next pass. */
  private async pass(): Promise<void> {
    const batch = [...this.jobs.values()];
    this.jobs.clear();
    for (const job of batch) {
      try {
        await this.notify(job);
      } catch (error) {
        this.log.warn({ err: error, room: job.room.id }, 'could not send message notifications');
      }
    }
  }

  /** Keeps the notifications copied from a message in step with it: an edit rewrites, a delete empties. */
  private async retext(room: Room, change: Exclude<RoomChange, { kind: 'created' }>): Promise<void> {
    try {
      if (change.kind === 'edited') {
        await this.notifications.retext(change.message.id, 'mention', snippet(change.message));
        await this.notifications.retext(change.message.id, 'message', newMessagesText(change.message));
      } else {
        await this.notifications.retext(change.messageId, 'mention', '');
        await this.notifications.retext(change.messageId, 'message', '');
      }
    } catch (error) {
      this.log.warn({ err: error, room: room.id }, 'could not update notifications of a changed message');
    }
  }

  private async notify(job: Job): Promise<void> {
    const { room } = job;
    const source = (message: ChatMessage) => ({ roomId: room.id, messageId: message.id });
    const url = roomUrl(room.slug);
    const notified = new Set<number>([job.latest.author.id]);
    for (const mention of job.mentions) {
      // Read again what the job captured: a message edited or deleted meanwhile is shown as it is now.
      const message = await this.current(mention.message);
      if (!message || !mentionedNames(message.content).includes(mention.name)) continue;
      const user = await this.storage.findUserByName(mention.name);
      if (!user || user.id === message.author.id || !(await this.storage.isMember(room.id, user.id)))
        continue;
      notified.add(user.id);
      await this.notifications.send({
        userId: user.id,
        title: `${message.author.username} mentioned you in ${room.name}`,
        message: snippet(message),
        category: 'mention',
        url,
        source: source(message),
      });
    }

    const members = await this.storage.memberIds(room.id);
    const latest = await this.current(job.latest);
    if (members.length > this.maxMembers || !latest) return;
    const candidates = members.filter((id) => !notified.has(id));
    const absent = await this.roomPresence.absent(room.id, candidates);
    await this.notifications.sendOnce(absent, {
      title: `New messages in ${room.name}`,
      message: newMessagesText(latest),
      category: 'message',
      url,
      source: source(latest),
    });
  }

  /** The message as stored now; undefined once deleted. */
  private async current(message: ChatMessage): Promise<ChatMessage | undefined> {
    const now = await this.storage.findMessage(message.id);
    return now && !now.deleted ? now : undefined;
  }
}

/** Where the web app shows a room. */
export const roomUrl = (slug: string) => `/#/rooms/${encodeURIComponent(slug)}`;

const newMessagesText = (message: ChatMessage) => `${message.author.username}: ${snippet(message)}`;

function snippet(message: ChatMessage): string {
  const text = message.content.trim() || message.attachments.map((a) => a.file_name).join(', ');
  const chars = [...text];
  return chars.length > SNIPPET_LENGTH ? `${chars.slice(0, SNIPPET_LENGTH).join('')}…` : text;
}
