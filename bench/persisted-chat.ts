/**
 * Persisted chat: acked `chat_message`/s into one room of 100 connected members on the real chat
 * server (SQLite, WAL, synchronous=FULL: an ack means the message is durably stored). Every
 * member sends with a bounded window of un-acked frames and receives every broadcast.
 */
import { ChatRoomLoad } from './lib/chat-room-load.ts';
import { openClients } from './lib/clients.ts';
import type { FigureSink } from './lib/report.ts';
import { measureServerCpu, ServerProcess } from './lib/server-process.ts';
import type { ChatServerInfo, ChatServerOptions } from './lib/servers/chat.ts';

const MEMBERS = 100;
/** Un-acked frames per member; the server reads at most 64 ahead per connection anyway. */
const WINDOW = 8;
const WARM_UP_SECONDS = 2;
const MEASURE_SECONDS = 10;
const GOAL_PER_SECOND = 5000;

export async function benchPersistedChat(sink: FigureSink): Promise<void> {
  const options: ChatServerOptions = { members: MEMBERS, ratePerSecond: 100_000 };
  const server = await ServerProcess.start<ChatServerInfo>('chat', options);
  let load: ChatRoomLoad | undefined;
  try {
    const { slug, tokens } = server.info;
    const members = await openClients(
      MEMBERS,
      (i) => `ws://127.0.0.1:${server.port}/ws/chat/${slug}/?token=${tokens[i]}`,
    );
    load = new ChatRoomLoad(members, WINDOW);
    await load.run(WARM_UP_SECONDS);
    await load.drain();
    const measured = await measureServerCpu(server, () => load!.run(MEASURE_SECONDS));
    const run = measured.result;
    const cores = measured.cpuSeconds / measured.wallSeconds;
    const problems = [
      run.errors > 0 ? `${run.errors} error replies, first: ${run.firstError}` : '',
      run.membersLost > 0 ? `${run.membersLost} members lost` : '',
    ].filter(Boolean);
    sink.add(
      `acked chat_message/s, ${MEMBERS} members`,
      run.ackedPerSecond,
      'msg/s',
      GOAL_PER_SECOND,
      [
        `server ${cores.toFixed(2)} cores; generator ${run.generatorCores.toFixed(2)} cores; baseline = goal`,
        ...problems,
      ].join('; '),
    );
    sink.add('server CPU', cores, 'cores');
    sink.add('acked messages per server CPU-second', run.acked / measured.cpuSeconds, 'msg/cpu-s');
    sink.add('broadcast deliveries/s to members', run.deliveriesPerSecond, 'msg/s');
    sink.add('ack latency p50', run.ackP50Ms, 'ms');
    sink.add('ack latency p99', run.ackP99Ms, 'ms');
    if (run.errors > 0) sink.add('error replies', run.errors, 'frames');
  } finally {
    load?.close();
    await server.stop();
  }
}
