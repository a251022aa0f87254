/**
 * `npm run chaos -- [--minutes 3] [--seed N] [--clients 300] [--faults node-kill,relay-stall]`
 *
 * A chaos soak of three chat nodes (see apps/chat/test/chaos/soak.ts): prints the seed first,
 * the faults as they happen, then the report; exits 1 when the checker found a violation, with
 * each violation's history and the command that replays the same fault schedule.
 */
import { parseArgs } from 'node:util';
import { parseFaultKinds } from '@switchboard/chat/test/chaos/fault-schedule.ts';
import { SeededRandom } from '@switchboard/chat/test/chaos/seeded-random.ts';
import { DEFAULT_SOAK, formatReport, runSoak } from '@switchboard/chat/test/chaos/soak.ts';
import { servicesAvailable } from '@switchboard/chat/test/support/services.ts';
import { redisServerInstalled } from '@switchboard/redis/testing';
import { ensureFileDescriptors } from './lib/fd-limit.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    seed: { type: 'string' },
    clients: { type: 'string', default: String(DEFAULT_SOAK.clients) },
    rooms: { type: 'string', default: String(DEFAULT_SOAK.rooms) },
    faults: { type: 'string' },
    'send-interval-ms': { type: 'string', default: String(DEFAULT_SOAK.meanSendIntervalMs) },
  },
});

const number = (name: string, text: string | undefined) => {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} must be a positive number, got ${text}`);
  return value;
};

if (!(await servicesAvailable('npm run chaos', ['postgres'])) || !redisServerInstalled()) {
  console.error('npm run chaos needs PostgreSQL (TEST_PG_URL) and the redis-server binary.');
  process.exit(2);
}
// Each client is three sockets here: its own and both ends of its relay.
if (!(await ensureFileDescriptors(4 * number('clients', values.clients) + 256)))
  process.exit(process.exitCode ?? 1);

const report = await runSoak({
  ...DEFAULT_SOAK,
  seed: values.seed === undefined ? SeededRandom.newSeed() : number('seed', values.seed),
  durationMs: number('minutes', values.minutes) * 60_000,
  clients: number('clients', values.clients),
  rooms: number('rooms', values.rooms),
  meanSendIntervalMs: number('send-interval-ms', values['send-interval-ms']),
  ...(values.faults === undefined ? {} : { faultKinds: parseFaultKinds(values.faults) }),
  log: (line) => console.log(line),
});
console.log(formatReport(report));
process.exit(report.violations.length === 0 ? 0 : 1);
