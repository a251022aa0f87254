/**
 * The web app in a real browser (Debian's chromium via playwright-core) against the real chat
 * server as a child process: two people chatting live, one of them going offline, the server
 * restarting mid-conversation, an XSS payload, history paging, rooms, and a phone-sized screen.
 * Screenshots of the main screens go to test-output/screenshots/ for review.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebApp } from './helpers/build-web.ts';
import { type ChatProcess, startChatProcess } from './helpers/chat-process.ts';
import { launchChromium, skipBrowserSuite } from './helpers/chromium.ts';

const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/screenshots/', import.meta.url));
const PASSWORD = 'correct horse battery';
/** Long enough for a reconnect after a restart: backoff with 1 s base, a few attempts. */
const RECONNECT_TIMEOUT = 45_000;

/**
 * Polls until the assertion holds. The limits are generous because the machine is shared (the
 * server, the browser and other suites compete for two cores); nothing here measures speed.
 */
function eventually<T>(read: () => T | Promise<T>, { timeout = 20_000 } = {}) {
  return expect.poll(read, { timeout, interval: 100 });
}

const suffix = Math.random().toString(36).slice(2, 7);
const aliceName = `alice_${suffix}`;
const bobName = `bob_${suffix}`;
const room = `launch-${suffix}`;

let server: ChatProcess;
let dist: string;
let browser: Browser;
let aliceContext: BrowserContext;
let bobContext: BrowserContext;
let alice: Page;
let bob: Page;
const pageErrors: string[] = [];

/** What a person sees in the message list: confirmed messages' texts, in order. */
function messageTexts(page: Page): Promise<string[]> {
  return page.getByTestId('message-text').allTextContents();
}

function pendingCount(page: Page): Promise<number> {
  return page.getByTestId('pending-message').count();
}

async function send(page: Page, text: string): Promise<void> {
  const composer = page.getByTestId('composer');
  await composer.fill(text);
  await composer.press('Enter');
}

async function signUp(page: Page, username: string): Promise<void> {
  await page.getByRole('tab', { name: 'Sign up' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByTestId('me').filter({ hasText: username }).waitFor();
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function newPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${error.name}: ${error.message}`));
  page.on('dialog', (dialog) => {
    pageErrors.push(`unexpected dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(server.url);
  return page;
}

const describeInBrowser = skipBrowserSuite ? describe.skip : describe;

describeInBrowser('web app in chromium', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    rmSync(SCREENSHOTS, { recursive: true, force: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
    dist = await buildWebApp();
    // The history test writes 70 messages in a row: above the default 60 per user and minute.
    server = await startChatProcess({ WEB_DIST: dist, WS_RATE_LIMIT: '1000' });
    aliceContext = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    bobContext = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    alice = await newPage(aliceContext);
    bob = await newPage(bobContext);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.dispose();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  it('two people sign up, meet in a room and chat live; edits and deletes show on both sides', async () => {
    await screenshot(alice, 'sign-in');
    await signUp(alice, aliceName);
    await signUp(bob, bobName);

    await alice.getByRole('button', { name: 'New room' }).click();
    await alice.getByLabel('Name').fill('Launch plans');
    await alice.getByLabel('Address').fill(room);
    await alice.getByRole('button', { name: 'Create', exact: true }).click();
    await alice.getByRole('heading', { name: 'Launch plans' }).waitFor();

    await bob.getByRole('button', { name: 'Join' }).click();
    await bob.getByLabel('Room address').fill(room);
    await bob.getByRole('button', { name: 'Join', exact: true }).last().click();
    await bob.getByRole('heading', { name: 'Launch plans' }).waitFor();

    await send(alice, 'Hello Bob!');
    await eventually(() => messageTexts(bob)).toEqual(['Hello Bob!']);

    // Bob replies to Alice's message; Shift+Enter makes a second line instead of sending.
    await bob.getByTestId('message').filter({ hasText: 'Hello Bob!' }).hover();
    await bob.getByRole('button', { name: 'Reply' }).click();
    const composer = bob.getByTestId('composer');
    await composer.fill('Hi Alice,');
    await composer.press('Shift+Enter');
    await composer.pressSequentially('ready when you are.');
    await composer.press('Enter');
    const reply = 'Hi Alice,\nready when you are.';
    await eventually(() => messageTexts(alice)).toEqual(['Hello Bob!', reply]);
    await expect
      .poll(() => alice.getByTestId('message').last().locator('.reply-quote').textContent())
      .toContain('Hello Bob!');

    // Up arrow in the empty box edits Alice's last message.
    await alice.getByTestId('composer').press('ArrowUp');
    await eventually(() => alice.getByTestId('composer').inputValue()).toBe('Hello Bob!');
    await alice.getByTestId('composer').fill('Hello Bob! (edited text)');
    await alice.getByTestId('composer').press('Enter');
    for (const page of [alice, bob]) {
      await eventually(() => messageTexts(page)).toEqual(['Hello Bob! (edited text)', reply]);
      await eventually(() => page.getByTestId('message').first().locator('.edited').count()).toBe(1);
    }
    await screenshot(alice, 'room-desktop');

    // Bob deletes his reply: both sides keep a tombstone, never the text.
    const own = bob.getByTestId('message').filter({ hasText: 'ready when you are.' });
    await own.hover();
    await own.getByRole('button', { name: 'Delete' }).click();
    await own.getByRole('button', { name: 'Delete' }).click();
    for (const page of [alice, bob]) {
      await eventually(() => messageTexts(page)).toEqual(['Hello Bob! (edited text)']);
      await eventually(() => page.locator('.tombstone').count()).toBe(1);
    }
    await screenshot(bob, 'room-after-delete');
  });

  it('offline: three messages queue up, then each appears exactly once on both sides, in order', async () => {
    await bobContext.setOffline(true);
    const banner = bob.getByTestId('connection-banner');
    await eventually(() => banner.getAttribute('data-status')).toBe('reconnecting');

    const offline = ['offline one', 'offline two', 'offline three'];
    for (const text of offline) await send(bob, text);
    await eventually(() => pendingCount(bob)).toBe(3);
    await eventually(() => banner.textContent()).toContain('3 messages queued');
    await screenshot(bob, 'offline-queue');
    // Nothing left the browser while it was offline.
    expect(await messageTexts(alice)).not.toContain('offline one');

    await bobContext.setOffline(false);
    const expected = ['Hello Bob! (edited text)', ...offline];
    for (const page of [alice, bob]) {
      await eventually(() => messageTexts(page), { timeout: RECONNECT_TIMEOUT }).toEqual(expected);
    }
    await eventually(() => pendingCount(bob)).toBe(0);
    await eventually(() => banner.count()).toBe(0);
  });

  it('messages written while disconnected survive a page reload and are sent once', async () => {
    // A second browser of Bob's, whose chat sockets the test lets through or not (HTTP always
    // works). Playwright's socket routing replaces the page's WebSocket with a shim that throws
    // its own errors on unload, so this browser is kept apart from the pages checked for errors.
    const device = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    try {
      let blocked = true;
      await device.routeWebSocket(/\/ws\/chat\//, (socket) => {
        if (blocked) socket.close({ code: 1013, reason: 'blocked by the test' });
        else socket.connectToServer();
      });
      const page = await device.newPage();
      await page.goto(`${server.url}/#/rooms/${room}`);
      await page.getByLabel('Username').fill(bobName);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).last().click();
      await eventually(() => page.getByTestId('connection-banner').getAttribute('data-status')).toMatch(
        /reconnecting|connecting/,
      );
      const kept = ['kept across a reload 1', 'kept across a reload 2'];
      for (const text of kept) await send(page, text);
      await eventually(() => pendingCount(page)).toBe(2);

      await page.reload();
      // Read back from localStorage: shown as pending before any socket could open.
      await eventually(() => page.getByTestId('pending-message').allTextContents()).toEqual(
        kept.map((text) => `${bobName}sending…${text}`),
      );

      // Unblocked: the page's own backoff brings the socket back and the queue goes out.
      blocked = false;
      for (const reader of [alice, bob, page]) {
        await eventually(async () => (await messageTexts(reader)).slice(-2), {
          timeout: RECONNECT_TIMEOUT,
        }).toEqual(kept);
      }
      expect((await messageTexts(alice)).filter((text) => kept.includes(text))).toEqual(kept);
      await eventually(() => pendingCount(page)).toBe(0);
    } finally {
      await device.close();
    }
  });

  it('the server restarts mid-conversation: both pages reconnect by themselves, nothing lost or doubled', async () => {
    const before = await messageTexts(alice);
    await send(alice, 'just before the crash');
    // The process dies at once, whether or not that message was acknowledged yet.
    await server.stop('SIGKILL');
    for (const page of [alice, bob]) {
      await eventually(() => page.getByTestId('connection-banner').getAttribute('data-status'), {
        timeout: 10_000,
      }).toMatch(/reconnecting|connecting/);
    }
    await send(alice, 'while the server is down (Alice)');
    await send(bob, 'while the server is down (Bob)');
    await screenshot(alice, 'reconnecting-banner');

    await server.start();
    await send(bob, 'after the restart');

    for (const page of [alice, bob]) {
      await eventually(async () => (await messageTexts(page)).length, { timeout: RECONNECT_TIMEOUT }).toBe(
        before.length + 4,
      );
      const texts = await messageTexts(page);
      expect(texts.slice(0, before.length)).toEqual(before);
      const added = texts.slice(before.length);
      // Each exactly once; each author's own messages in the order they were written.
      expect([...added].sort()).toEqual(
        [
          'after the restart',
          'just before the crash',
          'while the server is down (Alice)',
          'while the server is down (Bob)',
        ].sort(),
      );
      expect(added.indexOf('just before the crash')).toBeLessThan(
        added.indexOf('while the server is down (Alice)'),
      );
      expect(added.indexOf('while the server is down (Bob)')).toBeLessThan(
        added.indexOf('after the restart'),
      );
      await eventually(() => page.getByTestId('connection-banner').count()).toBe(0);
    }
    // Both pages agree on the order.
    expect(await messageTexts(alice)).toEqual(await messageTexts(bob));
  });

  it('an XSS payload is shown as literal text and runs nothing', async () => {
    const payloads = [
      '<script>window.__xss = "script"</script>',
      '<img src=x onerror="window.__xss = \'img\'">',
      '<a href="javascript:window.__xss=1">click</a> **bold** &amp;',
    ];
    for (const payload of payloads) await send(alice, payload);
    for (const page of [alice, bob]) {
      await eventually(async () => (await messageTexts(page)).slice(-3)).toEqual(payloads);
      expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();
      const list = page.getByTestId('message-list');
      expect(await list.locator('img, script, a[href^="javascript"]').count()).toBe(0);
    }
    await screenshot(bob, 'xss-literal');
    expect(pageErrors).toEqual([]);
  });

  it('loads older history as the reader scrolls up', async () => {
    const history = `history-${suffix}`;
    await alice.getByRole('button', { name: 'New room' }).click();
    await alice.getByLabel('Name').fill('History');
    await alice.getByLabel('Address').fill(history);
    await alice.getByRole('button', { name: 'Create', exact: true }).click();
    await alice.getByRole('heading', { name: 'History' }).waitFor();
    // 70 messages: more than the first page (50) that opening the room loads.
    for (let i = 0; i < 70; i++) await send(alice, `history ${i}`);
    await eventually(async () => (await messageTexts(alice)).length).toBe(70);

    await alice.reload();
    await eventually(async () => (await messageTexts(alice)).length).toBe(50);
    expect((await messageTexts(alice)).at(-1)).toBe('history 69');
    await alice.getByTestId('message-list').evaluate((element) => {
      element.scrollTop = 0;
    });
    await eventually(async () => (await messageTexts(alice)).length).toBe(70);
    expect((await messageTexts(alice))[0]).toBe('history 0');
    await alice.getByText('This is the beginning of the room.').waitFor();
  });

  it('rooms: invite into a private room, a direct conversation, and unread counts', async () => {
    const secret = `secret-${suffix}`;
    await alice.getByRole('button', { name: 'New room' }).click();
    await alice.getByLabel('Name').fill('Secret plans');
    await alice.getByLabel('Address').fill(secret);
    await alice.getByLabel('Private').check();
    await alice.getByRole('button', { name: 'Create', exact: true }).click();
    await alice.getByRole('heading', { name: 'Secret plans' }).waitFor();
    await alice.getByRole('button', { name: 'Invite' }).click();
    await alice.getByLabel('Username to invite').fill(bobName);
    await alice.getByRole('button', { name: 'Invite', exact: true }).last().click();
    await alice.getByText(`${bobName} can now read and write here.`).waitFor();
    await send(alice, 'one for Bob');
    await send(alice, 'two for Bob');
    await eventually(async () => (await messageTexts(alice)).length).toBe(2);

    // Bob is still in the launch room: the private room shows up with two unread messages.
    await bob.reload();
    const secretLink = bob.locator(`[data-testid="room-link"][data-slug="${secret}"]`);
    await eventually(() => secretLink.getByTestId('unread').textContent()).toContain('2');
    await screenshot(bob, 'room-list-unread');

    await alice.getByRole('button', { name: 'Direct' }).click();
    await alice.getByLabel('Username', { exact: true }).fill(bobName);
    await alice.getByRole('button', { name: 'Open conversation' }).click();
    await alice.getByText('direct conversation').waitFor();
    await send(alice, 'just between us');
    await eventually(() => messageTexts(alice)).toEqual(['just between us']);
  });

  it('works at a phone’s width: the list and the room take turns on the screen', async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    try {
      const page = await newPage(phone);
      await page.getByLabel('Username').fill(bobName);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).last().click();
      const launch = page.locator(`[data-testid="room-link"][data-slug="${room}"]`);
      await launch.waitFor();
      await screenshot(page, 'phone-room-list');

      await launch.click();
      await eventually(async () => (await messageTexts(page)).length).toBeGreaterThan(5);
      expect(await page.locator('.sidebar').isVisible()).toBe(false);
      await send(page, 'sent from a phone');
      await eventually(async () => (await messageTexts(page)).at(-1)).toBe('sent from a phone');
      // Nothing overflows sideways.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await screenshot(page, 'phone-room');

      await page.getByRole('link', { name: 'All rooms' }).click();
      await launch.waitFor();
    } finally {
      await phone.close();
    }
  });
});
