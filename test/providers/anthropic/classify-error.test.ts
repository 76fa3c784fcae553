import { describe, expect, it } from 'vitest';
import {
  classifyAnthropicError,
  classifyAnthropicStreamError,
} from '../../../sidecar/providers/anthropic/classify-error.js';

const ctx = { providerId: 'anthropic', secrets: ['sk-ant-api03-SECRETSECRET'] };
const body = (type: string, message: string) =>
  Buffer.from(JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_1' }));

describe('classifyAnthropicError', () => {
  it.each([
    [
      400,
      'invalid_request_error',
      'max_tokens: Field required',
      'GW_ERR_UPSTREAM_BAD_REQUEST',
      400,
    ],
    [
      400,
      'invalid_request_error',
      'prompt is too long: 210000 tokens > 200000 maximum',
      'GW_ERR_UPSTREAM_CONTEXT_LENGTH',
      400,
    ],
    [
      400,
      'invalid_request_error',
      'input length and `max_tokens` exceed context limit: 199759 + 8192 > 200000, ' +
        'decrease input length or `max_tokens` and try again',
      'GW_ERR_UPSTREAM_CONTEXT_LENGTH',
      400,
    ],
    [401, 'authentication_error', 'invalid x-api-key', 'GW_ERR_UPSTREAM_AUTH', 502],
    [402, 'billing_error', 'Your credit balance is too low', 'GW_ERR_UPSTREAM_PERMISSION', 403],
    [403, 'permission_error', 'no access', 'GW_ERR_UPSTREAM_PERMISSION', 403],
    [404, 'not_found_error', 'model: claude-nope', 'GW_ERR_UPSTREAM_NOT_FOUND', 404],
    [
      413,
      'request_too_large',
      'Request exceeds the maximum allowed number of bytes.',
      'GW_ERR_UPSTREAM_BAD_REQUEST',
      413,
    ],
    [429, 'rate_limit_error', 'slow down', 'GW_ERR_UPSTREAM_RATE_LIMITED', 429],
    [500, 'api_error', 'Internal server error', 'GW_ERR_UPSTREAM_ERROR', 502],
    [504, 'timeout_error', 'Request timed out', 'GW_ERR_UPSTREAM_TIMEOUT', 504],
    [529, 'overloaded_error', 'Overloaded', 'GW_ERR_UPSTREAM_OVERLOADED', 503],
  ])('HTTP %i %s is %s (%i)', (status, type, message, code, clientStatus) => {
    const failure = classifyAnthropicError(status, {}, body(type, message), ctx);
    expect(failure).toMatchObject({ code, status: clientStatus, upstreamStatus: status });
    expect(failure.detail).toBe(`http_${status}:${type}`);
  });

  it('keeps Retry-After from a 429 and a 529', () => {
    const headers = { 'retry-after': '12' };
    expect(
      classifyAnthropicError(429, headers, body('rate_limit_error', 'x'), ctx).retryAfter,
    ).toBe('12');
    expect(
      classifyAnthropicError(529, headers, body('overloaded_error', 'x'), ctx).retryAfter,
    ).toBe('12');
  });

  it('quotes the provider message with keys masked, but never on a 401', () => {
    const leaky = body('invalid_request_error', 'bad key sk-ant-api03-SECRETSECRET in header');
    const failure = classifyAnthropicError(400, {}, leaky, ctx);
    expect(failure.message).toContain('bad key');
    expect(failure.message).not.toContain('SECRETSECRET');
    const auth = classifyAnthropicError(
      401,
      {},
      body('authentication_error', 'sk-ant-api03-SECRETSECRET'),
      ctx,
    );
    expect(auth.message).toBe('Provider "anthropic" rejected the credential configured for it.');
  });

  it('copes with a body that is not Anthropic JSON (a proxy page)', () => {
    const failure = classifyAnthropicError(502, {}, Buffer.from('<html>Bad gateway</html>'), ctx);
    expect(failure).toMatchObject({ code: 'GW_ERR_UPSTREAM_ERROR', status: 502 });
    expect(failure.message).toBe('Provider "anthropic" answered HTTP 502.');
  });
});

describe('classifyAnthropicStreamError', () => {
  it.each([
    ['overloaded_error', 'GW_ERR_UPSTREAM_OVERLOADED', 503],
    ['rate_limit_error', 'GW_ERR_UPSTREAM_RATE_LIMITED', 429],
    ['invalid_request_error', 'GW_ERR_UPSTREAM_BAD_REQUEST', 400],
    ['api_error', 'GW_ERR_UPSTREAM_ERROR', 502],
    ['something_new', 'GW_ERR_STREAM_UPSTREAM_ERROR', 502],
  ])('%s is %s (%i), as the same error outside a stream', (type, code, status) => {
    const failure = classifyAnthropicStreamError(
      { type: 'error', error: { type, message: 'm' } },
      ctx,
    );
    expect(failure).toMatchObject({ code, status });
    expect(failure.message).toContain(': m');
  });
});
