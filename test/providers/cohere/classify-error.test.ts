import { describe, expect, it } from 'vitest';
import { classifyCohereError } from '../../../sidecar/providers/cohere/classify-error.js';
import { cohereErrors } from '../../support/mock-cohere.js';
import type { JsonStep } from '../../support/mock-openai.js';

const SECRET = 'co-live-abcdef123456';
const ctx = { providerId: 'co', secrets: [SECRET] };

function classify(step: JsonStep) {
  const body = Buffer.from(JSON.stringify(step.json));
  return classifyCohereError(step.status, step.headers ?? {}, body, ctx);
}

describe('classifyCohereError', () => {
  it.each([
    ['a refused key', 'GW_ERR_UPSTREAM_AUTH', 502, cohereErrors.invalidToken()],
    ['a billing limit (402)', 'GW_ERR_UPSTREAM_RATE_LIMITED', 429, cohereErrors.paymentRequired()],
    ['an unknown model', 'GW_ERR_UPSTREAM_NOT_FOUND', 404, cohereErrors.modelNotFound('command-x')],
    ['a rate limit', 'GW_ERR_UPSTREAM_RATE_LIMITED', 429, cohereErrors.rateLimited(3)],
    ['a cancelled request (499)', 'GW_ERR_UPSTREAM_ERROR', 502, cohereErrors.requestCancelled()],
    ['a server error', 'GW_ERR_UPSTREAM_ERROR', 502, cohereErrors.internal()],
    ['an unavailable service', 'GW_ERR_UPSTREAM_OVERLOADED', 503, cohereErrors.unavailable()],
    ['a gateway timeout', 'GW_ERR_UPSTREAM_TIMEOUT', 504, cohereErrors.gatewayTimeout()],
    [
      'an over-long prompt (G21)',
      'GW_ERR_UPSTREAM_CONTEXT_LENGTH',
      400,
      cohereErrors.promptTooLong(),
    ],
    [
      'a max_tokens above the model limit',
      'GW_ERR_UPSTREAM_BAD_REQUEST',
      400,
      cohereErrors.maxTokensTooLarge(),
    ],
  ])('maps %s to %s %i', (_, code, status, step) => {
    expect(classify(step)).toMatchObject({
      code,
      status,
      detail: `http_${step.status}`,
      upstreamStatus: step.status,
    });
  });

  it.each([403, 422, 498, 501])('maps %i without a body to a safe message', (status) => {
    const out = classifyCohereError(status, {}, Buffer.from('<html>oops</html>'), ctx);
    expect(out.message).toBe(`Provider "co" answered HTTP ${status}.`);
    expect(out.status).toBe(status === 403 ? 403 : 400);
  });

  it('passes Retry-After on for a rate limit', () => {
    expect(classify(cohereErrors.rateLimited(3)).retryAfter).toBe('3');
  });

  it('never repeats the upstream text of a credential failure, nor a key in any message', () => {
    const auth = classifyCohereError(
      401,
      {},
      Buffer.from(`{"message":"invalid api token ${SECRET}"}`),
      ctx,
    );
    expect(auth.message).toBe('Provider "co" rejected the credential configured for it.');
    const bad = classifyCohereError(
      400,
      {},
      Buffer.from(`{"message":"bad key ${SECRET} here"}`),
      ctx,
    );
    expect(bad.message).not.toContain(SECRET);
    expect(bad.message).toContain('bad key');
  });
});
