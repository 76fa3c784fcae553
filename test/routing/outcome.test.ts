import { describe, expect, it } from 'vitest';
import { readRetryAfterMs } from '../../sidecar/health/rate-limit-headers.js';
import { decide, retryAfterMs } from '../../sidecar/routing/outcome.js';

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);

describe('retryAfterMs (how long a circuit holds for a Retry-After)', () => {
  it.each([
    ['30', 30_000],
    [' 7 ', 7_000],
    ['1.5', 1_500],
    ['Fri, 04 Dec 2026 12:00:20 GMT', 20_000],
    ['Friday, 04-Dec-26 12:00:05 GMT', 5_000],
    ['Fri Dec  4 12:00:09 2026', 9_000],
    ['Fri, 04 Dec 2026 11:00:00 GMT', 0],
  ])('reads %j as %d ms', (value, ms) => {
    expect(retryAfterMs(value, NOW)).toBe(ms);
  });

  it.each([[undefined], [''], ['soon'], ['-5'], ['2026-12-04T12:00:20Z']])(
    'reads %j as nothing',
    (value) => {
      expect(retryAfterMs(value, NOW)).toBeUndefined();
    },
  );

  it('agrees with the health table on every value above', () => {
    for (const value of [
      '30',
      '1.5',
      'Fri, 04 Dec 2026 12:00:20 GMT',
      'soon',
      '2026-12-04T12:00:20Z',
    ]) {
      expect(retryAfterMs(value, NOW)).toBe(readRetryAfterMs({ 'retry-after': value }, NOW));
    }
  });
});

describe('decide', () => {
  it('never fails over a request the sidecar could not send (GW_ERR_INTERNAL)', () => {
    const failure = {
      code: 'GW_ERR_INTERNAL' as const,
      status: 500,
      message: 'x',
      detail: 'request_refused:UND_ERR_INVALID_ARG:invalid authorization header',
    };
    expect(decide(failure).kind).toBe('return');
    expect(decide(failure, new Set([500])).kind).toBe('return');
  });

  it('fails over an answer cut off before the client saw any of it', () => {
    const failure = {
      code: 'GW_ERR_UPSTREAM_BAD_RESPONSE' as const,
      status: 502,
      message: 'x',
      detail: 'answer_cut:UND_ERR_SOCKET',
    };
    expect(decide(failure)).toEqual({ kind: 'next', reason: 'answer_cut:UND_ERR_SOCKET' });
  });
});
