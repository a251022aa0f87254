/**
 * Everything the room view needs about one room: its timeline (history pages + live changes),
 * the live connection, messages still waiting to be sent, and the actions.
 *
 * Start-up order matters for "nothing missed, nothing twice": the newest history page is loaded
 * first, then the socket connects with `after_seq` = the highest seq on that page, so whatever
 * changed in between is replayed. The timeline ignores anything it already has.
 */
import {
  AckTimeoutError,
  type ChatMessage,
  ChatRoomConnection,
  ConnectionClosedError,
  randomId,
  ServerError,
} from '@switchboard/client';
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { errorText } from '../app/error-text.ts';
import { api } from '../app/session.ts';
import { applyToTimeline, emptyTimeline } from './timeline.ts';
import { useConnectionState, useQueuedFrames } from './use-connection.ts';

const PAGE_SIZE = 50;
/** Read position updates are throttled: a busy room must not spend the socket's rate limit on them. */
const MARK_READ_EVERY_MS = 3_000;

/** A message the server refused; shown with its reason until dismissed or retried. */
export interface FailedSend {
  clientId: string;
  content: string;
  replyTo: number | null;
  reason: string;
}

export interface PendingMessage {
  clientId: string;
  content: string;
}

export function useChatRoom(slug: string, username: string) {
  const [timeline, dispatch] = useReducer(applyToTimeline, emptyTimeline);
  const [connection, setConnection] = useState<ChatRoomConnection | null>(null);
  const [olderCursor, setOlderCursor] = useState<number | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [failed, setFailed] = useState<FailedSend[]>([]);
  const [attempt, setAttempt] = useState(0);
  const state = useConnectionState(connection);
  const queued = useQueuedFrames(connection);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new `attempt` ("Try again") reloads the room.
  useEffect(() => {
    let cancelled = false;
    // Created at once so that messages can be written (and queued, and shown as pending) while
    // the history loads; it connects when the page is there and says where to resume.
    const room = new ChatRoomConnection({
      server: location.origin,
      room: slug,
      token: () => api.accessToken(),
      refreshToken: () => api.refreshAccessToken(),
      outbox: { key: `${username}/${slug}` },
    });
    room.on('chat_message', (frame) => dispatch({ type: 'upsert', message: frame.message }));
    room.on('message_edited', (frame) => dispatch({ type: 'upsert', message: frame.message }));
    room.on('message_deleted', (frame) =>
      dispatch({ type: 'deleted', messageId: frame.message_id, seq: frame.seq }),
    );
    dispatch({ type: 'reset' });
    setLoadError(null);
    setConnection(room);
    api.history(slug, { limit: PAGE_SIZE }).then(
      (page) => {
        if (cancelled) return;
        dispatch({ type: 'page', messages: page.messages });
        setOlderCursor(page.next_before_seq);
        room.connect(page.messages.reduce((max, message) => Math.max(max, message.seq), 0));
      },
      (caught: unknown) => {
        if (!cancelled) setLoadError(errorText(caught));
      },
    );
    return () => {
      cancelled = true;
      room.close();
      setConnection(null);
    };
  }, [slug, username, attempt]);

  const loadOlder = useCallback(async () => {
    if (olderCursor === null || loadingOlder) return;
    setLoadingOlder(true);
    try {
      const page = await api.history(slug, { beforeSeq: olderCursor, limit: PAGE_SIZE });
      dispatch({ type: 'page', messages: page.messages });
      setOlderCursor(page.next_before_seq);
    } catch (caught) {
      setLoadError(errorText(caught));
    } finally {
      setLoadingOlder(false);
    }
  }, [slug, olderCursor, loadingOlder]);

  const send = useCallback(
    (content: string, replyTo: number | null, clientId = randomId()) => {
      if (!connection) return;
      // The outbox owns the message from here: shown as pending until the server stores it.
      connection.sendMessage(content, { replyTo, clientId }).catch((error: unknown) => {
        // A timeout or a closed room leaves the message queued for a resend; anything else
        // (a refusal, a full queue, a room we may no longer use) means it will not be sent.
        const stillQueued =
          error instanceof AckTimeoutError ||
          (error instanceof ConnectionClosedError && connection.state.status !== 'failed');
        if (!stillQueued) {
          setFailed((list) => [...list, { clientId, content, replyTo, reason: errorText(error) }]);
        }
      });
    },
    [connection],
  );

  const retryFailed = useCallback(
    (failedSend: FailedSend) => {
      setFailed((list) => list.filter((item) => item.clientId !== failedSend.clientId));
      send(failedSend.content, failedSend.replyTo, failedSend.clientId);
    },
    [send],
  );

  const dismissFailed = useCallback((clientId: string) => {
    setFailed((list) => list.filter((item) => item.clientId !== clientId));
  }, []);

  const edit = useCallback(
    (messageId: number, content: string) => connection?.editMessage(messageId, content),
    [connection],
  );
  const remove = useCallback((messageId: number) => connection?.deleteMessage(messageId), [connection]);

  // Messages in the outbox that the timeline does not show yet (the broadcast and the ack race).
  const pending = useMemo<PendingMessage[]>(() => {
    const shown = new Set(timeline.messages.map((message) => message.client_id));
    const list: PendingMessage[] = [];
    for (const frame of queued) {
      const {
        type,
        client_id: clientId,
        message,
      } = frame as { type: string; client_id?: unknown; message?: unknown };
      if (type === 'chat_message' && typeof clientId === 'string' && !shown.has(clientId)) {
        list.push({ clientId, content: String(message) });
      }
    }
    return list;
  }, [queued, timeline.messages]);

  useMarkRead(connection, state.status === 'open', timeline.messages);

  return {
    timeline,
    connection,
    state,
    queuedCount: queued.length,
    pending,
    failed,
    loadError,
    hasOlder: olderCursor !== null,
    loadingOlder,
    loadOlder,
    reload: () => setAttempt((n) => n + 1),
    send,
    retryFailed,
    dismissFailed,
    edit,
    remove,
  };
}

/**
 * Tells the server how far the user has read (drives unread counts), at most every few seconds.
 * A server without read positions answers INVALID_MESSAGE; then this stops asking.
 */
function useMarkRead(connection: ChatRoomConnection | null, open: boolean, messages: ChatMessage[]) {
  const sent = useRef({ seq: 0, at: 0, unsupported: false });
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latestSeq = connection?.lastSeq ?? 0;
  // `messages` only re-runs the effect when something new arrived.
  useEffect(() => {
    const last = sent.current;
    if (!connection || !open || last.unsupported || latestSeq <= last.seq || messages.length === 0) return;
    const wait = Math.max(0, last.at + MARK_READ_EVERY_MS - Date.now());
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      // A hidden tab has not been read: its position is sent when it is looked at again.
      if (connection.state.status !== 'open' || document.visibilityState === 'hidden') return;
      const seq = connection.lastSeq ?? 0;
      sent.current = { ...sent.current, seq, at: Date.now() };
      connection.send({ type: 'mark_read', seq }).catch((error: unknown) => {
        if (error instanceof ServerError && error.code === 'INVALID_MESSAGE') sent.current.unsupported = true;
      });
    }, wait);
    return () => clearTimeout(timer.current);
  }, [connection, open, latestSeq, messages]);
}
