/**
 * What a close code means for the next step. The protocol's FINAL_CLOSE_CODES are never retried
 * (1000 ends quietly, 4403/4404 are failures); 4401 earns one token refresh; everything else
 * (1001 going away, 1006 dropped, 1012 restart, 1013 slow consumer, 4408 idle, 4429 rate
 * limited, ...) is retried with backoff.
 */
import { CloseCode, FINAL_CLOSE_CODES } from '@switchboard/protocol/codes';

export { CloseCode, FINAL_CLOSE_CODES };

export type CloseAction = 'stop' | 'fail' | 'refresh-token' | 'retry';

export function closeAction(code: number): CloseAction {
  if (code === CloseCode.NORMAL) return 'stop';
  if (code === CloseCode.UNAUTHORIZED) return 'refresh-token';
  if (FINAL_CLOSE_CODES.has(code)) return 'fail';
  return 'retry';
}

/** Close code the client uses when it drops a socket itself (offline, dead peer); never sent by servers. */
export const CLIENT_DROP_CODE = 4000;
