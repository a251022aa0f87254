import {
  FINAL_CLOSE_CODES as PROTOCOL_FINAL,
  CloseCode as ProtocolCloseCode,
} from '@switchboard/protocol/envelope';
import { describe, expect, it } from 'vitest';
import { closeAction, FINAL_CLOSE_CODES } from '../src/close-policy.ts';

describe('close policy', () => {
  it("restates exactly the protocol's final close codes", () => {
    expect([...FINAL_CLOSE_CODES].sort()).toEqual([...PROTOCOL_FINAL].sort());
  });

  it('stops on 1000, fails on 4403/4404, refreshes the token on 4401, retries the rest', () => {
    expect(closeAction(ProtocolCloseCode.NORMAL)).toBe('stop');
    expect(closeAction(ProtocolCloseCode.FORBIDDEN)).toBe('fail');
    expect(closeAction(ProtocolCloseCode.NOT_FOUND)).toBe('fail');
    expect(closeAction(ProtocolCloseCode.UNAUTHORIZED)).toBe('refresh-token');
    for (const code of [1001, 1006, 1009, 1011, 1012, 1013, 4408, 4429])
      expect(closeAction(code)).toBe('retry');
  });
});
