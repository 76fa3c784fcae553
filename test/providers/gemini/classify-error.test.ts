import { describe, expect, it } from 'vitest';
import { classifyGoogleError } from '../../../sidecar/providers/gemini/classify-error.js';
import { geminiErrors, googleError, type JsonStep } from '../../support/mock-gemini.js';

const KEY = 'AIzaSyD-test-key-000000000000000000000';
const ctx = { providerId: 'gem', secrets: [KEY] };

function classify(step: JsonStep, headers: Record<string, string> = {}) {
  return classifyGoogleError(step.status, headers, Buffer.from(JSON.stringify(step.json)), ctx);
}

describe('classifyGoogleError', () => {
  it('maps a rejected or missing API key to GW_ERR_UPSTREAM_AUTH without quoting upstream text', () => {
    for (const step of [geminiErrors.invalidKey(), geminiErrors.missingKey()]) {
      expect(classify(step)).toEqual({
        code: 'GW_ERR_UPSTREAM_AUTH',
        status: 502,
        message: 'Provider "gem" rejected the credential configured for it.',
        detail: `http_${step.status}:${(step.json as any).error.status}`,
      });
    }
    const vertex = classify({
      status: 401,
      json: googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'),
    });
    expect(vertex.code).toBe('GW_ERR_UPSTREAM_AUTH');
  });

  it('recognises the input-token-count error as a context-length error', () => {
    expect(classify(geminiErrors.contextTooLong())).toEqual({
      code: 'GW_ERR_UPSTREAM_CONTEXT_LENGTH',
      status: 400,
      message:
        'Provider "gem": The input token count (1054016) exceeds the maximum number of tokens allowed (1048576).',
      detail: 'http_400:INVALID_ARGUMENT',
    });
  });

  it('maps the other Google statuses', () => {
    expect(classify(geminiErrors.rateLimited())).toMatchObject({
      code: 'GW_ERR_UPSTREAM_RATE_LIMITED',
      status: 429,
      retryAfter: '31',
    });
    expect(classify(geminiErrors.rateLimited(), { 'retry-after': '7' }).retryAfter).toBe('7');
    expect(classify(geminiErrors.overloaded())).toMatchObject({
      code: 'GW_ERR_UPSTREAM_OVERLOADED',
      status: 503,
    });
    expect(classify(geminiErrors.internal())).toEqual({
      code: 'GW_ERR_UPSTREAM_ERROR',
      status: 502,
      message: 'Provider "gem" failed with a server error.',
      detail: 'http_500:INTERNAL',
    });
    expect(classify(geminiErrors.notFound('gemini-x'))).toMatchObject({
      code: 'GW_ERR_UPSTREAM_NOT_FOUND',
      status: 404,
    });
    expect(
      classify({
        status: 403,
        json: googleError(403, 'PERMISSION_DENIED', 'Permission denied on resource project p.'),
      }),
    ).toMatchObject({ code: 'GW_ERR_UPSTREAM_PERMISSION', status: 403 });
    expect(
      classify({
        status: 400,
        json: googleError(400, 'INVALID_ARGUMENT', 'Please use a valid role: user, model.'),
      }),
    ).toMatchObject({
      code: 'GW_ERR_UPSTREAM_BAD_REQUEST',
      status: 400,
      message: 'Provider "gem": Please use a valid role: user, model.',
    });
  });

  it('reads the array-wrapped bodies of Vertex streaming endpoints and masks keys in messages', () => {
    const body = Buffer.from(
      JSON.stringify([
        googleError(400, 'INVALID_ARGUMENT', `Consumer 'api_key:${KEY}' bad field x`),
      ]),
    );
    const failure = classifyGoogleError(400, {}, body, ctx);
    expect(failure.code).toBe('GW_ERR_UPSTREAM_AUTH');
    expect(JSON.stringify(failure)).not.toContain(KEY);

    const plain = classifyGoogleError(
      400,
      {},
      Buffer.from(
        JSON.stringify(
          googleError(400, 'INVALID_ARGUMENT', `bad value AIzaSyOTHERKEY0123456789abcdef`),
        ),
      ),
      ctx,
    );
    expect(plain.message).toBe('Provider "gem": bad value ***');
    expect(
      classifyGoogleError(502, {}, Buffer.from('<html>Bad Gateway</html>'), ctx),
    ).toMatchObject({
      code: 'GW_ERR_UPSTREAM_ERROR',
      status: 502,
    });
  });
});
