import { describe, expect, it } from 'vitest';
import {
  goDurationMs,
  httpDateEpochMs,
  parseRateLimitHeaders,
  readRetryAfterMs,
} from '../../sidecar/health/rate-limit-headers.js';

const NOW = Date.UTC(2025, 7, 21, 12, 40, 58, 500); // 2025-08-21T12:40:58.500Z

describe('OpenAI x-ratelimit-* headers', () => {
  it('reads remaining, limit and the Go-duration reset for requests and tokens', () => {
    const info = parseRateLimitHeaders(
      {
        'x-ratelimit-limit-requests': '60',
        'x-ratelimit-limit-tokens': '150000',
        'x-ratelimit-remaining-requests': '59',
        'x-ratelimit-remaining-tokens': '149984',
        'x-ratelimit-reset-requests': '1s',
        'x-ratelimit-reset-tokens': '6m0s',
      },
      NOW,
    );
    expect(info).toEqual({
      requestsRemaining: 59,
      requestsLimit: 60,
      requestsResetMs: 1000,
      tokensRemaining: 149984,
      tokensLimit: 150000,
      tokensResetMs: 360_000,
    });
  });

  it.each([
    ['20ms', 20],
    ['1s', 1000],
    ['6m0s', 360_000],
    ['1.5s', 1500],
    ['23h47m36.648s', 85_656_648],
    ['0s', 0],
    ['250us', 0.25],
    ['250µs', 0.25],
    ['7', 7000], // bare seconds, as some OpenAI-compatible servers send
  ])('parses the reset %s as %d ms', (text, ms) => {
    expect(goDurationMs(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', 's', '1x', '1s junk', '-1s', '1 s'])('rejects the reset %j', (text) => {
    expect(goDurationMs(text)).toBeUndefined();
  });

  it('ignores values it cannot read, such as the -1 Azure sends for an unreported limit', () => {
    const info = parseRateLimitHeaders(
      {
        'x-ratelimit-limit-tokens': '-1',
        'x-ratelimit-remaining-tokens': '-1',
        'x-ratelimit-reset-tokens': '0',
        'x-ratelimit-remaining-requests': 'many',
      },
      NOW,
    );
    expect(info).toEqual({ tokensResetMs: 0 });
  });

  it('takes the first of repeated headers and trims whitespace', () => {
    const info = parseRateLimitHeaders(
      { 'x-ratelimit-remaining-requests': [' 5 ', '9'], 'x-ratelimit-limit-requests': '10' },
      NOW,
    );
    expect(info).toEqual({ requestsRemaining: 5, requestsLimit: 10 });
  });
});

describe('Anthropic anthropic-ratelimit-* headers', () => {
  const headers = {
    'anthropic-ratelimit-requests-limit': '1000',
    'anthropic-ratelimit-requests-remaining': '999',
    'anthropic-ratelimit-requests-reset': '2025-08-21T12:40:59Z',
    'anthropic-ratelimit-tokens-limit': '96000',
    'anthropic-ratelimit-tokens-remaining': '90000',
    'anthropic-ratelimit-tokens-reset': '2025-08-21T12:40:59Z',
    'anthropic-ratelimit-input-tokens-limit': '80000',
    'anthropic-ratelimit-input-tokens-remaining': '79000',
    'anthropic-ratelimit-input-tokens-reset': '2025-08-21T12:40:59Z',
    'anthropic-ratelimit-output-tokens-limit': '16000',
    'anthropic-ratelimit-output-tokens-remaining': '4000',
    'anthropic-ratelimit-output-tokens-reset': '2025-08-21T12:41:13.5Z',
  };

  it('reads the requests budget and the tightest token budget, resets relative to now', () => {
    expect(parseRateLimitHeaders(headers, NOW)).toEqual({
      requestsRemaining: 999,
      requestsLimit: 1000,
      requestsResetMs: 500,
      tokensRemaining: 4000, // output tokens: 25% left, against 94% and 99%
      tokensLimit: 16000,
      tokensResetMs: 15_000,
    });
  });

  it('reads a reset with a numeric offset, and one already past as 0', () => {
    const info = parseRateLimitHeaders(
      {
        'anthropic-ratelimit-requests-reset': '2025-08-21T14:41:00+02:00',
        'anthropic-ratelimit-tokens-reset': '2025-08-21T12:00:00Z',
      },
      NOW,
    );
    expect(info).toEqual({ requestsResetMs: 1500, tokensResetMs: 0 });
  });

  it('ignores a reset that is not RFC 3339', () => {
    const info = parseRateLimitHeaders(
      { 'anthropic-ratelimit-requests-reset': 'Thu, 21 Aug 2025 12:41:00 GMT' },
      NOW,
    );
    expect(info).toBeUndefined();
  });
});

describe('Retry-After', () => {
  it('reads delay-seconds', () => {
    expect(parseRateLimitHeaders({ 'retry-after': '30' }, NOW)).toEqual({ retryAfterMs: 30_000 });
    expect(readRetryAfterMs({ 'retry-after': '0.5' }, NOW)).toBe(500);
  });

  it('reads an HTTP-date in each of the three RFC 9110 forms', () => {
    const at = Date.UTC(2025, 7, 21, 12, 41, 8);
    expect(httpDateEpochMs('Thu, 21 Aug 2025 12:41:08 GMT', NOW)).toBe(at);
    expect(httpDateEpochMs('Thursday, 21-Aug-25 12:41:08 GMT', NOW)).toBe(at);
    expect(httpDateEpochMs('Thu Aug 21 12:41:08 2025', NOW)).toBe(at);
    expect(httpDateEpochMs('Sun Nov  6 08:49:37 1994', NOW)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(readRetryAfterMs({ 'retry-after': 'Thu, 21 Aug 2025 12:41:08 GMT' }, NOW)).toBe(9500);
  });

  it('places a two-digit year no more than 50 years ahead', () => {
    expect(httpDateEpochMs('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(
      Date.UTC(1994, 10, 6, 8, 49, 37),
    );
    expect(httpDateEpochMs('Monday, 06-Nov-69 08:49:37 GMT', NOW)).toBe(
      Date.UTC(2069, 10, 6, 8, 49, 37),
    );
  });

  it('treats a date in the past as no wait, and ignores what it cannot read', () => {
    expect(readRetryAfterMs({ 'retry-after': 'Thu, 21 Aug 2025 12:00:00 GMT' }, NOW)).toBe(0);
    expect(readRetryAfterMs({ 'retry-after': 'soon' }, NOW)).toBeUndefined();
    expect(readRetryAfterMs({ 'retry-after': '-5' }, NOW)).toBeUndefined();
    expect(readRetryAfterMs({ 'retry-after': '2025-08-21T12:41:08Z' }, NOW)).toBeUndefined();
  });

  it('prefers retry-after-ms when both are present', () => {
    const headers = { 'retry-after-ms': '1234.5', 'retry-after': '2' };
    expect(parseRateLimitHeaders(headers, NOW)).toEqual({ retryAfterMs: 1234.5 });
    expect(readRetryAfterMs({ 'retry-after-ms': 'x', 'retry-after': '2' }, NOW)).toBe(2000);
  });
});

describe('responses without rate-limit headers', () => {
  it('yield undefined, so that nothing is allocated for them', () => {
    expect(parseRateLimitHeaders({ 'content-type': 'application/json' }, NOW)).toBeUndefined();
    expect(parseRateLimitHeaders({}, NOW)).toBeUndefined();
  });
});
