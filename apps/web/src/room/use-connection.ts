/** React views of a connection's state and outbox, re-rendering only when they change. */
import type { ChatRoomConnection, ConnectionState, QueuedFrame } from '@switchboard/client';
import { useCallback, useSyncExternalStore } from 'react';

const notConnected: ConnectionState = { status: 'connecting', attempt: 1 };
const nothingQueued: readonly QueuedFrame[] = [];

export function useConnectionState(connection: ChatRoomConnection | null): ConnectionState {
  const subscribe = useCallback(
    (listener: () => void) => connection?.onStateChange(listener) ?? (() => {}),
    [connection],
  );
  return useSyncExternalStore(subscribe, () => connection?.state ?? notConnected);
}

export function useQueuedFrames(connection: ChatRoomConnection | null): readonly QueuedFrame[] {
  const subscribe = useCallback(
    (listener: () => void) => connection?.onQueueChange(listener) ?? (() => {}),
    [connection],
  );
  return useSyncExternalStore(subscribe, () => connection?.queued ?? nothingQueued);
}
