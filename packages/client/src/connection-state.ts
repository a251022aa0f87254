/** The lifecycle of a connection, as the UI sees it. A new object on every change. */
export type ConnectionState =
  /** Not connected: before `connect()`, after `close()`, or after the server closed with 1000. */
  | { status: 'closed'; code?: number; reason?: string }
  /** A socket is being opened (or is open and still replaying what was missed). */
  | { status: 'connecting'; attempt: number }
  | { status: 'open' }
  /**
   * The connection dropped and another attempt is scheduled at `nextAttemptAt` (epoch ms), or,
   * when that is null, as soon as the browser reports the network is back.
   */
  | { status: 'reconnecting'; attempt: number; nextAttemptAt: number | null; code: number; reason: string }
  /** Given up: a final close code (4403, 4404), a refused token refresh, or too many attempts. */
  | { status: 'failed'; code: number; reason: string };

export type ConnectionStatus = ConnectionState['status'];
