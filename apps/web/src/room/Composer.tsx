/**
 * The message box. Enter sends, Shift+Enter starts a new line, Up (in an empty box) edits your
 * last message, Escape cancels an edit or a reply.
 */
import type { ChatMessage } from '@switchboard/client';
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { AttachmentButton } from '../extensions/AttachmentButton.tsx';
import { excerpt } from './MessageItem.tsx';

/** The server's default limit (MAX_MESSAGE_LENGTH, 500 characters); the server has the last word. */
const MAX_LENGTH = 500;

interface Props {
  disabled: boolean;
  replyTo: ChatMessage | null;
  editing: ChatMessage | null;
  onSend: (text: string) => void;
  onSaveEdit: (message: ChatMessage, text: string) => void;
  onEditLast: () => void;
  onCancel: () => void;
}

export function Composer({ disabled, replyTo, editing, onSend, onSaveEdit, onEditLast, onCancel }: Props) {
  const [text, setText] = useState('');
  const box = useRef<HTMLTextAreaElement>(null);

  // Entering edit mode loads the message's text; leaving it clears the box.
  useEffect(() => {
    setText(editing ? editing.content : '');
    box.current?.focus();
  }, [editing]);

  useEffect(() => {
    if (replyTo) box.current?.focus();
  }, [replyTo]);

  const length = [...text].length;
  const tooLong = length > MAX_LENGTH;

  function submit() {
    const content = text.trim();
    if (!content || tooLong || disabled) return;
    if (editing) {
      if (content !== editing.content) onSaveEdit(editing, content);
      else onCancel();
    } else {
      onSend(content);
      setText('');
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.nativeEvent.isComposing) return; // an IME is still composing: Enter confirms it
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      submit();
    } else if (event.key === 'ArrowUp' && text === '' && !editing) {
      event.preventDefault();
      onEditLast();
    } else if (event.key === 'Escape' && (editing || replyTo)) {
      event.preventDefault();
      onCancel();
    }
  }

  return (
    <div className="composer">
      {(editing || replyTo) && (
        <div className="composer-context">
          <span>
            {editing
              ? 'Editing your message'
              : `Replying to ${replyTo?.author.username}: ${excerpt(replyTo?.content ?? '', 60)}`}
          </span>
          <button type="button" className="link-button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      )}
      <div className="composer-row">
        <AttachmentButton />
        <textarea
          ref={box}
          rows={Math.min(6, text.split('\n').length)}
          value={text}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
          placeholder={editing ? 'Edit message' : 'Write a message'}
          aria-label={editing ? 'Edit message' : 'Message'}
          aria-invalid={tooLong}
          disabled={disabled}
          data-testid="composer"
        />
        <button
          type="button"
          className="primary"
          onClick={submit}
          disabled={disabled || tooLong || !text.trim()}
        >
          {editing ? 'Save' : 'Send'}
        </button>
      </div>
      {tooLong && (
        <p className="form-error">
          {length} / {MAX_LENGTH} characters
        </p>
      )}
    </div>
  );
}
