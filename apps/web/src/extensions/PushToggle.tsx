/** Extension point: the Web Push switch at the foot of the notification panel. */
import { useEffect, useState } from 'react';
import { FormError } from '../app/FormError.tsx';
import { disablePush, enablePush, type PushState, pushState } from './push-opt-in.ts';

const LABELS: Record<PushState, string> = {
  unsupported: 'This browser cannot receive push notifications.',
  denied: 'Notifications are blocked for this site (browser settings).',
  off: 'Push notifications are off.',
  on: 'Push notifications are on for this browser.',
};

export function PushToggle() {
  const [state, setState] = useState<PushState | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    pushState().then(setState, () => setState('unsupported'));
  }, []);

  async function change(enable: boolean) {
    setBusy(true);
    setError(null);
    try {
      await (enable ? enablePush() : disablePush());
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setState(await pushState().catch(() => 'unsupported' as const));
      setBusy(false);
    }
  }

  if (state === null) return null;
  return (
    <footer className="push-toggle" data-testid="push-toggle" data-state={state}>
      <span>{LABELS[state]}</span>
      {(state === 'off' || state === 'on') && (
        <button
          type="button"
          className="link-button"
          disabled={busy}
          onClick={() => void change(state === 'off')}
        >
          {state === 'off' ? 'Turn on' : 'Turn off'}
        </button>
      )}
      <FormError message={error} />
    </footer>
  );
}
