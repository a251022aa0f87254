/**
 * The chat-shaped traffic of the fan-out cases: what publishers send and what both servers (bare
 * `ws` and Switchboard) broadcast, so the two are measured on the same bytes.
 */
import type { ChatMessage } from '@switchboard/protocol';

export const BENCH_ROOM = 'bench';

/** A typical short chat line; the framed broadcast is about 340 bytes. */
export const CHAT_TEXT = 'The deploy is done, the dashboards look green. Lunch at the usual place?';

/** A type alias, not an interface, so that it fits the channel layer's `LayerMessage`. */
export type ChatBroadcast = {
  type: 'chat_message';
  message: ChatMessage;
};

/**
 * The client frame a publisher sends. Its `client_id` carries the send time (performance.now()
 * of the load generator), which the server copies into the broadcast for latency sampling.
 */
export function publishFrame(sentAt: number): string {
  return JSON.stringify({ type: 'chat_message', message: CHAT_TEXT, client_id: `t${sentAt.toFixed(3)}` });
}

/** The send time a subscriber reads back from a broadcast, or undefined if it carries none. */
export function sentAtOf(broadcast: ChatBroadcast): number | undefined {
  const clientId = broadcast.message.client_id;
  return clientId?.startsWith('t') ? Number(clientId.slice(1)) : undefined;
}

export function chatBroadcast(
  seq: number,
  author: { id: number; username: string },
  content: string,
  clientId: string | null,
): ChatBroadcast {
  return {
    type: 'chat_message',
    message: {
      id: seq,
      seq,
      room: BENCH_ROOM,
      content,
      author: { id: author.id, username: author.username, avatar: null },
      timestamp: new Date().toISOString(),
      reply_to: null,
      attachments: [],
      edited: false,
      deleted: false,
      client_id: clientId,
    },
  };
}
