/**
 * docs/guide.md cannot drift from code that works: every ```ts block names the file it comes from
 * (```ts file=docs/guide/…) and must be a verbatim copy of it, or of a part of it. Those files are
 * type-checked with the repository (`npm run typecheck`), docs/guide/scores.test.ts runs with the
 * suite, and here the guide's server runs as a reader would start it: a token minted with the
 * guide's script, a socket, a cheer, a score pushed over HTTP.
 */
import { readdir, readFile } from 'node:fs/promises';
import { TestClient } from '@switchboard/server/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { outsideEnv, run, type Started, startNode } from './support/processes.ts';

const REPO = new URL('..', import.meta.url).pathname;

async function blocks() {
  const guide = await readFile(`${REPO}docs/guide.md`, 'utf8');
  return [...guide.matchAll(/^```ts([^\n]*)\n([\s\S]*?)^```$/gm)].map(([, info, code]) => ({
    file: /\bfile=(\S+)/.exec(info!)?.[1],
    code: code!,
  }));
}

describe('docs/guide.md', () => {
  it('copies every TypeScript block verbatim from a file under docs/guide/', async () => {
    const found = await blocks();
    expect(found.length).toBeGreaterThanOrEqual(5);
    for (const { file, code } of found) {
      expect(file, `a block has no file=:\n${code}`).toMatch(/^docs\/guide\/[\w.-]+\.ts$/);
      const source = await readFile(`${REPO}${file}`, 'utf8');
      expect(source.includes(code), `${file} does not contain the block:\n${code}`).toBe(true);
    }
  });

  it('shows every file of docs/guide/', async () => {
    const shown = new Set((await blocks()).map((b) => b.file));
    for (const name of await readdir(`${REPO}docs/guide`)) expect(shown).toContain(`docs/guide/${name}`);
  });

  describe('its server, started as the guide says', () => {
    let server: Started;
    afterAll(() => server?.stop());

    it('takes a minted token, acks a cheer and relays a score pushed over HTTP', async () => {
      server = await startNode(['--import', 'tsx', 'docs/guide/server.ts'], REPO, outsideEnv({ PORT: '0' }), {
        readyLine: /ws:\/\/localhost:(?<port>\d+)\//,
      });
      const port = Number(server.ready.port);
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', 'docs/guide/mint-token.ts', 'ada'],
        REPO,
      );
      const token = stdout.trim();
      expect(token.split('.')).toHaveLength(3);

      const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws/scores/42/?token=${token}`);
      expect(await client.request({ type: 'cheer', team: 'away' })).toMatchObject({ type: 'ack', total: 1 });
      expect(await client.next('cheered')).toEqual({ type: 'cheered', team: 'away' });
      const pushed = await fetch(`http://127.0.0.1:${port}/matches/42/score?home=0&away=1`, {
        method: 'POST',
      });
      expect(pushed.status).toBe(204);
      expect(await client.next('score')).toEqual({ type: 'score', home: 0, away: 1 });

      const outsider = await TestClient.connect(`ws://127.0.0.1:${port}/ws/scores/100/?token=${token}`);
      expect(await outsider.next('error')).toMatchObject({ code: 'PERMISSION_DENIED' });
      expect((await outsider.closed()).code).toBe(4403);
      await client.close();
    });
  });
});
