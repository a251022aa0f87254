// The service worker behind Web Push: shows what the chat server pushes while no tab is looking,
// and opens the notification's page of this site when it is clicked.
self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    // Not ours: show nothing rather than a broken notification.
    return;
  }
  event.waitUntil(
    self.registration.showNotification(typeof data.title === 'string' ? data.title : 'Switchboard', {
      body: typeof data.body === 'string' ? data.body : '',
      tag: data.id === undefined ? undefined : `notification-${data.id}`,
      data: { url: typeof data.url === 'string' ? data.url : '/' },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url ?? '/', self.location.origin);
  // Only pages of this site: a pushed link must not send anyone elsewhere.
  const url = target.origin === self.location.origin ? target.href : self.location.origin;
  event.waitUntil(self.clients.openWindow(url));
});
