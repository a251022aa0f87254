/**
 * `npm run bench`: every benchmark case in one run, printed as a table and written to
 * bench/results/latest.json. `npm run bench -- fan-out idle` runs only the named cases.
 *
 * Each case is bounded in time and isolated: a failure is reported in its row and the others
 * still run. Modules other engineers own (client SDK, live, scale-out) join when they exist.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchCompression } from './compression.ts';
import { benchConnectionSetup } from './connection-setup.ts';
import { benchFanOut } from './fan-out.ts';
import { benchIdleConnections } from './idle-connections.ts';
import { ensureFileDescriptors } from './lib/fd-limit.ts';
import { type CaseResult, FigureSink, figure, printTable, writeJson } from './lib/report.ts';
import { benchPersistedChat } from './persisted-chat.ts';

interface BenchCase {
  name: string;
  /** Longest the case may take before it is reported as failed. */
  timeoutSeconds: number;
  run(sink: FigureSink): Promise<void>;
}

/** Cases in other engineers' modules: `bench/<file>` exporting `<exportName>(): Promise<Record<string, number>>`. */
const MODULE_CASES = [
  { name: 'client-sdk', file: 'client-sdk.ts', exportName: 'benchClientSdk' },
  { name: 'live', file: 'live.ts', exportName: 'benchLive' },
  { name: 'scale-out', file: 'scale-out.ts', exportName: 'benchScaleOut' },
  { name: 'docs', file: 'docs.ts', exportName: 'benchDocs' },
];

const OWN_CASES: BenchCase[] = [
  { name: 'fan-out', timeoutSeconds: 150, run: benchFanOut },
  { name: 'persisted-chat', timeoutSeconds: 90, run: benchPersistedChat },
  { name: 'idle-connections', timeoutSeconds: 150, run: benchIdleConnections },
  { name: 'compression', timeoutSeconds: 90, run: benchCompression },
  { name: 'connection-setup', timeoutSeconds: 120, run: benchConnectionSetup },
];
const MODULE_TIMEOUT_SECONDS = 120;

function moduleCase(spec: (typeof MODULE_CASES)[number]): BenchCase | undefined {
  const path = fileURLToPath(new URL(`./${spec.file}`, import.meta.url));
  if (!existsSync(path)) return undefined;
  return {
    name: spec.name,
    timeoutSeconds: MODULE_TIMEOUT_SECONDS,
    async run(sink) {
      const module = (await import(path)) as Record<string, unknown>;
      const bench = module[spec.exportName];
      if (typeof bench !== 'function') throw new Error(`${spec.file} does not export ${spec.exportName}()`);
      const figures = (await bench()) as Record<string, number>;
      for (const [name, value] of Object.entries(figures))
        sink.figures.push(figure(`${spec.name} / ${name}`, value, ''));
    },
  };
}

async function runCase(bench: BenchCase): Promise<CaseResult> {
  const sink = new FigureSink(bench.name);
  const started = performance.now();
  const result: CaseResult = {
    case: bench.name,
    figures: sink.figures,
    seconds: 0,
    loadAverage: [loadavg()[0]!, 0],
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      bench.run(sink),
      new Promise((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${bench.timeoutSeconds} s`)),
          bench.timeoutSeconds * 1000,
        );
      }),
    ]);
  } catch (error) {
    result.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`[bench] ${bench.name} failed:`, error);
  } finally {
    clearTimeout(timer);
  }
  result.seconds = (performance.now() - started) / 1000;
  result.loadAverage[1] = loadavg()[0]!;
  const [before, after] = result.loadAverage.map((l) => l.toFixed(1));
  console.error(
    `[bench] ${bench.name} done in ${result.seconds.toFixed(1)} s (load average ${before} -> ${after})`,
  );
  return result;
}

/** Client sockets of the idle-connections case, plus room for everything else. */
const FILE_DESCRIPTORS_NEEDED = 12_000;

async function main(): Promise<void> {
  if (!(await ensureFileDescriptors(FILE_DESCRIPTORS_NEEDED))) return;
  const only = process.argv.slice(2);
  const all = [...OWN_CASES, ...MODULE_CASES.map(moduleCase).filter((c) => c !== undefined)];
  const selected = only.length === 0 ? all : all.filter((c) => only.some((name) => c.name.startsWith(name)));
  if (selected.length === 0)
    throw new Error(`no case matches ${only.join(', ')}: ${all.map((c) => c.name).join(', ')}`);

  const results: CaseResult[] = [];
  for (const bench of selected) {
    console.error(`[bench] ${bench.name} ...`);
    results.push(await runCase(bench));
  }
  const file = fileURLToPath(new URL('./results/latest.json', import.meta.url));
  writeJson(file, results);
  console.log();
  printTable(results);
  console.log(`\nJSON: ${file}`);
}

main().then(
  // Client sockets and timers of a failed case may linger: the run is over either way.
  () => process.exit(),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
