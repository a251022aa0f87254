import { CloseCode } from '@switchboard/protocol/codes';
import { describe, expect, it } from 'vitest';
import { closeAction } from '../src/close-policy.ts';

describe('close policy', () => {
  it('stops on 1000, fails on 4400/4403/4404, refreshes the token on 4401, retries the rest', () => {
    expect(closeAction(CloseCode.NORMAL)).toBe('stop');
    expect(closeAction(CloseCode.INVALID_REQUEST)).toBe('fail');
    expect(closeAction(CloseCode.FORBIDDEN)).toBe('fail');
    expect(closeAction(CloseCode.NOT_FOUND)).toBe('fail');
    expect(closeAction(CloseCode.UNAUTHORIZED)).toBe('refresh-token');
    for (const code of [1001, 1006, 1009, 1011, 1012, 1013, 4408, 4429])
      expect(closeAction(code)).toBe('retry');
  });
});
