/**
 * The four library packages as an outside user gets them: built, `npm pack`ed, and installed from
 * the tarballs into a fresh project in the system temp folder — no workspace links, no tsx. The
 * project (set up once per run, in beforeAll) then runs plain JavaScript on node:http, Fastify and
 * Express, two processes on Redis, a strict TypeScript check against the published declarations,
 * a Vite browser bundle of the client, and vitest on `@switchboard/server/testing`.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { freePort } from '@switchboard/redis/testing';
import { TestClient } from '@switchboard/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAvailable, uniquePrefix } from '../../packages/redis/test/support/redis.ts';
import { run, type Started, startNode } from '../support/processes.ts';

const REPO = new URL('../..', import.meta.url).pathname;
const FIXTURE = new URL('./fixture/', import.meta.url).pathname;
const LIBRARIES = ['protocol', 'server', 'redis', 'client'];
/** gzip bytes the browser bundle of the whole client SDK may take (it is about 5 KB today). */
const CLIENT_GZIP_BUDGET = 8 * 1024;

let project: string;
const started: Started[] = [];

beforeAll(async () => {
  const t0 = Date.now();
  await run('npm', ['run', 'build:packages'], REPO);
  project = await mkdtemp(join(tmpdir(), 'switchboard-packed-'));
  const packs = join(project, 'packs');
  await mkdir(packs);
  const packed = await run(
    'npm',
    [
      'pack',
      '--json',
      '--pack-destination',
      packs,
      ...LIBRARIES.flatMap((name) => ['-w', `@switchboard/${name}`]),
    ],
    REPO,
  );
  const tarballs = (JSON.parse(packed.stdout) as { name: string; filename: string }[]).map((p) => [
    p.name,
    `file:./packs/${p.filename}`,
  ]);
  await cp(FIXTURE, project, { recursive: true });
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'switchboard-outside',
      private: true,
      type: 'module',
      dependencies: {
        ...Object.fromEntries(tarballs),
        express: '^5.1.0',
        fastify: '^5.0.0',
        jose: '^6.0.0',
        ws: '^8.18.0',
        zod: '^4.1.0',
      },
      devDependencies: { '@types/node': '^20.19.0', typescript: '~5.9.0', vite: '^8.0.0', vitest: '^4.0.0' },
    }),
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], project);
  console.log(
    `packaging: built, packed and installed in ${((Date.now() - t0) / 1000).toFixed(1)} s (${project})`,
  );
}, 240_000);

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  if (project && !process.env.KEEP_PACKED_PROJECT) await rm(project, { recursive: true, force: true });
});

async function server(framework: string, layer = 'memory', prefix = '') {
  const s = await startNode(['server.mjs', framework, layer, prefix], project);
  started.push(s);
  return { port: s.ready.port as number, stop: () => s.stop() };
}

async function clientRun(wsPort: number, httpPort: number, match: string) {
  const ws = `ws://127.0.0.1:${wsPort}/ws/scores/${match}/`;
  const { stdout } = await run(
    process.execPath,
    ['client.mjs', ws, `http://127.0.0.1:${httpPort}`, match],
    project,
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

const expected = {
  ack: { type: 'ack', total: 1 },
  broadcast: { type: 'cheered', team: 'home' },
  refusal: { code: 'INVALID_MESSAGE', field: 'team' },
  pushStatus: 204,
  score: { type: 'score', home: 2, away: 1 },
};

describe('installed from the tarballs', () => {
  it('ships only dist, README and LICENSE, with declarations next to every entry', async () => {
    for (const name of LIBRARIES) {
      const dir = join(project, 'node_modules', '@switchboard', name);
      expect((await readdir(dir)).sort()).toEqual(['LICENSE', 'README.md', 'dist', 'package.json']);
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
      expect(manifest.private).toBeUndefined();
      expect(manifest.license).toBe('MIT');
      for (const entry of Object.values(manifest.exports) as ({ types: string } | string)[]) {
        if (typeof entry !== 'string') expect(entry.types).toMatch(/^\.\/dist\/.*\.d\.ts$/);
      }
    }
  });

  it.each(['http', 'fastify', 'express'])('serves typed frames on %s with plain Node', async (framework) => {
    const node = await server(framework);
    expect(await clientRun(node.port, node.port, '42')).toMatchObject(expected);
    expect(await node.stop()).toBe(0);
  });

  it('reaches a socket on one process from an HTTP push to another over the Redis layer', async (context) => {
    if (!(await redisAvailable())) return context.skip();
    const prefix = uniquePrefix();
    const [a, b] = await Promise.all([server('http', 'redis', prefix), server('fastify', 'redis', prefix)]);
    // The client is connected to `a`; the score is POSTed to `b`, which only shares Redis with `a`.
    expect(await clientRun(a.port, b.port, 'derby')).toMatchObject(expected);
    await Promise.all([a.stop(), b.stop()]);
  });

  it("runs the server README's example as published", async () => {
    const readme = await readFile(join(project, 'node_modules/@switchboard/server/README.md'), 'utf8');
    const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(code).toContain('.listen(8000)');
    const port = await freePort();
    const ready = `.listen(${port}, () => console.log('{"ready":true}'))`;
    await writeFile(join(project, 'readme-server.mjs'), code.replace('.listen(8000)', ready));
    started.push(await startNode(['readme-server.mjs'], project));
    const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws/echo/`);
    expect(await client.request({ type: 'say', text: 'hi' })).toMatchObject({
      type: 'ack',
      said: 1,
      echo: 'hi',
    });
    expect(await client.request({ type: 'say', text: 'again' })).toMatchObject({ said: 2, echo: 'again' });
    await client.close();
  });

  it.each(['bundler', 'node16'])(
    'type-checks a strict TypeScript app with moduleResolution %s',
    async (mode) => {
      const tsc = join(project, 'node_modules/.bin/tsc');
      await run(tsc, ['-p', `tsconfig.${mode}.json`], project);
    },
    120_000,
  ); // skipLibCheck is off so that our .d.ts files are checked too, which takes a while

  it('bundles the client SDK for the browser without zod or Node modules', async () => {
    await run(join(project, 'node_modules/.bin/vite'), ['build', '--logLevel', 'error'], project);
    const assets = join(project, 'dist/assets');
    const [bundle] = (await readdir(assets)).filter((f) => f.endsWith('.js'));
    const code = await readFile(join(assets, bundle!), 'utf8');
    const gzip = gzipSync(code).length;
    console.log(`packaging: browser bundle of @switchboard/client: ${code.length} B, ${gzip} B gzip`);
    expect(code).toContain('after_seq'); // the chat room's resume made it in: this is the real SDK
    expect(code).not.toContain('_zod');
    expect(code).not.toMatch(/from ?["']node:/);
    expect(gzip).toBeLessThan(CLIENT_GZIP_BUDGET);
  });

  it('runs vitest on @switchboard/server/testing inside the project', async () => {
    const { stdout } = await run(
      join(project, 'node_modules/.bin/vitest'),
      ['run', 'testing.test.mjs'],
      project,
    );
    expect(stdout).toMatch(/1 passed/);
  }, 60_000);
});
