/**
 * Compression: permessage-deflate off vs on for Switchboard's fan-out at a fixed, moderate rate,
 * to justify the default (off). Compression is per socket (each has its own deflate context),
 * so a broadcast that is framed once uncompressed is deflated once per member when it is on.
 */
import { openFanOutRoom } from './lib/fan-out-room.ts';
import type { FigureSink } from './lib/report.ts';
import { measureServerCpu } from './lib/server-process.ts';

const SUBSCRIBERS = 1000;
const PUBLISHERS = 2;
/** 20 messages/s into a room of 1,000: 20,000 deliveries/s. */
const PUBLISHES_PER_SECOND = 20;
const SECONDS = 5;
/** Below ws's default of 1 KiB, so that chat-sized frames (about 340 bytes) are compressed at all. */
const THRESHOLD_BYTES = 128;

interface CompressionRun {
  cpuMicrosPerDelivery: number;
  rssMiB: number;
  wireBytesPerDelivery: number;
  deliveriesPerSecond: number;
  p99Ms: number;
}

async function run(compressionThreshold: number | undefined): Promise<CompressionRun> {
  const room = await openFanOutRoom('switchboard', {
    subscribers: SUBSCRIBERS,
    publishers: PUBLISHERS,
    ...(compressionThreshold === undefined ? {} : { compressionThreshold }),
  });
  try {
    await room.load.runAtRate(PUBLISHES_PER_SECOND, 1);
    await room.load.drain();
    const measured = await measureServerCpu(room.server, () =>
      room.load.runAtRate(PUBLISHES_PER_SECOND, SECONDS),
    );
    await room.load.drain();
    await room.server.collectGarbage();
    const usage = await room.server.usage();
    const phase = measured.result;
    return {
      cpuMicrosPerDelivery: (measured.cpuSeconds * 1e6) / phase.delivered,
      rssMiB: usage.rssBytes / 2 ** 20,
      wireBytesPerDelivery: phase.wireBytesPerDelivery,
      deliveriesPerSecond: phase.deliveriesPerSecond,
      p99Ms: phase.p99Ms,
    };
  } finally {
    await room.close();
  }
}

export async function benchCompression(sink: FigureSink): Promise<void> {
  const load = `${(PUBLISHES_PER_SECOND * SUBSCRIBERS).toLocaleString('en-US')} deliveries/s, ${SUBSCRIBERS} subscribers`;
  const off = await run(undefined);
  const on = await run(THRESHOLD_BYTES);
  sink.add('server CPU per delivery, deflate off', off.cpuMicrosPerDelivery, 'us', undefined, load);
  sink.add(
    'server CPU per delivery, deflate on',
    on.cpuMicrosPerDelivery,
    'us',
    off.cpuMicrosPerDelivery,
    `threshold ${THRESHOLD_BYTES} B`,
  );
  sink.add('server RSS after the run, deflate off', off.rssMiB, 'MiB');
  sink.add('server RSS after the run, deflate on', on.rssMiB, 'MiB', off.rssMiB);
  sink.add('wire bytes per delivery, deflate off', off.wireBytesPerDelivery, 'B');
  sink.add(
    'wire bytes per delivery, deflate on',
    on.wireBytesPerDelivery,
    'B',
    off.wireBytesPerDelivery,
    'the same text every time, so context takeover flatters it; real chat compresses less',
  );
  sink.add('deliveries/s reached, deflate on', on.deliveriesPerSecond, 'msg/s', off.deliveriesPerSecond);
  sink.add('p99 latency, deflate off', off.p99Ms, 'ms');
  sink.add('p99 latency, deflate on', on.p99Ms, 'ms', off.p99Ms);
}
