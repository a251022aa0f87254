/**
 * One message. Content is rendered as a React text node, never as HTML: whatever a user types,
 * `<script>` included, is shown literally.
 */
import type { ChatMessage } from '@switchboard/client';
import { memo, useState } from 'react';
import { MessageAttachments } from '../extensions/MessageAttachments.tsx';
import { ReadReceipts } from '../extensions/ReadReceipts.tsx';

interface Props {
  message: ChatMessage;
  repliedTo: ChatMessage | undefined;
  own: boolean;
  onReply: (message: ChatMessage) => void;
  onEdit: (message: ChatMessage) => void;
  onDelete: (message: ChatMessage) => void;
}

export const MessageItem = memo(function MessageItem({
  message,
  repliedTo,
  own,
  onReply,
  onEdit,
  onDelete,
}: Props) {
  const [confirming, setConfirming] = useState(false);
  return (
    <li
      className={`message${own ? ' own' : ''}${message.deleted ? ' deleted' : ''}`}
      data-testid="message"
      data-message-id={message.id}
      data-seq={message.seq}
    >
      <div className="message-meta">
        <span className="author">{message.author.username}</span>
        <time dateTime={message.timestamp} title={new Date(message.timestamp).toLocaleString()}>
          {formatTime(message.timestamp)}
        </time>
        {message.edited && !message.deleted && <span className="edited">(edited)</span>}
      </div>
      {message.reply_to !== null && <ReplyQuote repliedTo={repliedTo} />}
      {message.deleted ? (
        <p className="message-text tombstone">This message was deleted.</p>
      ) : (
        <p className="message-text" data-testid="message-text">
          {message.content}
        </p>
      )}
      {!message.deleted && <MessageAttachments message={message} />}
      <ReadReceipts message={message} />
      {!message.deleted && (
        <div className="message-actions">
          {confirming ? (
            <>
              <span>Delete this message?</span>
              <button type="button" className="link-button danger" onClick={() => onDelete(message)}>
                Delete
              </button>
              <button type="button" className="link-button" onClick={() => setConfirming(false)}>
                Keep
              </button>
            </>
          ) : (
            <>
              <button type="button" className="link-button" onClick={() => onReply(message)}>
                Reply
              </button>
              {own && (
                <>
                  <button type="button" className="link-button" onClick={() => onEdit(message)}>
                    Edit
                  </button>
                  <button type="button" className="link-button" onClick={() => setConfirming(true)}>
                    Delete
                  </button>
                </>
              )}
            </>
          )}
        </div>
      )}
    </li>
  );
});

function ReplyQuote({ repliedTo }: { repliedTo: ChatMessage | undefined }) {
  if (!repliedTo) return <blockquote className="reply-quote">Reply to an earlier message</blockquote>;
  return (
    <blockquote className="reply-quote">
      <span className="author">{repliedTo.author.username}</span>{' '}
      {repliedTo.deleted ? <em>deleted message</em> : excerpt(repliedTo.content)}
    </blockquote>
  );
}

export function excerpt(text: string, length = 80): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}

function formatTime(timestamp: string): string {
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime())
    ? ''
    : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
