import { serve, TestClient } from '@switchboard/server/testing';
import { afterAll, expect, it } from 'vitest';
import { mintToken } from './mint-token.ts';
import { app } from './scores.ts';

const served = await serve(app); // ephemeral loopback port
afterAll(() => served.close());

it('acks cheers, pushes scores and closes when the match ends', async () => {
  const token = await mintToken('ada');
  const client = await TestClient.connect(served.wsUrl(`/ws/scores/42/?token=${token}`));
  expect(await client.request({ type: 'cheer', team: 'home' })).toMatchObject({ type: 'ack', total: 1 });
  expect(await client.next('cheered')).toEqual({ type: 'cheered', team: 'home' });
  await app.layer.groupSend('match.42', { type: 'score', home: 2, away: 1 });
  expect(await client.next('score')).toEqual({ type: 'score', home: 2, away: 1 });
  await app.layer.groupSend('match.42', { type: 'match.ended' });
  expect((await client.closed()).code).toBe(1000);
});

it('refuses a socket without a valid token', async () => {
  const client = await TestClient.connect(served.wsUrl('/ws/scores/42/?token=forged'));
  expect(await client.next('error')).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
  expect((await client.closed()).code).toBe(4401);
});
