import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { anthropicErrors as errors, startMockAnthropic } from '../support/mock-anthropic.js';
import type { JsonStep } from '../support/mock-openai.js';
import { startTestSidecar } from '../support/sidecar.js';
import { anthropicPolicy, startHarness, type Harness } from '../providers/anthropic/harness.js';
import { itConforms } from '../support/conformance.js';

// Anthropic's error answers (https://docs.anthropic.com/en/api/errors) reach the client as
// OpenAI errors with a stable code and the right status, streamed (nothing was committed)
// and not, with exactly one upstream call each.

const ask = { model: 'claude-x', messages: [{ role: 'user', content: 'hi' }] };

describe.each([false, true])('Anthropic errors (stream %s)', (stream) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());
  afterEach(() => expect(h.mock.pending()).toBe(0));

  async function call(step: JsonStep) {
    h.mock.script(step);
    const before = h.mock.requests.length;
    let result: { status: number; headers: Record<string, string | null>; error: any };
    if (stream) {
      const res = await h.stream(ask);
      result = { status: res.status, headers: res.headers, error: JSON.parse(res.raw).error };
    } else {
      const res = await h.post(ask);
      const headers = { 'retry-after': res.headers.get('retry-after') };
      result = { status: res.status, headers, error: res.json.error };
    }
    expect(h.mock.requests.length - before).toBe(1);
    return result;
  }

  // The 429 comes last: its Retry-After rests the endpoint for the rest of this suite.
  itConforms.each([
    ['invalid_request_error', 400, 'GW_ERR_UPSTREAM_BAD_REQUEST', errors.invalidRequest('bad')],
    ['"prompt is too long"', 400, 'GW_ERR_UPSTREAM_CONTEXT_LENGTH', errors.promptTooLong()],
    ['authentication_error', 502, 'GW_ERR_UPSTREAM_AUTH', errors.authentication()],
    ['permission_error', 403, 'GW_ERR_UPSTREAM_PERMISSION', errors.permission()],
    ['not_found_error', 404, 'GW_ERR_UPSTREAM_NOT_FOUND', errors.notFound('claude-x')],
    ['api_error', 502, 'GW_ERR_UPSTREAM_ERROR', errors.apiError()],
    ['overloaded_error (529)', 503, 'GW_ERR_UPSTREAM_OVERLOADED', errors.overloaded()],
    ['rate_limit_error', 429, 'GW_ERR_UPSTREAM_RATE_LIMITED', errors.rateLimited(7)],
  ] as const)('maps %s to HTTP %i %s', async (_, status, code, step) => {
    const { status: got, error, headers } = await call(step);
    expect(got).toBe(status);
    expect(error.code).toBe(code);
    if (code === 'GW_ERR_UPSTREAM_RATE_LIMITED') expect(headers['retry-after']).toBe('7');
    if (code !== 'GW_ERR_UPSTREAM_AUTH') {
      // The provider's own words, minus anything secret, help the caller fix the request.
      expect(error.message).toContain((step.json as any).error.message.slice(0, 20));
    }
  });
});

it('a wrong provider key is a 502 GW_ERR_UPSTREAM_AUTH that quotes no key', async () => {
  const mock = await startMockAnthropic({ apiKey: 'sk-ant-the-right-one' });
  const sidecar = await startTestSidecar(anthropicPolicy(mock.url));
  try {
    const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ask),
    });
    const json = await res.json();
    expect(res.status).toBe(502);
    expect(json.error.code).toBe('GW_ERR_UPSTREAM_AUTH');
    expect(mock.requests).toHaveLength(1);
  } finally {
    await sidecar.stop();
    await mock.close();
  }
});

itConforms(
  'refuses OpenAI features Anthropic cannot honour with a 400 and no upstream call',
  async () => {
    const h = await startHarness();
    try {
      for (const [extra, param] of [
        [{ n: 2 }, 'n'],
        [{ logprobs: true }, 'logprobs'],
        [{ temperature: 1.5 }, 'temperature'],
        [{ presence_penalty: 0.5 }, 'presence_penalty'],
        [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
        [{ response_format: { type: 'json_object' } }, 'response_format.type'],
        [{ reasoning_effort: 'medium', temperature: 0.2 }, 'temperature'],
        [{ reasoning_effort: 'medium', max_tokens: 1000 }, 'max_completion_tokens'],
      ] as const) {
        const res = await h.post({ ...ask, ...extra });
        expect(res.status, JSON.stringify(extra)).toBe(400);
        expect(res.json.error).toMatchObject({ code: 'GW_ERR_REQ_UNSUPPORTED_PARAM', param });
      }
      const res = await h.post({
        ...ask,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAAAAAAAAAAAAAA' } },
            ],
          },
        ],
      });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({
        code: 'GW_ERR_REQ_INVALID_FIELD',
        param: 'messages[0].content[0].image_url.url',
      });
      expect(h.mock.requests).toHaveLength(0);
    } finally {
      await h.stop();
    }
  },
);
