/**
 * Configuration of the live features (presence, typing, notifications, uploads, Web Push): the
 * environment variables, validated with the rest in config.ts, and the typed settings they become.
 */
import { z } from 'zod';

const seconds = z.coerce.number().nonnegative();
const positiveSeconds = z.coerce.number().positive();
const positiveInt = z.coerce.number().int().positive();
const base64url = /^[A-Za-z0-9_-]+$/;

/** Types a person commonly shares; `*` at the end matches a prefix (`image/*`). */
const DEFAULT_UPLOAD_TYPES = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'text/plain',
  'text/csv',
  'application/json',
  'application/zip',
  'audio/mpeg',
  'audio/ogg',
  'video/mp4',
  'video/webm',
  'application/msword',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.*',
  'application/vnd.oasis.opendocument.*',
].join(',');

/** The browsers' push services. A subscription naming any other host is refused (no SSRF via push). */
const DEFAULT_PUSH_HOSTS = [
  'fcm.googleapis.com',
  'updates.push.services.mozilla.com',
  '*.push.services.mozilla.com',
  '*.notify.windows.com',
  'web.push.apple.com',
  '*.push.apple.com',
].join(',');

const list = (raw: string) =>
  raw
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);

export const liveEnv = z
  .object({
    /** A shared secret for services that send notifications (`Authorization: Bearer <token>`); unset = off. */
    SERVICE_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
    /** How long after a user's last socket closes they are announced offline (a reload does not flicker). */
    PRESENCE_GRACE_SECONDS: seconds.default(5),
    /** At most one `typing` broadcast per connection per this many seconds. */
    TYPING_THROTTLE_SECONDS: positiveSeconds.default(2),
    /** A typing indicator not refreshed for this long is ended by the server (`is_typing: false`). */
    TYPING_TIMEOUT_SECONDS: positiveSeconds.default(5),
    /** Bytes per `upload_chunk`; lowered automatically so a chunk frame stays under WS_MAX_PAYLOAD_BYTES. */
    UPLOAD_CHUNK_BYTES: positiveInt.default(512 * 1024),
    /** Comma-separated MIME types accepted for uploads; `type/*` or a trailing `*` matches a prefix. */
    UPLOAD_ALLOWED_TYPES: z.string().min(1).default(DEFAULT_UPLOAD_TYPES),
    /** Bytes of uploaded files one user may have stored in all (HTTP and socket uploads). */
    UPLOAD_QUOTA_BYTES: positiveInt.default(1024 ** 3),
    /** Uploads one user may start per rolling minute (HTTP and socket). */
    UPLOADS_PER_MINUTE: positiveInt.default(20),
    /** Unfinished uploads one user may have at a time (per node). */
    UPLOAD_MAX_PENDING: positiveInt.default(3),
    /** An upload that receives no chunk for this long is abandoned and its partial file deleted. */
    UPLOAD_EXPIRY_SECONDS: positiveSeconds.default(15 * 60),
    /** Rooms up to this size notify absent members of new messages; bigger rooms notify only mentions. */
    NOTIFY_ROOM_MAX_MEMBERS: z.coerce.number().int().nonnegative().default(50),
    /** VAPID key pair for Web Push (base64url); unset = generated once into DATA_DIR/vapid-keys.json. */
    VAPID_PUBLIC_KEY: z.string().regex(base64url, 'must be base64url').optional(),
    VAPID_PRIVATE_KEY: z.string().regex(base64url, 'must be base64url').optional(),
    /** Contact the push services may use: a mailto: or https: URL. */
    VAPID_SUBJECT: z
      .string()
      .regex(/^(mailto:|https:\/\/)\S+$/, 'must be a mailto: or https:// URL')
      .default('mailto:switchboard@localhost'),
    /** How long a push service keeps an undelivered notification. */
    PUSH_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .max(28 * 24 * 3600)
      .default(24 * 3600),
    /** Comma-separated hosts a push subscription may point to; `*.example.com` matches subdomains. */
    PUSH_ALLOWED_HOSTS: z.string().min(1).default(DEFAULT_PUSH_HOSTS),
    /** A PEM file of extra CA certificates trusted for push endpoints (a private push relay). */
    PUSH_CA_FILE: z.string().min(1).optional(),
  })
  .superRefine((e, ctx) => {
    if (Boolean(e.VAPID_PUBLIC_KEY) !== Boolean(e.VAPID_PRIVATE_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [e.VAPID_PUBLIC_KEY ? 'VAPID_PRIVATE_KEY' : 'VAPID_PUBLIC_KEY'],
        message: 'set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY together (or neither)',
      });
    }
  });

type LiveEnv = z.infer<typeof liveEnv>;

export interface LiveConfig {
  serviceToken: string | undefined;
  presenceGraceSeconds: number;
  typing: { throttleSeconds: number; timeoutSeconds: number };
  upload: {
    chunkBytes: number;
    allowedTypes: string[];
    maxPending: number;
    expirySeconds: number;
    quotaBytes: number;
    perMinute: number;
  };
  notifyRoomMaxMembers: number;
  push: {
    vapid: { publicKey: string; privateKey: string } | undefined;
    subject: string;
    ttlSeconds: number;
    allowedHosts: string[];
    caFile: string | undefined;
  };
}

/** The settings the (already validated) variables stand for. */
export function liveConfig(e: LiveEnv): LiveConfig {
  return {
    serviceToken: e.SERVICE_TOKEN,
    presenceGraceSeconds: e.PRESENCE_GRACE_SECONDS,
    typing: { throttleSeconds: e.TYPING_THROTTLE_SECONDS, timeoutSeconds: e.TYPING_TIMEOUT_SECONDS },
    upload: {
      chunkBytes: e.UPLOAD_CHUNK_BYTES,
      allowedTypes: list(e.UPLOAD_ALLOWED_TYPES),
      maxPending: e.UPLOAD_MAX_PENDING,
      expirySeconds: e.UPLOAD_EXPIRY_SECONDS,
      quotaBytes: e.UPLOAD_QUOTA_BYTES,
      perMinute: e.UPLOADS_PER_MINUTE,
    },
    notifyRoomMaxMembers: e.NOTIFY_ROOM_MAX_MEMBERS,
    push: {
      vapid:
        e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY
          ? { publicKey: e.VAPID_PUBLIC_KEY, privateKey: e.VAPID_PRIVATE_KEY }
          : undefined,
      subject: e.VAPID_SUBJECT,
      ttlSeconds: e.PUSH_TTL_SECONDS,
      allowedHosts: list(e.PUSH_ALLOWED_HOSTS),
      caFile: e.PUSH_CA_FILE,
    },
  };
}
