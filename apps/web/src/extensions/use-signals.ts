/** Re-renders a component whenever the open room's signals change. */
import { useSyncExternalStore } from 'react';
import { useRoomSignals } from './LiveRoom.tsx';
import type { RoomSignals } from './room-signals.ts';

const noSubscription = () => () => {};
const noVersion = () => 0;

export function useSignals(): RoomSignals | null {
  const signals = useRoomSignals();
  useSyncExternalStore(signals?.subscribe ?? noSubscription, signals?.getVersion ?? noVersion);
  return signals;
}
