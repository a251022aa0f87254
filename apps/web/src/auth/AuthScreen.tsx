/** Sign in, or create an account and sign straight in. */
import { type FormEvent, useState } from 'react';
import { errorText } from '../app/error-text.ts';
import { FormError } from '../app/FormError.tsx';
import { api } from '../app/session.ts';

type Mode = 'sign-in' | 'sign-up';

export function AuthScreen() {
  const [mode, setMode] = useState<Mode>('sign-in');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'sign-up') await api.register(username.trim(), password);
      await api.signIn(username.trim(), password);
    } catch (caught) {
      setError(errorText(caught));
      setBusy(false);
    }
  }

  const signingUp = mode === 'sign-up';
  return (
    <div className="auth-screen">
      <form className="auth-card" onSubmit={submit} aria-labelledby="auth-title">
        <h1 id="auth-title">Switchboard</h1>
        <div className="segmented" role="tablist">
          <button type="button" role="tab" aria-selected={!signingUp} onClick={() => setMode('sign-in')}>
            Sign in
          </button>
          <button type="button" role="tab" aria-selected={signingUp} onClick={() => setMode('sign-up')}>
            Sign up
          </button>
        </div>
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(event) => setUsername(event.target.value)}
            required
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={signingUp ? 'new-password' : 'current-password'}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            required
          />
        </label>
        <FormError message={error} />
        <button type="submit" className="primary" disabled={busy}>
          {signingUp ? 'Create account' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
