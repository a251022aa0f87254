/**
 * Web Push opt-in: registers the service worker (public/sw.js), subscribes with the server's
 * VAPID key and hands the subscription to the chat server, which pushes notifications to users
 * who have no tab open.
 */
import { authedFetch, getJson } from './live-api.ts';

export type PushState = 'unsupported' | 'denied' | 'off' | 'on';

const SERVICE_WORKER = '/sw.js';

function supported(): boolean {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

async function registration(): Promise<ServiceWorkerRegistration> {
  await navigator.serviceWorker.register(SERVICE_WORKER);
  return navigator.serviceWorker.ready;
}

export async function pushState(): Promise<PushState> {
  if (!supported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'denied';
  const existing = await navigator.serviceWorker.getRegistration(SERVICE_WORKER);
  return (await existing?.pushManager.getSubscription()) ? 'on' : 'off';
}

/** Asks for permission, subscribes and registers the subscription; throws with a readable reason. */
export async function enablePush(): Promise<void> {
  if (!supported()) throw new Error('This browser cannot receive push notifications.');
  if ((await Notification.requestPermission()) !== 'granted') {
    throw new Error('Notifications are blocked for this site.');
  }
  const { public_key } = await getJson<{ public_key: string }>('/api/push/vapid-public-key');
  const worker = await registration();
  let subscription: PushSubscription;
  try {
    subscription = await worker.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: fromBase64Url(public_key),
    });
  } catch (error) {
    throw new Error(`The browser could not subscribe to push (${(error as Error).message}).`);
  }
  const { endpoint, keys } = subscription.toJSON();
  await authedFetch('/api/push/subscriptions/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint, keys }),
  });
}

export async function disablePush(): Promise<void> {
  const existing = await navigator.serviceWorker.getRegistration(SERVICE_WORKER);
  const subscription = await existing?.pushManager.getSubscription();
  if (!subscription) return;
  await authedFetch('/api/push/subscriptions/', {
    method: 'DELETE',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint: subscription.endpoint }),
  }).catch(() => {});
  await subscription.unsubscribe();
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(text.length / 4) * 4, '=');
  const bytes = new Uint8Array(new ArrayBuffer(base64.length));
  const binary = atob(base64);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.slice(0, binary.length);
}
