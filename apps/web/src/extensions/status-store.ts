/**
 * The statuses of everyone who shares a room with the user, from one `/ws/status/` socket shared
 * by every component that shows presence. The socket opens with the first subscriber and closes
 * with the last one.
 */
import {
  endpointUrl,
  type StatusClientFrame,
  type StatusServerFrame,
  SwitchboardConnection,
} from '@switchboard/client';
import type { UserStatus } from '@switchboard/protocol';
import { api } from '../app/session.ts';

type Listener = () => void;

let connection: SwitchboardConnection<StatusClientFrame, StatusServerFrame> | undefined;
let statuses: ReadonlyMap<number, UserStatus> = new Map();
const listeners = new Set<Listener>();

function update(next: Map<number, UserStatus>): void {
  statuses = next;
  for (const listener of listeners) listener();
}

function open(): void {
  connection = new SwitchboardConnection<StatusClientFrame, StatusServerFrame>({
    url: endpointUrl(location.origin, '/ws/status/'),
    token: () => api.accessToken(),
    refreshToken: () => api.refreshAccessToken(),
    outbox: { key: `${api.session?.username ?? ''}/status` },
  });
  connection.on('status_snapshot', (frame) => update(new Map(frame.users.map((u) => [u.user_id, u]))));
  connection.on('user_status', ({ type: _type, ...status }) => {
    const next = new Map(statuses);
    next.set(status.user_id, status);
    update(next);
  });
  connection.connect();
}

/** For useSyncExternalStore: subscribing keeps the socket open. */
export function subscribeStatuses(listener: Listener): () => void {
  listeners.add(listener);
  if (!connection) open();
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      connection?.close();
      connection = undefined;
      statuses = new Map();
    }
  };
}

export function currentStatuses(): ReadonlyMap<number, UserStatus> {
  return statuses;
}
