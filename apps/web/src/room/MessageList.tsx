/**
 * The scrolling message column. Scrolling near the top loads the previous page (keeping what is
 * on screen in place); new messages scroll into view only if the reader was already at the bottom.
 */
import type { ChatMessage } from '@switchboard/client';
import { useLayoutEffect, useRef } from 'react';
import { MessageItem } from './MessageItem.tsx';
import type { FailedSend, PendingMessage } from './use-chat-room.ts';

interface Props {
  messages: ChatMessage[];
  byId: ReadonlyMap<number, ChatMessage>;
  pending: PendingMessage[];
  failed: FailedSend[];
  username: string;
  hasOlder: boolean;
  loadingOlder: boolean;
  onLoadOlder: () => void;
  onReply: (message: ChatMessage) => void;
  onEdit: (message: ChatMessage) => void;
  onDelete: (message: ChatMessage) => void;
  onRetryFailed: (failed: FailedSend) => void;
  onDismissFailed: (clientId: string) => void;
}

/** Distance from the top (px) at which the previous page is requested. */
const LOAD_OLDER_AT = 120;
/** Within this distance from the bottom (px) the reader counts as "following" the conversation. */
const FOLLOW_WITHIN = 80;

export function MessageList(props: Props) {
  const { messages, pending, failed, hasOlder, loadingOlder, onLoadOlder } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  const previous = useRef({ firstId: 0, scrollHeight: 0, scrollTop: 0 });

  // Runs after every change, before paint: restore the reader's place or follow the bottom.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const firstId = messages[0]?.id ?? 0;
    const before = previous.current;
    if (before.firstId !== 0 && firstId !== before.firstId && !following.current) {
      // Older messages were put above: keep the same message under the reader's eyes.
      element.scrollTop = before.scrollTop + (element.scrollHeight - before.scrollHeight);
    } else if (following.current) {
      element.scrollTop = element.scrollHeight;
    }
    previous.current = { firstId, scrollHeight: element.scrollHeight, scrollTop: element.scrollTop };
    // A first page shorter than the screen gives nothing to scroll: fetch more right away.
    if (hasOlder && !loadingOlder && element.scrollHeight <= element.clientHeight) onLoadOlder();
  });

  function onScroll() {
    const element = scroller.current;
    if (!element) return;
    following.current = element.scrollHeight - element.scrollTop - element.clientHeight < FOLLOW_WITHIN;
    previous.current = {
      ...previous.current,
      scrollHeight: element.scrollHeight,
      scrollTop: element.scrollTop,
    };
    if (element.scrollTop < LOAD_OLDER_AT && hasOlder && !loadingOlder) onLoadOlder();
  }

  return (
    <div className="message-scroller" ref={scroller} onScroll={onScroll} data-testid="message-list">
      {hasOlder ? (
        <p className="history-note">
          {loadingOlder ? 'Loading earlier messages…' : 'Scroll up for earlier messages'}
        </p>
      ) : (
        <p className="history-note">This is the beginning of the room.</p>
      )}
      <ol className="messages">
        {messages.map((message) => (
          <MessageItem
            key={message.id}
            message={message}
            repliedTo={message.reply_to === null ? undefined : props.byId.get(message.reply_to)}
            own={message.author.username === props.username}
            onReply={props.onReply}
            onEdit={props.onEdit}
            onDelete={props.onDelete}
          />
        ))}
        {pending.map((message) => (
          <li key={message.clientId} className="message own pending" data-testid="pending-message">
            <div className="message-meta">
              <span className="author">{props.username}</span>
              <span className="sending">sending…</span>
            </div>
            <p className="message-text">{message.content}</p>
          </li>
        ))}
        {failed.map((item) => (
          <li key={item.clientId} className="message own failed" data-testid="failed-message">
            <p className="message-text">{item.content}</p>
            <div className="message-actions visible">
              <span className="form-error">Not sent: {item.reason}</span>
              <button type="button" className="link-button" onClick={() => props.onRetryFailed(item)}>
                Retry
              </button>
              <button
                type="button"
                className="link-button"
                onClick={() => props.onDismissFailed(item.clientId)}
              >
                Dismiss
              </button>
            </div>
          </li>
        ))}
      </ol>
    </div>
  );
}
