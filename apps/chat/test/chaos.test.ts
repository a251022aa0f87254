/**
 * The chaos soak in 45 seconds (the full one is `npm run chaos`, 300 clients for 3 minutes): three
 * chat nodes as processes on one private Redis and one PostgreSQL database, each behind a relay,
 * SDK clients chatting in ten rooms, and a seeded schedule dealing every kind of fault (node
 * SIGKILL / SIGTERM / SIGSTOP, Redis restart, PostgreSQL cut, client relay cut and stall). Then the
 * checker proves nothing acked or sent was lost or doubled, seqs are gapless, every client holds
 * exactly its room's history, and no node's memory ran away. See apps/chat/test/chaos/soak.ts.
 *
 * Sized for two loaded cores: 60 clients (not 300) sending every 3 s on average. A failure prints
 * the seed and the `npm run chaos` command that replays its faults (or set `CHAOS_SEED=<seed>`).
 *
 * Needs PostgreSQL at 127.0.0.1:5432 and the redis-server binary; skipped with the reason printed
 * when they are missing, unless CI=true.
 */
import { redisServerInstalled } from '@switchboard/redis/testing';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from './chaos/seeded-random.ts';
import { DEFAULT_SOAK, formatReport, runSoak } from './chaos/soak.ts';
import { servicesAvailable } from './support/services.ts';

const available = await servicesAvailable('the chaos soak', ['postgres']);
const redisServerPresent = redisServerInstalled();
if (!redisServerPresent) {
  const reason = 'the chaos soak needs the redis-server binary';
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: not skipping)`);
  console.warn(`\n  SKIPPING ${reason}.\n`);
}

describe.skipIf(!available || !redisServerPresent)('chaos soak (45 s)', () => {
  it('loses, doubles and reorders nothing under a random fault schedule', async () => {
    const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : SeededRandom.newSeed();
    const log: string[] = [];
    const report = await runSoak({
      ...DEFAULT_SOAK,
      seed,
      durationMs: 45_000,
      clients: 60,
      meanSendIntervalMs: 3_000,
      log: (line) => log.push(line),
    });
    const printed = formatReport(report);
    console.log(printed);
    if (report.violations.length > 0) console.log(log.join('\n'));
    expect(report.violations.length, printed).toBe(0);
    // The soak proved something only if the faults and the traffic happened.
    expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(5);
    expect(report.acked).toBeGreaterThan(100);
  }, 300_000);
});
