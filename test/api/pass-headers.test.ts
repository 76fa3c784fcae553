import { describe, expect, it } from 'vitest';
import { readPassHeaders } from '../../sidecar/api/pass-headers.js';
import { GatewayError } from '../../sidecar/errors.js';

describe('readPassHeaders', () => {
  it('forwards only x-pass-* headers, without the prefix', () => {
    const headers = new Map([
      ['authorization', 'Bearer sk-gw-own'],
      ['x-pass-authorization', 'Bearer upstream'],
      ['x-pass-openai-organization', 'org-1'],
      ['cookie', 's=1'],
    ]);
    expect(readPassHeaders(headers)).toEqual([
      ['authorization', 'Bearer upstream'],
      ['openai-organization', 'org-1'],
    ]);
  });

  it('never relays hop-by-hop or framing headers, even when asked to', () => {
    const headers = new Map([
      ['x-pass-connection', 'close'],
      ['x-pass-transfer-encoding', 'chunked'],
      ['x-pass-host', 'evil.example'],
      ['x-pass-content-length', '1'],
      ['x-pass-', 'empty name'],
    ]);
    expect(readPassHeaders(headers)).toEqual([]);
  });

  it('never relays accept-encoding: the sidecar reads answers it cannot decode', () => {
    const headers = new Map([['x-pass-accept-encoding', 'gzip, br']]);
    expect(readPassHeaders(headers)).toEqual([]);
  });

  it.each(['a\r\nX-Injected: 1', 'a\nb', 'a\u0000b'])(
    'rejects %j with GW_ERR_REQ_BAD_HEADER',
    (value) => {
      const headers = new Map([['x-pass-x-note', value]]);
      const err = (() => {
        try {
          readPassHeaders(headers);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).code).toBe('GW_ERR_REQ_BAD_HEADER');
      expect((err as GatewayError).status).toBe(400);
    },
  );
});
