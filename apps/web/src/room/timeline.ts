/**
 * A room's messages as the UI shows them, built from history pages and live changes in any order
 * and any number of times: a message is kept in the version with the highest `seq`, so a replay
 * or an overlap between a history page and live traffic never shows a message twice or goes back
 * to an older text.
 */
import type { ChatMessage } from '@switchboard/client';

export interface Timeline {
  /** Oldest first (message ids grow with creation). */
  messages: ChatMessage[];
  byId: ReadonlyMap<number, ChatMessage>;
}

export type TimelineChange =
  | { type: 'reset' }
  | { type: 'page'; messages: ChatMessage[] }
  | { type: 'upsert'; message: ChatMessage }
  | { type: 'deleted'; messageId: number; seq: number };

export const emptyTimeline: Timeline = { messages: [], byId: new Map() };

export function applyToTimeline(timeline: Timeline, change: TimelineChange): Timeline {
  switch (change.type) {
    case 'reset':
      return emptyTimeline;
    case 'page':
      return withMessages(timeline, change.messages);
    case 'upsert':
      return withMessages(timeline, [change.message]);
    case 'deleted': {
      const current = timeline.byId.get(change.messageId);
      // Not loaded: the older page that holds it will come with its tombstone.
      if (!current) return timeline;
      return withMessages(timeline, [{ ...current, deleted: true, content: '', seq: change.seq }]);
    }
  }
}

function withMessages(timeline: Timeline, incoming: ChatMessage[]): Timeline {
  let byId: Map<number, ChatMessage> | undefined;
  for (const message of incoming) {
    const current = (byId ?? timeline.byId).get(message.id);
    if (current && current.seq >= message.seq) continue;
    byId ??= new Map(timeline.byId);
    byId.set(message.id, message);
  }
  if (!byId) return timeline;
  return { byId, messages: [...byId.values()].sort((a, b) => a.id - b.id) };
}
