/** Adds a user to the room by username (the way into a private room). */
import { type FormEvent, useState } from 'react';
import { errorText } from '../app/error-text.ts';
import { api } from '../app/session.ts';

export function InviteForm({ slug, onClose }: { slug: string; onClose: () => void }) {
  const [username, setUsername] = useState('');
  const [note, setNote] = useState<{ text: string; error: boolean } | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const name = username.trim();
    try {
      await api.invite(slug, name);
      setNote({ text: `${name} can now read and write here.`, error: false });
      setUsername('');
    } catch (caught) {
      setNote({ text: errorText(caught), error: true });
    }
  }

  return (
    <form className="invite-form" onSubmit={submit} data-testid="invite-form">
      <input
        aria-label="Username to invite"
        placeholder="Username to invite"
        value={username}
        onChange={(event) => setUsername(event.target.value)}
        required
      />
      <button type="submit" className="primary">
        Invite
      </button>
      <button type="button" className="link-button" onClick={onClose}>
        Done
      </button>
      {note && (
        <p className={note.error ? 'form-error' : 'form-note'} role="status">
          {note.text}
        </p>
      )}
    </form>
  );
}
