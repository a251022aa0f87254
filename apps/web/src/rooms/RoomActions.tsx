/** Create a room, join a public one by its slug, or open a direct conversation. One form at a time. */
import { type FormEvent, useState } from 'react';
import { errorText } from '../app/error-text.ts';
import { FormError } from '../app/FormError.tsx';
import { api } from '../app/session.ts';

type Action = 'create' | 'join' | 'direct';

const LABELS: Record<Action, string> = { create: 'New room', join: 'Join', direct: 'Direct' };

export function RoomActions({ onOpened }: { onOpened: (slug: string) => void }) {
  const [action, setAction] = useState<Action | null>(null);

  return (
    <section className="room-actions">
      <div className="segmented small">
        {(Object.keys(LABELS) as Action[]).map((name) => (
          <button
            key={name}
            type="button"
            aria-pressed={action === name}
            onClick={() => setAction(action === name ? null : name)}
          >
            {LABELS[name]}
          </button>
        ))}
      </div>
      {action && (
        <ActionForm
          key={action}
          action={action}
          onDone={(slug) => {
            setAction(null);
            onOpened(slug);
          }}
        />
      )}
    </section>
  );
}

function ActionForm({ action, onDone }: { action: Action; onDone: (slug: string) => void }) {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [isPrivate, setPrivate] = useState(false);
  const [username, setUsername] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (action === 'create') {
        const room = await api.createRoom({ slug: slug.trim(), name: name.trim(), private: isPrivate });
        onDone(room.slug);
      } else if (action === 'join') {
        await api.joinRoom(slug.trim());
        onDone(slug.trim());
      } else {
        const room = await api.openDirect(username.trim());
        onDone(room.slug);
      }
    } catch (caught) {
      setError(errorText(caught));
      setBusy(false);
    }
  }

  return (
    <form className="stacked-form" onSubmit={submit} data-testid={`${action}-form`}>
      {action === 'create' && (
        <label>
          Name
          <input
            name="name"
            value={name}
            onChange={(event) => {
              setName(event.target.value);
              setSlug(slugify(event.target.value));
            }}
            required
          />
        </label>
      )}
      {action !== 'direct' && (
        <label>
          {action === 'create' ? 'Address' : 'Room address'}
          <input
            name="slug"
            value={slug}
            onChange={(event) => setSlug(event.target.value)}
            pattern="[a-z0-9][a-z0-9_\-]{0,63}"
            title="lowercase letters, digits, - and _"
            required
          />
        </label>
      )}
      {action === 'create' && (
        <label className="checkbox">
          <input type="checkbox" checked={isPrivate} onChange={(event) => setPrivate(event.target.checked)} />
          Private (members join by invitation)
        </label>
      )}
      {action === 'direct' && (
        <label>
          Username
          <input
            name="username"
            value={username}
            onChange={(event) => setUsername(event.target.value)}
            required
          />
        </label>
      )}
      <FormError message={error} />
      <button type="submit" className="primary" disabled={busy}>
        {action === 'create' ? 'Create' : action === 'join' ? 'Join' : 'Open conversation'}
      </button>
    </form>
  );
}

function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}
