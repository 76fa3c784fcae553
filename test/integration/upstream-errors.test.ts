import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiErrors, startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { assertConforms, specAvailable } from '../support/openapi.js';
import {
  PROVIDER_SECRET,
  startTestSidecar,
  testPolicy,
  type TestSidecar,
} from '../support/sidecar.js';

interface Seen {
  status: number;
  headers: Headers;
  error: { message: string; type: string; code: string; param: string | null };
}

describe('provider failures reach the client as OpenAI errors with the right status', () => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;

  async function call(body: object = {}): Promise<Seen> {
    const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'hi' }],
        ...body,
      }),
    });
    const json = await res.json();
    if (specAvailable) assertConforms('ErrorResponse', json);
    expect(JSON.stringify(json)).not.toContain(PROVIDER_SECRET);
    return { status: res.status, headers: res.headers, error: json.error };
  }

  beforeAll(async () => {
    mock = await startMockOpenAI();
    sidecar = await startTestSidecar(
      testPolicy({ upstream: mock.url, limits: { firstByteTimeoutMs: 300 } }),
    );
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  it('reports a refused provider credential as a gateway fault, without quoting the key', async () => {
    mock.script(openaiErrors.invalidApiKey(PROVIDER_SECRET));
    const seen = await call();
    expect(seen.status).toBe(502);
    expect(seen.error.code).toBe('GW_ERR_UPSTREAM_AUTH');
    expect(seen.error.message).not.toContain(PROVIDER_SECRET.slice(0, 8));
    expect(JSON.stringify(sidecar.logs)).not.toContain(PROVIDER_SECRET.slice(-4) + '"');
  });

  it('answers a provider redirect with 502, without following it or blaming the client', async () => {
    const elsewhere = await startMockOpenAI();
    try {
      for (const status of [301, 302, 307, 308]) {
        mock.script({
          status,
          headers: { location: `${elsewhere.url}/chat/completions` },
          json: { moved: true },
        });
        const seen = await call();
        expect(seen.status, String(status)).toBe(502);
        expect(seen.error.code).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
        expect(seen.error.message).toBe(
          `Provider "up" answered with a redirect (HTTP ${status}), which the sidecar does not ` +
            'follow: check its base_url.',
        );
      }
      // The credential never went where the redirects pointed.
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('G21: recognises a context-length error, OpenAI wording and sglang wording alike', async () => {
    mock.script(openaiErrors.contextLengthExceeded(8192, 9000));
    const openai = await call();
    expect(openai.status).toBe(400);
    expect(openai.error).toMatchObject({
      code: 'GW_ERR_UPSTREAM_CONTEXT_LENGTH',
      param: 'messages',
    });

    mock.script({
      status: 400,
      json: {
        error: {
          message:
            "The input (9000 tokens) is longer than the model's context length (8192 tokens).",
          type: 'BadRequestError',
          code: 400,
        },
      },
    });
    const sglang = await call();
    expect(sglang.status).toBe(400);
    expect(sglang.error.code).toBe('GW_ERR_UPSTREAM_CONTEXT_LENGTH');
  });

  it('passes an invalid-request message and param through from the provider', async () => {
    mock.script({
      status: 400,
      json: {
        error: {
          message:
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
          type: 'invalid_request_error',
          param: 'max_tokens',
          code: 'unsupported_parameter',
        },
      },
    });
    const seen = await call({ model: 'o3-mini', max_tokens: 50 });
    expect(seen.status).toBe(400);
    expect(seen.error).toMatchObject({ code: 'GW_ERR_UPSTREAM_BAD_REQUEST', param: 'max_tokens' });
    expect(seen.error.message).toContain('max_completion_tokens');
  });

  it.each([
    [openaiErrors.serverError(), 502, 'GW_ERR_UPSTREAM_ERROR'],
    [openaiErrors.overloaded(), 503, 'GW_ERR_UPSTREAM_OVERLOADED'],
    [openaiErrors.modelNotFound('gpt-9'), 404, 'GW_ERR_UPSTREAM_NOT_FOUND'],
    [{ status: 502, body: '<html>Bad Gateway</html>' }, 502, 'GW_ERR_UPSTREAM_ERROR'],
    [{ status: 200, body: '{"choices": [' }, 502, 'GW_ERR_UPSTREAM_BAD_RESPONSE'],
  ])('maps %j to %i %s', async (step, status, code) => {
    mock.script(step);
    const seen = await call();
    expect(seen.status).toBe(status);
    expect(seen.error.code).toBe(code);
    expect(seen.error.message).not.toContain('<html>');
  });

  it('gives up on a provider that sends no first byte in time with 504', async () => {
    mock.script({ hangBeforeHeaders: true });
    const started = Date.now();
    const seen = await call();
    expect(seen.status).toBe(504);
    expect(seen.error.code).toBe('GW_ERR_UPSTREAM_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(sidecar.logs.at(-1)).toMatchObject({ status: 504, error_detail: 'FIRST_BYTE_TIMEOUT' });
  });

  it('reports an unreachable provider with 502', async () => {
    const closed = await startMockOpenAI();
    await closed.close();
    const other = await startTestSidecar(testPolicy({ upstream: closed.url }));
    try {
      const client = new OpenAI({ apiKey: 'x', baseURL: `${other.url}/v1`, maxRetries: 0 });
      const err = await client.chat.completions
        .create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe(
        'GW_ERR_UPSTREAM_UNREACHABLE',
      );
    } finally {
      await other.stop();
    }
  });
});

describe('a single-endpoint model whose provider answers 429 with Retry-After', () => {
  it('passes each 429 on with its Retry-After: with nowhere else to go, no circuit opens', async () => {
    const mock = await startMockOpenAI();
    const sidecar = await startTestSidecar(testPolicy({ upstream: mock.url, routing: {} }));
    try {
      const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
      for (let i = 0; i < 2; i++) {
        mock.script(openaiErrors.rateLimited('gpt-4o', 7));
        const res = await fetch(`${sidecar.url}/v1/chat/completions`, { method: 'POST', body });
        const error = (await res.json()).error;
        expect(res.status).toBe(429);
        expect(res.headers.get('retry-after')).toBe('7');
        expect(error).toMatchObject({
          type: 'rate_limit_error',
          code: 'GW_ERR_UPSTREAM_RATE_LIMITED',
        });
        expect(error.message).toContain('Rate limit reached');
      }
      expect(mock.requests).toHaveLength(2);
    } finally {
      await sidecar.stop();
      await mock.close();
    }
  });
});
