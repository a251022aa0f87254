/**
 * The live features assembled from configuration: presence and typing, read receipts,
 * notifications (with their sources and Web Push), and file attachments. The consumers and the
 * REST routes receive this one object; chat-server.ts creates it and closes it.
 */
import { readFileSync } from 'node:fs';
import type { ChatMessage } from '@switchboard/protocol';
import type { PresenceStore } from '@switchboard/redis';
import type { ChannelLayer, RateLimiter } from '@switchboard/server';
import type { Logger } from 'pino';
import type { Author, ChatRooms } from './domain/chat-rooms.ts';
import { ReadReceipts } from './domain/read-receipts.ts';
import type { Config } from './config.ts';
import { Attachments, type Caption } from './files/attachments.ts';
import { ChunkedUploads } from './files/chunked-uploads.ts';
import { FileStore } from './files/file-store.ts';
import { UploadQuota } from './files/upload-quota.ts';
import { Notifications } from './notifications/notifications.ts';
import { RoomActivity } from './notifications/room-activity.ts';
import { PresenceTracker } from './presence/presence-tracker.ts';
import { RoomPresence } from './presence/room-presence.ts';
import type { TypingTiming } from './presence/typing-signal.ts';
import { PushSender } from './push/push-sender.ts';
import { loadVapidKeys } from './push/vapid-keys.ts';
import type { Room, Storage } from './storage/storage.ts';

/** Room for the JSON envelope of an `upload_chunk` frame around its base64 data. */
const CHUNK_FRAME_OVERHEAD = 1024;

export interface LiveDeps {
  config: Config;
  storage: Storage;
  layer: ChannelLayer;
  rooms: ChatRooms;
  /** Who is online: counts every authenticated socket of a user on every node. */
  presenceStore: PresenceStore;
  /** A second store (own namespace) counting chat sockets per (room, user). */
  roomPresenceStore: PresenceStore;
  /** Uploads per user per minute; shared across nodes when it is Redis. */
  rateLimiter: RateLimiter;
  logger: Logger;
}

export class LiveFeatures {
  readonly presence: PresenceTracker;
  readonly roomPresence: RoomPresence;
  readonly receipts: ReadReceipts;
  readonly notifications: Notifications;
  readonly activity: RoomActivity;
  readonly push: PushSender;
  readonly files: FileStore;
  readonly uploads: ChunkedUploads<Caption>;
  readonly attachments: Attachments;
  readonly quota: UploadQuota;
  readonly typing: TypingTiming;
  readonly serviceToken: string | undefined;

  private constructor(
    private readonly deps: LiveDeps,
    pushCa: Buffer | undefined,
  ) {
    const { config, storage, layer, rooms, logger } = deps;
    const live = config.live;
    const log = logger.child({ component: 'live' });
    this.presence = new PresenceTracker(
      deps.presenceStore,
      storage,
      layer,
      live.presenceGraceSeconds * 1000,
      log,
    );
    this.roomPresence = new RoomPresence(deps.roomPresenceStore);
    this.receipts = new ReadReceipts(storage, layer);

    const vapid = loadVapidKeys(config.dataDir, live.push.vapid);
    if (vapid.generated) {
      // Harmless on one node; in a cluster, nodes with different pairs break each other's subscriptions.
      log[config.redisUrl ? 'warn' : 'info'](
        { file: `${config.dataDir}/vapid-keys.json` },
        'VAPID keys are not configured: using a pair generated for this data directory. Set VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY (the same on every node) in production.',
      );
    }
    this.push = new PushSender(
      storage,
      {
        keys: vapid.keys,
        subject: live.push.subject,
        ttlSeconds: live.push.ttlSeconds,
        allowedHosts: live.push.allowedHosts,
        ...(pushCa && { ca: pushCa }),
      },
      log,
    );
    this.notifications = new Notifications(storage, layer, this.presence, this.push);
    this.activity = new RoomActivity(
      storage,
      this.notifications,
      this.roomPresence,
      live.notifyRoomMaxMembers,
      log,
    );
    rooms.listen((event) => this.activity.roomChanged(event));

    this.files = new FileStore(config.dataDir);
    const chunkBytes = Math.min(
      live.upload.chunkBytes,
      Math.floor((config.maxPayloadBytes - CHUNK_FRAME_OVERHEAD) / 4) * 3,
    );
    this.uploads = new ChunkedUploads(this.files, {
      maxBytes: config.maxUploadBytes,
      chunkBytes,
      allowedTypes: live.upload.allowedTypes,
      maxPending: live.upload.maxPending,
      expiryMs: live.upload.expirySeconds * 1000,
    });
    this.quota = new UploadQuota(storage, deps.rateLimiter, {
      quotaBytes: live.upload.quotaBytes,
      perMinute: live.upload.perMinute,
    });
    this.attachments = new Attachments(storage, rooms, this.files, this.quota, config.maxMessageLength);
    this.typing = {
      throttleMs: live.typing.throttleSeconds * 1000,
      timeoutMs: live.typing.timeoutSeconds * 1000,
    };
    this.serviceToken = live.serviceToken;
  }

  static async start(deps: LiveDeps): Promise<LiveFeatures> {
    const caFile = deps.config.live.push.caFile;
    const features = new LiveFeatures(deps, caFile ? readFileSync(caFile) : undefined);
    await features.files.init(deps.config.live.upload.expirySeconds * 1000);
    return features;
  }

  /** A new message is stored: broadcast it to the room, then work out who to notify. */
  async publish(room: Room, message: ChatMessage): Promise<void> {
    await this.deps.rooms.announce(room, { type: 'chat_message', message });
    this.activity.messagePosted(room, message);
  }

  /** An authenticated socket opened (in `room` for a chat socket). Never throws. */
  async socketOpened(user: Author, connectionId: string, room?: Room): Promise<void> {
    await this.presence.connected(user, connectionId);
    if (room)
      await this.roomPresence
        .enter(room.id, user.id, connectionId)
        .catch((error: unknown) => this.warn(error));
  }

  /** The socket closed. Never throws. */
  async socketClosed(user: Author, connectionId: string, room?: Room): Promise<void> {
    if (room)
      await this.roomPresence
        .leave(room.id, user.id, connectionId)
        .catch((error: unknown) => this.warn(error));
    await this.presence.disconnected(user, connectionId);
  }

  async close(): Promise<void> {
    this.presence.close();
    await this.activity.close();
    await this.push.close();
    await this.uploads.close();
  }

  private warn(error: unknown): void {
    this.deps.logger.warn({ err: error }, 'room presence unavailable');
  }
}
