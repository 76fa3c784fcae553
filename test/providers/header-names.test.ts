import { describe, expect, it } from 'vitest';
import { headerName } from '../../sidecar/providers/header-names.js';

describe('reading a response header name', () => {
  it('lower-cases a common name however it is spelled, as one shared string', () => {
    expect(headerName(Buffer.from('X-Request-Id'))).toBe('x-request-id');
    expect(headerName(Buffer.from('CONTENT-TYPE'))).toBe('content-type');
    expect(headerName(Buffer.from('x-ratelimit-remaining-tokens'))).toBe(
      'x-ratelimit-remaining-tokens',
    );
  });

  it('lower-cases a name it does not know', () => {
    expect(headerName(Buffer.from('X-Custom-Thing'))).toBe('x-custom-thing');
    // The length of a common name, one letter off.
    expect(headerName(Buffer.from('X-Request-Ie'))).toBe('x-request-ie');
  });

  it('folds only letters: other bytes 0x20 apart are other names', () => {
    // '[' + 0x20 is '{'; '@' + 0x20 is '`': neither is a letter.
    expect(headerName(Buffer.from('vi['))).toBe('vi[');
    expect(headerName(Buffer.from('D@te'))).toBe('d@te');
    expect(headerName(Buffer.from('dat\u00c5', 'latin1'))).toBe('dat\u00e5');
  });
});
