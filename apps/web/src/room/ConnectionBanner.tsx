/**
 * A slim status line above the messages: visible when the room is not live or messages are
 * waiting, never covering what is already on screen.
 */
import type { ConnectionState } from '@switchboard/client';
import { useEffect, useState } from 'react';

interface Props {
  state: ConnectionState;
  queued: number;
  onRetry: () => void;
}

export function ConnectionBanner({ state, queued, onRetry }: Props) {
  const now = useClock(state.status === 'reconnecting');
  const text = bannerText(state, queued, now);
  if (!text) return null;
  const canRetry = state.status === 'reconnecting' && state.nextAttemptAt !== null;
  return (
    <div
      className={`connection-banner ${state.status}`}
      role="status"
      data-testid="connection-banner"
      data-status={state.status}
    >
      <span>{text}</span>
      {canRetry && (
        <button type="button" className="link-button" onClick={onRetry}>
          Retry now
        </button>
      )}
    </div>
  );
}

function bannerText(state: ConnectionState, queued: number, now: number): string | null {
  const waiting = queued > 0 ? ` ${queued} ${queued === 1 ? 'message' : 'messages'} queued.` : '';
  switch (state.status) {
    case 'open':
      return queued > 0 ? `Sending ${queued} ${queued === 1 ? 'message' : 'messages'}…` : null;
    case 'connecting':
      return state.attempt > 1 ? `Reconnecting…${waiting}` : waiting ? `Connecting…${waiting}` : null;
    case 'reconnecting': {
      if (state.nextAttemptAt === null)
        return `You are offline. Reconnecting when the network is back.${waiting}`;
      const seconds = Math.max(0, Math.ceil((state.nextAttemptAt - now) / 1000));
      return `Connection lost. Reconnecting in ${seconds} s.${waiting}`;
    }
    case 'failed':
      return failureText(state.code, state.reason);
    case 'closed':
      return null;
  }
}

function failureText(code: number, reason: string): string {
  if (code === 4403) return 'You are not a member of this room.';
  if (code === 4404) return 'This room does not exist.';
  if (code === 4401) return 'Your session has expired. Please sign in again.';
  return `Disconnected: ${reason}`;
}

/** The current time, ticking every second while `running` (for the countdown). */
function useClock(running: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return now;
}
