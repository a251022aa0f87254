/**
 * The live features in the web app, in Debian's chromium (playwright-core) against the real chat
 * server serving a fresh build: the notification bell, presence dots, typing, read receipts, an
 * upload with its attachment and image preview. Skipped with a message when chromium is missing,
 * unless CI=true.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveFixture, startLive } from './live-support.ts';
import type { ChatUser } from './support/chat-api.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumMissing = !existsSync(CHROMIUM);
if (chromiumMissing) {
  const why = `the live web suite needs chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  if (process.env.CI === 'true') throw new Error(`${why}; CI=true requires it`);
  console.warn(`\n  SKIPPING ${why}.\n`);
}

const SERVICE_TOKEN = 'web-service-token-'.padEnd(40, 'w');
const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));
/** A 1×1 PNG. */
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

describe.skipIf(chromiumMissing)('live features in the web app', () => {
  let webDist: string;
  let live: LiveFixture;
  let browser: Browser;

  beforeAll(async () => {
    webDist = mkdtempSync(join(tmpdir(), 'switchboard-live-web-'));
    await build({
      configFile: join(WEB_ROOT, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: webDist, emptyOutDir: true },
    });
    live = await startLive({ WEB_DIST: webDist, SERVICE_TOKEN });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await live?.close();
    rmSync(webDist, { recursive: true, force: true });
  });

  /** A signed-in page on the room (the app keeps its session in localStorage). */
  async function openRoom(user: ChatUser, slug: string): Promise<Page> {
    const context = await browser.newContext();
    const session = JSON.stringify({ username: user.username, access: user.access, refresh: user.refresh });
    await context.addInitScript((value) => localStorage.setItem('switchboard:session', value), session);
    const page = await context.newPage();
    await page.goto(`${live.server.url}/#/rooms/${slug}`);
    await page.getByTestId('composer').waitFor();
    return page;
  }

  it('shows the bell, presence, typing, receipts and attachments', async () => {
    const [alice, bob] = [await live.signUp('alice'), await live.signUp('bob')];
    const slug = await live.chat.room(alice, [bob]);
    const alicePage = await openRoom(alice, slug);
    const bobPage = await openRoom(bob, slug);

    // Presence: Bob's dot in Alice's header.
    await alicePage.locator(`.room-presence li[title="${bob.username}: online"]`).waitFor();

    // Typing: Bob types, Alice sees it.
    await bobPage.getByTestId('composer').pressSequentially('hel', { delay: 30 });
    await expect
      .poll(() => alicePage.getByTestId('typing-indicator').textContent())
      .toBe(`${bob.username} is typing…`);

    // Read receipts: Alice posts, Bob's open room reads it.
    await alicePage.getByTestId('composer').fill('lunch?');
    await alicePage.getByTestId('composer').press('Enter');
    await alicePage
      .getByTestId('read-receipts')
      .filter({ hasText: `Seen by ${bob.username}` })
      .waitFor();

    // Upload: Alice attaches an image; Bob gets the message with a preview and a download button.
    await alicePage.locator('.attachment input[type=file]').setInputFiles({
      name: 'pixel.png',
      mimeType: 'image/png',
      buffer: PIXEL,
    });
    const attachment = bobPage.getByTestId('attachment').filter({ hasText: 'pixel.png' });
    await attachment.locator('img.attachment-preview').waitFor();
    await expect.poll(() => attachment.getByRole('button', { name: 'Download' }).count()).toBe(1);

    // Notifications: a service sends one to Alice; her bell counts it and lists it.
    await live.call('POST', '/api/notifications/', {
      token: SERVICE_TOKEN,
      body: { user_id: alice.id, title: 'Release 1.2 is out' },
    });
    await expect.poll(() => alicePage.getByTestId('notification-count').textContent()).toBe('1');
    await alicePage.getByTestId('notification-bell').click();
    await alicePage.getByText('Release 1.2 is out').waitFor();
    await alicePage.getByRole('button', { name: 'Mark all read' }).click();
    await expect.poll(() => alicePage.getByTestId('notification-count').count()).toBe(0);

    // A link the browser resolves to another host (a row stored before the server refused such
    // links) is opened as another site in a new tab, never followed in this one.
    await live.server.services.notifications.send({
      userId: alice.id,
      title: 'Old link',
      message: '',
      category: 'system',
      url: '/\\evil.example/',
    });
    const popup = alicePage.waitForEvent('popup');
    await alicePage.getByText('Old link').click();
    await (await popup).close();
    expect(alicePage.url()).toBe(`${live.server.url}/#/rooms/${slug}`);

    // A mention's text leaves Bob's open bell when Alice deletes the message.
    await bobPage.getByTestId('notification-bell').click();
    const aliceSocket = await live.chat.enter(alice, slug);
    const posted = await aliceSocket.request({ type: 'chat_message', message: `@${bob.username} pin 4711` });
    await bobPage.getByText(`@${bob.username} pin 4711`).first().waitFor();
    await aliceSocket.request({ type: 'delete_message', message_id: posted.message_id });
    await expect.poll(() => bobPage.locator('.notification-panel').getByText('pin 4711').count()).toBe(0);

    // Web Push: the switch in the panel registers the service worker and subscribes, or says why
    // not (headless Chromium refuses push subscriptions: the person is told why, not left guessing).
    const toggle = alicePage.getByTestId('push-toggle');
    await expect.poll(() => toggle.getAttribute('data-state')).toBe('off');
    await alicePage.context().grantPermissions(['notifications'], { origin: live.server.url });
    await toggle.getByRole('button', { name: 'Turn on' }).click();
    await expect
      .poll(
        async () =>
          (await toggle.getAttribute('data-state')) === 'on' || (await toggle.getByRole('alert').count()) > 0,
      )
      .toBe(true);
    const worker = await alicePage.evaluate(
      async () => (await navigator.serviceWorker.getRegistration('/sw.js'))?.active?.scriptURL ?? null,
    );
    expect(worker).toBe(`${live.server.url}/sw.js`);
    const stored = await live.call('GET', '/api/push/subscriptions/', { token: alice.access });
    if ((await toggle.getAttribute('data-state')) === 'on') {
      expect(stored.body).toMatchObject({
        subscriptions: [expect.objectContaining({ endpoint: expect.any(String) })],
      });
    } else {
      expect(await toggle.getByRole('alert').textContent()).toMatch(/could not subscribe to push/);
      expect(stored.body).toEqual({ subscriptions: [] });
    }
  });
});
