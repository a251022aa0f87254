/**
 * The chat server's services, built once from configuration in dependency order: presence,
 * notifications (with Web Push) and room activity, then the chat domain (which publishes to room
 * activity), then read receipts and file attachments. chat-server.ts hands each consumer and
 * REST route the services it uses, by name, and closes them all at shutdown.
 */
import { readFileSync } from 'node:fs';
import type { PresenceStore } from '@switchboard/redis';
import type { ChannelLayer, RateLimiter } from '@switchboard/server';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { ChatRooms } from './domain/chat-rooms.ts';
import { ReadReceipts } from './domain/read-receipts.ts';
import { Attachments, type Caption } from './files/attachments.ts';
import { ChunkedUploads } from './files/chunked-uploads.ts';
import { FileStore } from './files/file-store.ts';
import { UploadQuota } from './files/upload-quota.ts';
import { Notifications } from './notifications/notifications.ts';
import { RoomActivity } from './notifications/room-activity.ts';
import { PresenceTracker } from './presence/presence-tracker.ts';
import { RoomPresence } from './presence/room-presence.ts';
import { PushSender } from './push/push-sender.ts';
import { loadVapidKeys } from './push/vapid-keys.ts';
import type { Storage } from './storage/storage.ts';

/** Room for the JSON envelope of an `upload_chunk` frame around its base64 data. */
const CHUNK_FRAME_OVERHEAD = 1024;

export interface ServiceDeps {
  config: Config;
  storage: Storage;
  layer: ChannelLayer;
  /** Who is online: counts every authenticated socket of a user on every node. */
  presenceStore: PresenceStore;
  /** A second store (own namespace) counting chat sockets per (room, user). */
  roomPresenceStore: PresenceStore;
  /** Uploads per user per minute; shared across nodes when it is Redis. */
  rateLimiter: RateLimiter;
  logger: Logger;
}

export interface ChatServices {
  /** The chat domain: rooms, messages, and the one path a room change is published on. */
  rooms: ChatRooms;
  presence: PresenceTracker;
  roomPresence: RoomPresence;
  receipts: ReadReceipts;
  notifications: Notifications;
  /** Notifications caused by room changes (mentions, "new messages"). */
  activity: RoomActivity;
  push: PushSender;
  files: FileStore;
  uploads: ChunkedUploads<Caption>;
  attachments: Attachments;
  quota: UploadQuota;
  close(): Promise<void>;
}

export async function startServices(deps: ServiceDeps): Promise<ChatServices> {
  const { config, storage, layer, logger } = deps;
  const live = config.live;
  const log = logger.child({ component: 'live' });

  const presence = new PresenceTracker(
    deps.presenceStore,
    storage,
    layer,
    live.presenceGraceSeconds * 1000,
    log,
  );
  const roomPresence = new RoomPresence(deps.roomPresenceStore, log);
  const push = pushSender(deps, log);
  const notifications = new Notifications(storage, layer, presence, push);
  const activity = new RoomActivity(storage, notifications, roomPresence, live.notifyRoomMaxMembers, log);
  const rooms = new ChatRooms(storage, layer, activity, config.maxMessageLength);

  const files = new FileStore(config.dataDir);
  await files.init(live.upload.expirySeconds * 1000);
  const chunkBytes = Math.min(
    live.upload.chunkBytes,
    Math.floor((config.maxPayloadBytes - CHUNK_FRAME_OVERHEAD) / 4) * 3,
  );
  const uploads = new ChunkedUploads<Caption>(files, {
    maxBytes: config.maxUploadBytes,
    chunkBytes,
    allowedTypes: live.upload.allowedTypes,
    maxPending: live.upload.maxPending,
    expiryMs: live.upload.expirySeconds * 1000,
  });
  const quota = new UploadQuota(storage, deps.rateLimiter, {
    quotaBytes: live.upload.quotaBytes,
    perMinute: live.upload.perMinute,
  });

  return {
    rooms,
    presence,
    roomPresence,
    receipts: new ReadReceipts(storage, layer),
    notifications,
    activity,
    push,
    files,
    uploads,
    attachments: new Attachments(storage, rooms, files, quota, config.maxMessageLength),
    quota,
    async close() {
      presence.close();
      await activity.close();
      await push.close();
      await uploads.close();
    },
  };
}

function pushSender({ config, storage }: ServiceDeps, log: Logger): PushSender {
  const { push } = config.live;
  const vapid = loadVapidKeys(config.dataDir, push.vapid);
  if (vapid.generated) {
    // Harmless on one node; in a cluster, nodes with different pairs break each other's subscriptions.
    log[config.redisUrl ? 'warn' : 'info'](
      { file: `${config.dataDir}/vapid-keys.json` },
      'VAPID keys are not configured: using a pair generated for this data directory. Set VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY (the same on every node) in production.',
    );
  }
  return new PushSender(
    storage,
    {
      keys: vapid.keys,
      subject: push.subject,
      ttlSeconds: push.ttlSeconds,
      allowedHosts: push.allowedHosts,
      ...(push.caFile && { ca: readFileSync(push.caFile) }),
    },
    log,
  );
}
