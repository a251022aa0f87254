/**
 * Persisted chat: acked `chat_message`/s into one room of 100 connected members on the real chat
 * server (SQLite, WAL, synchronous=FULL: an ack means the message is durably stored). Every
 * member sends with a bounded window of un-acked frames and receives every broadcast.
 */
import { ChatRoomLoad } from './lib/chat-room-load.ts';
import { openClients } from './lib/clients.ts';
import { CHAT_LOAD } from './lib/loads.ts';
import type { FigureSink } from './lib/report.ts';
import { measureServerCpu, ServerProcess } from './lib/server-process.ts';
import type { ChatServerInfo, ChatServerOptions } from './lib/servers/chat.ts';

const GOAL_PER_SECOND = 5000;

export async function benchPersistedChat(sink: FigureSink): Promise<void> {
  const options: ChatServerOptions = { members: CHAT_LOAD.members, ratePerSecond: 100_000 };
  const server = await ServerProcess.start<ChatServerInfo>('chat', options);
  let load: ChatRoomLoad | undefined;
  try {
    const { slug, tokens } = server.info;
    const members = await openClients(
      CHAT_LOAD.members,
      (i) => `ws://127.0.0.1:${server.port}/ws/chat/${slug}/?token=${tokens[i]}`,
    );
    load = new ChatRoomLoad(members, CHAT_LOAD.window);
    await load.run(CHAT_LOAD.warmUpSeconds);
    await load.drain();
    const measured = await measureServerCpu(server, () => load!.run(CHAT_LOAD.measureSeconds));
    const run = measured.result;
    const cores = measured.cpuSeconds / measured.wallSeconds;
    const problems = [
      run.errors > 0 ? `${run.errors} error replies, first: ${run.firstError}` : '',
      run.membersLost > 0 ? `${run.membersLost} members lost` : '',
    ].filter(Boolean);
    sink.add(
      `acked chat_message/s, ${CHAT_LOAD.members} members`,
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
