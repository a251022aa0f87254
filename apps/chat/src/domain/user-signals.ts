/**
 * Signals to every socket of one user, on whichever nodes they are: an event from a service (the
 * server API), or the end of all their sessions. A user's sockets are not in one group (each
 * endpoint groups them its own way), so the signal goes to a layer group that every node listens
 * to, and each node finds the user's sockets among its own. Signals are rare; the one publish per
 * signal and one pass over a node's sockets cost nothing next to a group per socket.
 */
import type { ChannelLayer } from '@switchboard/server';

export const USER_SIGNALS_GROUP = 'chat.user-signals';

export interface UserSignalHandlers {
  /** Send `{type: "server_event", event}` to the user's sockets on this node. */
  event(userId: number, event: Record<string, unknown>): void;
  /** Close the user's sockets on this node. */
  disconnect(userId: number, reason: string): void;
}

export class UserSignals {
  #channel: string | undefined;

  constructor(private readonly layer: ChannelLayer) {}

  async listen(handlers: UserSignalHandlers): Promise<void> {
    this.#channel = this.layer.addChannel((message) => {
      const userId = message.user_id;
      if (typeof userId !== 'number') return;
      if (message.type === 'user.event' && isObject(message.event)) handlers.event(userId, message.event);
      if (message.type === 'user.disconnect' && typeof message.reason === 'string')
        handlers.disconnect(userId, message.reason);
    });
    await this.layer.groupAdd(USER_SIGNALS_GROUP, this.#channel);
  }

  event(userId: number, event: Record<string, unknown>): Promise<void> {
    return this.layer.groupSend(USER_SIGNALS_GROUP, { type: 'user.event', user_id: userId, event });
  }

  disconnect(userId: number, reason: string): Promise<void> {
    return this.layer.groupSend(USER_SIGNALS_GROUP, { type: 'user.disconnect', user_id: userId, reason });
  }

  close(): void {
    if (this.#channel) this.layer.removeChannel(this.#channel);
    this.#channel = undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
