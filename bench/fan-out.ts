/**
 * Fan-out: one room, 1,000 subscribers, publishers at the highest rate the server sustains
 * (bounded in-flight window) for 10 s, then at half the bare server's rate for latency. Measured
 * for a bare `ws` server (the baseline) and for Switchboard's full path, each in its own process.
 */
import type { PhaseResult } from './lib/fan-out-load.ts';
import { type FanOutServer, openFanOutRoom } from './lib/fan-out-room.ts';
import { FAN_OUT_LOAD } from './lib/loads.ts';
import type { FigureSink } from './lib/report.ts';
import { measureServerCpu } from './lib/server-process.ts';

interface ServerRun {
  max: PhaseResult;
  maxCpuCores: number;
  deliveriesPerCpuSecond: number;
  half?: PhaseResult;
  halfCpuCores?: number;
}

async function runServer(kind: FanOutServer, halfLoadPublishes?: number): Promise<ServerRun> {
  const room = await openFanOutRoom(kind, {
    subscribers: FAN_OUT_LOAD.subscribers,
    publishers: FAN_OUT_LOAD.publishers,
  });
  try {
    await room.load.runAtMaxRate(FAN_OUT_LOAD.warmUpSeconds, FAN_OUT_LOAD.window);
    await room.load.drain();
    const max = await measureServerCpu(room.server, () =>
      room.load.runAtMaxRate(FAN_OUT_LOAD.maxRateSeconds, FAN_OUT_LOAD.window),
    );
    await room.load.drain();
    const run: ServerRun = {
      max: max.result,
      maxCpuCores: max.cpuSeconds / max.wallSeconds,
      deliveriesPerCpuSecond: max.result.delivered / max.cpuSeconds,
    };
    const halfRate = halfLoadPublishes ?? max.result.publishesPerSecond / 2;
    const half = await measureServerCpu(room.server, () =>
      room.load.runAtRate(halfRate, FAN_OUT_LOAD.halfLoadSeconds),
    );
    run.half = half.result;
    run.halfCpuCores = half.cpuSeconds / half.wallSeconds;
    return run;
  } finally {
    await room.close();
  }
}

function report(sink: FigureSink, label: string, run: ServerRun, baseline?: ServerRun): void {
  const generator = `generator ${run.max.generatorCores.toFixed(2)} cores`;
  const lost = run.max.subscribersLost > 0 ? `; ${run.max.subscribersLost} subscribers lost` : '';
  sink.add(
    `deliveries/s at max rate (${label})`,
    run.max.deliveriesPerSecond,
    'msg/s',
    baseline?.max.deliveriesPerSecond,
    `server ${run.maxCpuCores.toFixed(2)} cores; ${generator}${lost}`,
  );
  sink.add(`server CPU at max rate (${label})`, run.maxCpuCores, 'cores', baseline?.maxCpuCores);
  sink.add(
    `deliveries per server CPU-second (${label})`,
    run.deliveriesPerCpuSecond,
    'msg/cpu-s',
    baseline?.deliveriesPerCpuSecond,
  );
  sink.add(`p50 latency at max rate (${label})`, run.max.p50Ms, 'ms', baseline?.max.p50Ms);
  sink.add(`p99 latency at max rate (${label})`, run.max.p99Ms, 'ms', baseline?.max.p99Ms);
  if (run.half) {
    const load = `at ${Math.round(run.half.deliveriesPerSecond).toLocaleString('en-US')} deliveries/s`;
    const cpu = `server ${run.halfCpuCores?.toFixed(2)} cores`;
    sink.add(`p50 latency at half load (${label})`, run.half.p50Ms, 'ms', baseline?.half?.p50Ms, load);
    sink.add(
      `p99 latency at half load (${label})`,
      run.half.p99Ms,
      'ms',
      baseline?.half?.p99Ms,
      `${load}; ${cpu}; goal <= 10 ms`,
    );
  }
}

export async function benchFanOut(sink: FigureSink): Promise<void> {
  const bare = await runServer('bare-ws');
  report(sink, 'bare ws', bare);
  // Half load is half of the bare server's max for both, so the latencies compare at one load.
  const framework = await runServer('switchboard', bare.max.publishesPerSecond / 2);
  report(sink, 'switchboard', framework, bare);
}
