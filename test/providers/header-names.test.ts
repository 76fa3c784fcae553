import { describe, expect, it } from 'vitest';
import { RATE_LIMIT_HEADER_NAMES } from '../../sidecar/health/rate-limit-headers.js';
import {
  answerHeaderName,
  headerName,
  REQUEST_ID_HEADERS,
} from '../../sidecar/providers/header-names.js';

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

describe('reading an answer header name', () => {
  it('knows every name the rate-limit reader and the request-id reader look for', () => {
    // The transport keeps only these on a 2xx: one missing here would be read as absent.
    for (const name of [...RATE_LIMIT_HEADER_NAMES, ...REQUEST_ID_HEADERS]) {
      expect(answerHeaderName(Buffer.from(name))).toBe(name);
      expect(answerHeaderName(Buffer.from(name.toUpperCase()))).toBe(name);
    }
    expect(RATE_LIMIT_HEADER_NAMES).toContain('x-ratelimit-reset-tokens');
    expect(RATE_LIMIT_HEADER_NAMES).toContain('anthropic-ratelimit-output-tokens-remaining');
  });

  it('knows the content type, which says whether a streamed answer is a stream', () => {
    expect(answerHeaderName(Buffer.from('Content-Type'))).toBe('content-type');
    expect(answerHeaderName(Buffer.from('content-type'))).toBe('content-type');
  });

  it('skips the names no answer reader wants', () => {
    expect(answerHeaderName(Buffer.from('Content-Length'))).toBeUndefined();
    expect(answerHeaderName(Buffer.from('set-cookie'))).toBeUndefined();
    expect(answerHeaderName(Buffer.from('x-request-ie'))).toBeUndefined();
  });
});
