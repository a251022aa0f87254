/**
 * Web Push delivery for users with no socket open: each notification is encrypted for and sent to
 * every push subscription of the user (RFC 8030/8291/8292 via the `web-push` library). A push
 * service answering 404 or 410 says the subscription is gone for good, so it is deleted.
 *
 * Bounded: at most MAX_QUEUED deliveries wait and MAX_IN_FLIGHT run at once; beyond that,
 * deliveries are dropped and counted (the notification itself is stored either way).
 */
import { Agent } from 'node:https';
import type { Notification } from '@switchboard/protocol';
import type { Logger } from 'pino';
import webpush from 'web-push';
import type { PushDelivery } from '../notifications/notifications.ts';
import type { PushSubscriptionRecord, Storage } from '../storage/storage.ts';
import { isAllowedPushEndpoint } from './push-endpoints.ts';
import type { VapidKeys } from './vapid-keys.ts';

const MAX_QUEUED = 1000;
const MAX_IN_FLIGHT = 4;
const REQUEST_TIMEOUT_MS = 10_000;
/** Push services accept about 4 KB of payload; the body is cut well before that. */
const MAX_BODY_CHARS = 1000;

export interface PushSettings {
  keys: VapidKeys;
  subject: string;
  ttlSeconds: number;
  allowedHosts: readonly string[];
  /** Extra CA certificates (PEM) trusted for push endpoints. */
  ca?: Buffer;
}

export interface PushStats {
  sent: number;
  failed: number;
  /** Subscriptions deleted because the push service said they are gone (404/410). */
  expired: number;
  dropped: number;
}

interface Delivery {
  userId: number;
  notifications: Notification[];
}

export class PushSender implements PushDelivery {
  readonly stats: PushStats = { sent: 0, failed: 0, expired: 0, dropped: 0 };
  private readonly queue: Delivery[] = [];
  private inFlight = 0;
  private readonly agent: Agent | undefined;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly storage: Storage,
    private readonly settings: PushSettings,
    private readonly log: Pick<Logger, 'warn'>,
  ) {
    this.agent = settings.ca ? new Agent({ ca: settings.ca }) : undefined;
  }

  get publicKey(): string {
    return this.settings.keys.publicKey;
  }

  isAllowedEndpoint(endpoint: string): boolean {
    return isAllowedPushEndpoint(endpoint, this.settings.allowedHosts);
  }

  deliver(userId: number, notifications: Notification[]): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.stats.dropped++;
      return;
    }
    this.queue.push({ userId, notifications });
    this.pump();
  }

  /** Resolves once nothing is queued or being sent. */
  idle(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): Promise<void> {
    this.queue.length = 0;
    const done = this.idle();
    this.agent?.destroy();
    return done;
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.inFlight++;
      void this.sendAll(next).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) {
          for (const wake of this.idleWaiters.splice(0)) wake();
        }
      });
    }
  }

  private async sendAll({ userId, notifications }: Delivery): Promise<void> {
    let subscriptions: PushSubscriptionRecord[];
    try {
      subscriptions = await this.storage.pushSubscriptionsOf(userId);
    } catch (error) {
      this.stats.failed++;
      this.log.warn({ err: error, user: userId }, 'push: could not read subscriptions');
      return;
    }
    for (const subscription of subscriptions) {
      if (!this.isAllowedEndpoint(subscription.endpoint)) continue;
      for (const notification of notifications) {
        const gone = await this.sendOne(subscription, notification);
        if (gone) break;
      }
    }
  }

  /** Sends one notification; true when the subscription turned out to be gone. */
  private async sendOne(subscription: PushSubscriptionRecord, notification: Notification): Promise<boolean> {
    const payload = JSON.stringify({
      id: notification.id,
      title: notification.title,
      body: [...notification.message].slice(0, MAX_BODY_CHARS).join(''),
      category: notification.category,
      url: notification.url,
    });
    try {
      await webpush.sendNotification(
        { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
        payload,
        {
          vapidDetails: { subject: this.settings.subject, ...this.settings.keys },
          TTL: this.settings.ttlSeconds,
          contentEncoding: 'aes128gcm',
          urgency: notification.category === 'mention' ? 'high' : 'normal',
          timeout: REQUEST_TIMEOUT_MS,
          ...(this.agent && { agent: this.agent }),
        },
      );
      this.stats.sent++;
      return false;
    } catch (error) {
      if (error instanceof webpush.WebPushError && (error.statusCode === 404 || error.statusCode === 410)) {
        this.stats.expired++;
        await this.storage.deletePushSubscription(subscription.endpoint).catch((deleteError: unknown) => {
          this.log.warn({ err: deleteError }, 'push: could not delete an expired subscription');
        });
        return true;
      }
      this.stats.failed++;
      this.log.warn(
        { err: error, status: (error as { statusCode?: number }).statusCode },
        'push: delivery failed',
      );
      return false;
    }
  }
}
