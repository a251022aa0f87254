/** The open room: header, connection banner, messages and the composer. */
import type { ChatMessage, RoomSummary } from '@switchboard/client';
import { useCallback, useState } from 'react';
import { errorText } from '../app/error-text.ts';
import { api } from '../app/session.ts';
import { openRoom } from '../app/use-hash-route.ts';
import { LiveRoom } from '../extensions/LiveRoom.tsx';
import { RoomPresence } from '../extensions/RoomPresence.tsx';
import { TypingIndicator } from '../extensions/TypingIndicator.tsx';
import { Composer } from './Composer.tsx';
import { ConnectionBanner } from './ConnectionBanner.tsx';
import { InviteForm } from './InviteForm.tsx';
import { MessageList } from './MessageList.tsx';
import { useChatRoom } from './use-chat-room.ts';

interface Props {
  slug: string;
  summary: RoomSummary | undefined;
  username: string;
  onMembershipChange: () => void;
}

export function RoomView({ slug, summary, username, onMembershipChange }: Props) {
  const room = useChatRoom(slug, username);
  const [replyTo, setReplyTo] = useState<ChatMessage | null>(null);
  const [editing, setEditing] = useState<ChatMessage | null>(null);
  const [inviting, setInviting] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);

  const report = useCallback((promise: Promise<unknown> | undefined) => {
    promise?.catch((error: unknown) => setActionError(errorText(error)));
  }, []);

  const startEdit = useCallback((message: ChatMessage) => {
    setReplyTo(null);
    setEditing(message);
  }, []);
  const startReply = useCallback((message: ChatMessage) => {
    setEditing(null);
    setReplyTo(message);
  }, []);
  const remove = useCallback(
    (message: ChatMessage) => report(room.remove(message.id)),
    [room.remove, report],
  );

  function editLast() {
    const mine = room.timeline.messages.findLast(
      (message) => message.author.username === username && !message.deleted,
    );
    if (mine) startEdit(mine);
  }

  async function leave() {
    try {
      await api.leaveRoom(slug);
      onMembershipChange();
      openRoom(null);
    } catch (error) {
      setActionError(errorText(error));
    }
  }

  const failedForGood = room.state.status === 'failed';
  return (
    <LiveRoom slug={slug} connection={room.connection} username={username}>
      <section className="room-view" aria-label={summary?.name ?? slug}>
        <header className="room-header">
          <a href="#/" className="back-link" aria-label="All rooms">
            ←
          </a>
          <div className="room-title">
            <h2>{summary?.name ?? slug}</h2>
            <span className="room-slug">{summary?.is_direct ? 'direct conversation' : `#${slug}`}</span>
          </div>
          <RoomPresence room={slug} />
          {!summary?.is_direct && (
            <button type="button" className="link-button" onClick={() => setInviting(!inviting)}>
              Invite
            </button>
          )}
          <button type="button" className="link-button" onClick={leave}>
            Leave
          </button>
        </header>
        {inviting && <InviteForm slug={slug} onClose={() => setInviting(false)} />}
        <ConnectionBanner
          state={room.state}
          queued={room.queuedCount}
          onRetry={() => room.connection?.retryNow()}
        />
        {actionError && (
          <div className="action-error" role="alert">
            <span>{actionError}</span>
            <button type="button" className="link-button" onClick={() => setActionError(null)}>
              Dismiss
            </button>
          </div>
        )}
        {room.loadError && (
          <div className="action-error" role="alert">
            <span>{room.loadError}</span>
            <button type="button" className="link-button" onClick={room.reload}>
              Try again
            </button>
          </div>
        )}
        <MessageList
          messages={room.timeline.messages}
          byId={room.timeline.byId}
          pending={room.pending}
          failed={room.failed}
          username={username}
          hasOlder={room.hasOlder}
          loadingOlder={room.loadingOlder}
          onLoadOlder={room.loadOlder}
          onReply={startReply}
          onEdit={startEdit}
          onDelete={remove}
          onRetryFailed={room.retryFailed}
          onDismissFailed={room.dismissFailed}
        />
        <TypingIndicator connection={room.connection} />
        <Composer
          disabled={!room.connection || failedForGood}
          replyTo={replyTo}
          editing={editing}
          onSend={(text) => {
            room.send(text, replyTo?.id ?? null);
            setReplyTo(null);
          }}
          onSaveEdit={(message, text) => {
            report(room.edit(message.id, text));
            setEditing(null);
          }}
          onEditLast={editLast}
          onCancel={() => {
            setEditing(null);
            setReplyTo(null);
          }}
        />
      </section>
    </LiveRoom>
  );
}
