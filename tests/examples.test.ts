/**
 * Every example runs the way its README says (`npx tsx examples/<name>/server.ts`, here as
 * `node --import tsx` on an ephemeral PORT) and is checked over real sockets, then stopped.
 */
import { TestClient } from '@switchboard/server/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { outsideEnv, type Started, startNode } from './support/processes.ts';

const REPO = new URL('..', import.meta.url).pathname;
let running: Started | undefined;
const clients: TestClient[] = [];

async function start(name: string): Promise<string> {
  running = await startNode(
    ['--import', 'tsx', `examples/${name}/server.ts`],
    REPO,
    outsideEnv({ PORT: '0' }),
    {
      readyLine: /listening on http:\/\/127\.0\.0\.1:(?<port>\d+)/,
    },
  );
  return `127.0.0.1:${running.ready.port}`;
}

async function connect(url: string, options?: Parameters<typeof TestClient.connect>[1]) {
  const client = await TestClient.connect(url, options);
  clients.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => (c.isOpen ? c.close() : undefined)));
  expect(await running?.stop(), `the example did not stop cleanly:\n${running?.output()}`).toBe(0);
  running = undefined;
});

describe('examples', () => {
  it('live-scores: a late viewer gets the latest score, then every score POSTed', async () => {
    const host = await start('live-scores');
    const early = await connect(`ws://${host}/ws/matches/7/`);
    expect(await early.next('score')).toEqual({ type: 'score', home: 0, away: 0 });

    const post = (body: unknown) =>
      fetch(`http://${host}/matches/7/score`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ home: 1, away: 0 })).status).toBe(204);
    expect(await early.next('score')).toEqual({ type: 'score', home: 1, away: 0 });
    expect((await post({ home: -1, away: 0 })).status).toBe(400);

    const late = await connect(`ws://${host}/ws/matches/7/`);
    expect(await late.next('score')).toEqual({ type: 'score', home: 1, away: 0 });
    const other = await connect(`ws://${host}/ws/matches/8/`);
    expect(await other.next('score')).toEqual({ type: 'score', home: 0, away: 0 });
    expect((await post({ home: 2, away: 0 })).status).toBe(204);
    expect(await late.next('score')).toEqual({ type: 'score', home: 2, away: 0 });
    expect(await early.next('score')).toEqual({ type: 'score', home: 2, away: 0 });
    expect(other.unread()).toEqual([]); // another match's viewers hear nothing of it
  });

  it('who-is-here: names arrive and leave; two sockets of one name count once', async () => {
    const host = await start('who-is-here');
    const room = (name: string) => connect(`ws://${host}/ws/rooms/kitchen/?name=${name}`);
    const here = (c: TestClient, names: string[]) =>
      c.next((f) => f.type === 'presence' && JSON.stringify(f.here) === JSON.stringify(names));

    const ada = await room('ada');
    await here(ada, ['ada']);
    const grace = await room('grace');
    await here(grace, ['ada', 'grace']);
    await here(ada, ['ada', 'grace']);
    const adaAgain = await room('ada');
    await here(adaAgain, ['ada', 'grace']);
    await here(ada, ['ada', 'grace']); // the announcement of ada's second socket
    await adaAgain.close();
    await grace.close();
    // ada's second socket closing announces nothing (ada is still here); grace leaving does.
    expect(await ada.next('presence')).toMatchObject({ here: ['ada'] });

    const nameless = await connect(`ws://${host}/ws/rooms/kitchen/`);
    expect(await nameless.next('error')).toMatchObject({ code: 'INVALID_MESSAGE', field: 'name' });
    expect((await nameless.closed()).code).toBe(4400);
  });

  it('rate-limits: API keys authenticate; each message type has its own bucket', async () => {
    const host = await start('rate-limits');
    const stranger = await connect(`ws://${host}/ws/lobby/?token=key-nobody`);
    expect(await stranger.next('error')).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
    expect((await stranger.closed()).code).toBe(4401);

    const ada = await connect(`ws://${host}/ws/lobby/`, { headers: { authorization: 'Bearer key-ada' } });
    for (let i = 0; i < 5; i++)
      expect(await ada.request({ type: 'say', text: `hi ${i}` })).toMatchObject({ type: 'ack' });
    expect(await ada.next('said')).toEqual({ type: 'said', from: 'Ada', text: 'hi 0' });
    const refused = await ada.request({ type: 'say', text: 'one too many' });
    expect(refused).toMatchObject({ type: 'error', code: 'RATE_LIMIT_EXCEEDED' });
    expect(refused.retry_after).toBeGreaterThan(0);
    // The typing bucket is separate: still open after `say` ran out, and limited at 3 of its own.
    for (let i = 0; i < 3; i++) expect(await ada.request({ type: 'typing' })).toMatchObject({ type: 'ack' });
    expect(await ada.request({ type: 'typing' })).toMatchObject({
      type: 'error',
      code: 'RATE_LIMIT_EXCEEDED',
    });
    expect(ada.isOpen).toBe(true);
  });
});
