/**
 * What a close code means for the next step. The protocol's FINAL_CLOSE_CODES are never retried
 * (1000 ends quietly, 4403/4404 are failures); 4401 earns one token refresh; everything else
 * (1001 going away, 1006 dropped, 1012 restart, 1013 slow consumer, 4408 idle, 4429 rate
 * limited, ...) is retried with backoff.
 *
 * The codes are restated here rather than imported because @switchboard/protocol/envelope also
 * builds zod schemas, which would put zod (~90 KB gzip) into the browser bundle. The values are
 * checked against the protocol's by the compiler, and the final set by test/close-policy.test.ts.
 */
import type { CloseCode as ProtocolCloseCode } from '@switchboard/protocol/envelope';

type ProtocolCodes = typeof import('@switchboard/protocol/envelope').CloseCode;

export const CloseCode = {
  NORMAL: 1000,
  UNAUTHORIZED: 4401,
  FORBIDDEN: 4403,
  NOT_FOUND: 4404,
} as const satisfies Pick<ProtocolCodes, 'NORMAL' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND'>;

/** Mirrors the protocol's FINAL_CLOSE_CODES: after these the client never reconnects on its own. */
export const FINAL_CLOSE_CODES: ReadonlySet<ProtocolCloseCode> = new Set([
  CloseCode.NORMAL,
  CloseCode.FORBIDDEN,
  CloseCode.NOT_FOUND,
]);

export type CloseAction = 'stop' | 'fail' | 'refresh-token' | 'retry';

export function closeAction(code: number): CloseAction {
  if (code === CloseCode.NORMAL) return 'stop';
  if (code === CloseCode.UNAUTHORIZED) return 'refresh-token';
  if (FINAL_CLOSE_CODES.has(code as ProtocolCloseCode)) return 'fail';
  return 'retry';
}

/** Close code the client uses when it drops a socket itself (offline, dead peer); never sent by servers. */
export const CLIENT_DROP_CODE = 4000;
