import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chatCompletion,
  chatStream,
  openaiError,
  openaiErrors,
  sseEvent,
  startMockOpenAI,
  type MockOpenAI,
  type RecordedRequest,
  type ScriptStep,
} from '../support/mock-openai.js';
import { itConforms, recordConformance } from '../support/conformance.js';
import {
  eventually,
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
    recordConformance('ErrorResponse', json);
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

  itConforms(
    'reports a refused provider credential as a gateway fault, without quoting the key',
    async () => {
      mock.script(openaiErrors.invalidApiKey(PROVIDER_SECRET));
      const seen = await call();
      expect(seen.status).toBe(502);
      expect(seen.error.code).toBe('GW_ERR_UPSTREAM_AUTH');
      expect(seen.error.message).not.toContain(PROVIDER_SECRET.slice(0, 8));
      expect(JSON.stringify(sidecar.logs)).not.toContain(PROVIDER_SECRET.slice(-4) + '"');
    },
  );

  itConforms(
    'answers a provider redirect with 502, without following it or blaming the client',
    async () => {
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
    },
  );

  itConforms(
    'G21: recognises a context-length error, OpenAI wording and sglang wording alike',
    async () => {
      mock.script(openaiErrors.contextLengthExceeded(8192, 9000));
      const openai = await call();
      expect(openai.status).toBe(400);
      expect(openai.error).toMatchObject({
        code: 'GW_ERR_UPSTREAM_CONTEXT_LENGTH',
        param: 'messages',
      });

      mock.script(openaiErrors.sglangContextLength(8192, 9000));
      const sglang = await call();
      expect(sglang.status).toBe(400);
      expect(sglang.error.code).toBe('GW_ERR_UPSTREAM_CONTEXT_LENGTH');
    },
  );

  itConforms('passes an invalid-request message and param through from the provider', async () => {
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

  itConforms.each([
    [openaiErrors.serverError(), 502, 'GW_ERR_UPSTREAM_ERROR'],
    [openaiErrors.overloaded(), 503, 'GW_ERR_UPSTREAM_OVERLOADED'],
    [openaiErrors.modelNotFound('gpt-9'), 404, 'GW_ERR_UPSTREAM_NOT_FOUND'],
    [{ status: 502, body: '<html>Bad Gateway</html>' }, 502, 'GW_ERR_UPSTREAM_ERROR'],
    [{ status: 200, body: '{"choices": [' }, 502, 'GW_ERR_UPSTREAM_BAD_RESPONSE'],
    // What a proxy in front of a provider (nginx's client_max_body_size) answers.
    [
      { status: 413, body: '<html><center><h1>413 Request Entity Too Large</h1></center></html>' },
      413,
      'GW_ERR_UPSTREAM_BAD_REQUEST',
    ],
  ])('maps %j to %i %s', async (step, status, code) => {
    mock.script(step);
    const seen = await call();
    expect(seen.status).toBe(status);
    expect(seen.error.code).toBe(code);
    expect(seen.error.message).not.toContain('<html>');
  });

  itConforms('gives up on a provider that sends no first byte in time with 504', async () => {
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

// A provider may put the credential it was sent into any field of its answer: an error's
// param or code, an in-stream error, its request-id header. Whichever credential it was (the
// sidecar's own, or the caller's x-pass-* one, of a known vendor shape or none), no piece of
// it may reach the client's answer or any log line. The mock quotes the key it received.
const CALLER_KEY = 'sk-caller-CANARY-5647382910zyxw';
const PLAIN_KEY = 'hunter2/plain-Secret.42';
const CALLER_PLAIN_KEY = 'caller/plain-Secret.77';

interface KeyCase {
  how: string;
  key: string;
  /** Added to the sidecar's environment. */
  env: Record<string, string>;
  /** The caller sends the key as x-pass-authorization. */
  pass: boolean;
}

describe.each<KeyCase>([
  { how: 'configured in its env var', key: PROVIDER_SECRET, env: {}, pass: false },
  {
    how: 'configured in its env var, of no known shape',
    key: PLAIN_KEY,
    env: { TEST_PROVIDER_KEY: PLAIN_KEY },
    pass: false,
  },
  { how: 'passed in x-pass-authorization', key: CALLER_KEY, env: {}, pass: true },
  {
    how: 'passed in x-pass-authorization, of no known shape',
    key: CALLER_PLAIN_KEY,
    env: {},
    pass: true,
  },
])('a provider quoting the key $how', ({ key, env, pass }) => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;
  let asked = 0;

  /** The bearer token the mock was sent: the key it quotes back. */
  const received = (req: RecordedRequest): string => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    expect(token).toBe(key);
    return key;
  };

  /** An OpenAI error body whose fields the mock fills in with the key it was sent. */
  const quoting =
    (status: number, fields: (quoted: string) => object): ScriptStep =>
    (req) => ({
      status,
      json: {
        error: {
          ...openaiError('bad', 'invalid_request_error', null, null).error,
          ...fields(received(req)),
        },
      },
    });

  /** No whole key, nor its first or last ten characters. */
  const expectNoKey = (text: string): void => {
    for (const piece of [key, key.slice(0, 10), key.slice(-10)]) {
      expect(text).not.toContain(piece);
    }
  };

  interface Answer {
    status: number;
    text: string;
    /** The request's own log line. */
    line: Record<string, unknown>;
  }

  /** Asks, checks that neither the answer nor any line logged meanwhile holds the key. */
  async function ask(body: object = {}, path = '/v1/chat/completions'): Promise<Answer> {
    const requestId = `leak-${++asked}`;
    const logsBefore = sidecar.logs.length;
    const res = await fetch(`${sidecar.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'x-request-id': requestId,
        ...(pass ? { 'x-pass-authorization': `Bearer ${key}` } : {}),
      },
      body: JSON.stringify({
        model: 'gpt-4o',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
        ...body,
      }),
    });
    const text = await res.text();
    await eventually(() => sidecar.requestLogs().some((l) => l.request_id === requestId));
    const line = sidecar.requestLogs().find((l) => l.request_id === requestId)!;
    expectNoKey(text);
    expectNoKey(JSON.stringify(sidecar.logs.slice(logsBefore)));
    return { status: res.status, text, line };
  }

  beforeAll(async () => {
    mock = await startMockOpenAI();
    sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }), 'auto', env);
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  it.each([
    [400, 'bad', 'GW_ERR_UPSTREAM_BAD_REQUEST'],
    [404, 'bad', 'GW_ERR_UPSTREAM_NOT_FOUND'],
    [400, "This model's maximum context length is 8192 tokens.", 'GW_ERR_UPSTREAM_CONTEXT_LENGTH'],
  ])('masks an error param that quotes the key (%i %s)', async (status, message, code) => {
    mock.script(quoting(status, (quoted) => ({ message, param: quoted })));
    const seen = await ask();
    expect(seen.status).toBe(status);
    expect(JSON.parse(seen.text).error).toMatchObject({ code, param: '***' });
  });

  it('keeps an error code that quotes the key out of the answer and the log (400)', async () => {
    mock.script(quoting(400, (quoted) => ({ code: quoted })));
    const seen = await ask();
    expect(seen.status).toBe(400);
    expect(JSON.parse(seen.text).error.code).toBe('GW_ERR_UPSTREAM_BAD_REQUEST');
    expect(seen.line.error_detail).toBe('http_400:***');
  });

  it('keeps an error code that quotes the key out of the answer and the log (500)', async () => {
    mock.script(quoting(500, (quoted) => ({ type: 'server_error', code: quoted })));
    const seen = await ask();
    expect(seen.status).toBe(502);
    expect(JSON.parse(seen.text).error.code).toBe('GW_ERR_UPSTREAM_ERROR');
    expect(seen.line.error_detail).toBe('http_500:***');
  });

  it('keeps the code of an in-stream error event out of the log, before the first token', async () => {
    mock.script((req) => ({
      sse: [sseEvent({ error: { message: 'm', code: received(req) } }), sseEvent('[DONE]')],
    }));
    const seen = await ask({ stream: true });
    expect(seen.status).toBe(502);
    expect(JSON.parse(seen.text).error.code).toBe('GW_ERR_STREAM_UPSTREAM_ERROR');
    expect(seen.line.error_detail).toBe('stream:***');
  });

  it('keeps the code of an in-stream error event out of the log, after the first token', async () => {
    mock.script((req) => ({
      sse: [
        ...chatStream({ model: 'gpt-4o', pieces: ['Hel'], done: false }).slice(0, 2),
        sseEvent({ error: { message: 'm', code: received(req) } }),
      ],
    }));
    const seen = await ask({ stream: true });
    expect(seen.status).toBe(200);
    expect(seen.text).toContain('GW_ERR_STREAM_UPSTREAM_ERROR');
    expect(seen.line).toMatchObject({ outcome: 'stream_error', error_detail: 'stream:***' });
  });

  it('masks a request id that quotes the key, on an answer', async () => {
    mock.script((req) => ({
      status: 200,
      headers: { 'x-request-id': received(req) },
      json: chatCompletion({ model: 'gpt-4o', content: 'hi' }),
    }));
    const seen = await ask();
    expect(seen.status).toBe(200);
    expect(seen.line.upstream_request_id).toBe('***');

    mock.script((req) => ({
      status: 200,
      headers: { 'x-request-id': `Bearer ${received(req)}` },
      json: chatCompletion({ model: 'gpt-4o', content: 'hi' }),
    }));
    const bearer = await ask();
    expect(bearer.status).toBe(200);
    // Masked whole when the caller sent exactly that value, else its token.
    expect(bearer.line.upstream_request_id).toMatch(/^(Bearer )?\*\*\*$/);
  });

  it('masks a request id that quotes the key, on an error', async () => {
    mock.script((req) => ({
      ...openaiErrors.serverError(),
      headers: { 'x-request-id': received(req) },
    }));
    const seen = await ask();
    expect(seen.status).toBe(502);
    expect(seen.line.upstream_request_id).toBe('***');
  });

  it('caps a long request id in the log, masking a key that straddles the cap', async () => {
    mock.script({
      status: 200,
      headers: { 'x-request-id': 'r'.repeat(1000) },
      json: chatCompletion({ model: 'gpt-4o', content: 'hi' }),
    });
    const long = await ask();
    expect(long.line.upstream_request_id).toBe('r'.repeat(128));

    mock.script((req) => ({
      status: 200,
      headers: { 'x-request-id': `${'r'.repeat(120)}${received(req)}` },
      json: chatCompletion({ model: 'gpt-4o', content: 'hi' }),
    }));
    const straddling = await ask();
    expect(String(straddling.line.upstream_request_id)).toHaveLength(123);
  });

  it('keeps the key out of the Anthropic ingress route as well', async () => {
    mock.script(quoting(400, (quoted) => ({ param: quoted, code: quoted })));
    const seen = await ask({}, '/anthropic/v1/messages');
    expect(seen.status).toBe(400);
    expect(JSON.parse(seen.text)).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect(seen.line.error_detail).toBe('http_400:***');
  });
});
