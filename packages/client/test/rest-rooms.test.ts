/** `rooms()` returns every room the user is in, however many pages the server answers in. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signUp, uniqueSlug } from './helpers/accounts.ts';
import { type ChatProcess, startChatProcess } from './helpers/chat-process.ts';

let server: ChatProcess;
beforeAll(async () => {
  server = await startChatProcess({ ROOMS_PER_HOUR: '1000' });
});
afterAll(async () => {
  await server?.dispose();
});

it('follows next_after_id past the 200-room page', async () => {
  const alice = await signUp(server.url, 'alice');
  const slugs: string[] = [];
  for (let i = 0; i < 205; i++) {
    const slug = uniqueSlug();
    await alice.createRoom({ slug, name: slug });
    slugs.push(slug);
  }
  expect((await alice.rooms()).map((room) => room.slug)).toEqual(slugs);
}, 60_000);
