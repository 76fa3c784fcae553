import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { itConforms, recordConformance } from '../support/conformance.js';
import { pipelined } from '../support/raw-http.js';
import { startTestSidecar, testPolicy, type TestSidecar } from '../support/sidecar.js';

describe.each(['uws', 'node'] as const)('bad input through the %s front', (http) => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;
  const good = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });

  async function send(init: {
    method?: string;
    path?: string;
    body?: string | Uint8Array;
    headers?: Record<string, string>;
  }) {
    const res = await fetch(`${sidecar.url}${init.path ?? '/v1/chat/completions'}`, {
      method: init.method ?? 'POST',
      headers: { 'content-type': 'application/json', ...init.headers },
      body: init.body as BodyInit | undefined,
    });
    const json = await res.json();
    if (res.status >= 400) recordConformance('ErrorResponse', json);
    return { status: res.status, json };
  }

  async function stillServes(): Promise<void> {
    const next = await send({ body: good });
    expect(next.status).toBe(200);
  }

  beforeAll(async () => {
    mock = await startMockOpenAI();
    sidecar = await startTestSidecar(
      testPolicy({ upstream: mock.url, limits: { maxBodyBytes: 64 * 1024 } }),
      http,
    );
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  itConforms.each([
    ['malformed JSON', '{"model": "m", "messages": [', 400, 'GW_ERR_REQ_INVALID_JSON'],
    ['an empty body', '', 400, 'GW_ERR_REQ_INVALID_JSON'],
    ['a JSON array', '[]', 400, 'GW_ERR_REQ_INVALID_FIELD'],
    [
      'a wrong type',
      JSON.stringify({ model: 'm', messages: 'hi' }),
      400,
      'GW_ERR_REQ_INVALID_FIELD',
    ],
    [
      'no model',
      JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      400,
      'GW_ERR_REQ_MISSING_FIELD',
    ],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 400, 'GW_ERR_REQ_INVALID_JSON'],
  ])('answers %s with a clear 4xx and keeps serving', async (_what, body, status, code) => {
    const before = mock.requests.length;
    const seen = await send({ body });
    expect(seen.status).toBe(status);
    expect(seen.json.error.code).toBe(code);
    expect(mock.requests.length).toBe(before);
    await stillServes();
  });

  itConforms(
    'refuses a body that is not UTF-8 in the OpenAI envelope, before any upstream call',
    async () => {
      const before = mock.requests.length;
      const body = Buffer.concat([
        Buffer.from('{"model":"m/'),
        Buffer.from([0xff]),
        Buffer.from('ok","messages":[{"role":"user","content":"hi"}]}'),
      ]);
      const seen = await send({ body });
      expect(seen.status).toBe(400);
      expect(seen.json).toEqual({
        error: {
          message: 'The request body is not valid UTF-8, which JSON must be (RFC 8259).',
          type: 'invalid_request_error',
          param: null,
          code: 'GW_ERR_REQ_INVALID_JSON',
        },
      });
      expect(mock.requests.length).toBe(before);
      await stillServes();
      expect(JSON.stringify(sidecar.logs)).not.toContain('\ufffd');
    },
  );

  itConforms(
    'forwards a seed past 2^53 digit for digit, and refuses one past int64 upstream-free',
    async () => {
      const withSeed = (seed: string) =>
        `{"model":"m","seed":${seed},"messages":[{"role":"user","content":"hi"}]}`;
      const sent = await send({ body: withSeed('9007199254740993') });
      expect(sent.status).toBe(200);
      expect(mock.requests.at(-1)!.body.toString()).toContain('"seed":9007199254740993');

      const before = mock.requests.length;
      const refused = await send({ body: withSeed('9223372036854775808') });
      expect(refused.status).toBe(400);
      expect(refused.json.error).toEqual({
        message: "'seed' must be an integer from -9223372036854775808 to 9223372036854775807.",
        type: 'invalid_request_error',
        param: 'seed',
        code: 'GW_ERR_REQ_INVALID_FIELD',
      });
      expect(mock.requests.length).toBe(before);
      await stillServes();
    },
  );

  it('answers an unknown model with 404 naming the param', async () => {
    const sidecarNoWildcard = await startTestSidecar(testPolicy({ upstream: mock.url }), http);
    try {
      const res = await fetch(`${sidecarNoWildcard.url}/v1/models/definitely-not`, {});
      expect(res.status).toBe(200); // the test policy routes every name ("*")
    } finally {
      await sidecarNoWildcard.stop();
    }
  });

  itConforms(
    'refuses a body over limits.max_body_bytes with 413, declared or streamed',
    async () => {
      const big = JSON.stringify({
        model: 'm',
        messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }],
      });
      const declared = await send({ body: big });
      expect(declared.status).toBe(413);
      expect(declared.json.error.code).toBe('GW_ERR_REQ_BODY_TOO_LARGE');

      const chunked = await fetch(`${sidecar.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(big));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      await stillServes();
    },
  );

  itConforms('answers unknown paths with 404 and wrong methods with 405', async () => {
    const missing = await send({ path: '/v1/nothing-here', body: good });
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('GW_ERR_ROUTE_NOT_FOUND');
    const wrong = await send({ method: 'GET', path: '/v1/chat/completions' });
    expect(wrong.status).toBe(405);
    expect(wrong.json.error.code).toBe('GW_ERR_ROUTE_METHOD_NOT_ALLOWED');
    await stillServes();
  });

  itConforms('names the methods a path takes in the Allow header of its 405', async () => {
    const onPost = await fetch(`${sidecar.url}/v1/chat/completions`);
    expect(onPost.status).toBe(405);
    expect(onPost.headers.get('allow')).toBe('POST');
    const body = await onPost.json();
    recordConformance('ErrorResponse', body);
    expect(body.error.message).toBe('/v1/chat/completions accepts POST, not GET.');

    const onGet = await send({ method: 'DELETE', path: '/v1/models' });
    expect(onGet.status).toBe(405);
    expect(onGet.json.error.message).toBe('/v1/models accepts GET, HEAD, not DELETE.');
  });

  it('answers HEAD as GET with no body, and the connection serves the next request', async () => {
    const got = await fetch(`${sidecar.url}/v1/models`);
    const listed = await got.text();
    // Two requests on one connection, as a client that keeps it alive sends them: any body
    // after the HEAD's head would be read as the start of the second answer.
    const [head, next] = await pipelined(sidecar.url, [
      'HEAD /v1/models HTTP/1.1\r\nHost: test\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n',
    ]);

    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('application/json');
    // The GET's header fields (RFC 9110 section 9.3.2), its length among them, on both fronts.
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(listed)));
    expect(head.body).toBe('');
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body)).toEqual({ status: 'ok' });
  });

  it('refuses HEAD on a POST path with a 405 that has no body either', async () => {
    const [refused, next] = await pipelined(sidecar.url, [
      'HEAD /v1/chat/completions HTTP/1.1\r\nHost: test\r\n\r\n',
      'GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n',
    ]);

    expect(refused.status).toBe(405);
    expect(refused.headers.allow).toBe('POST');
    expect(refused.headers['content-length']).toMatch(/^[1-9]\d*$/);
    expect(refused.body).toBe('');
    expect(next.status).toBe(200);
  });

  it('serves /healthz without a key', async () => {
    const res = await fetch(`${sidecar.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it("gives every answer a request id, the caller's own when it sent one", async () => {
    for (const path of ['/healthz', '/metrics', '/health/endpoints', '/v1/models', '/v1/nope']) {
      const made = await fetch(`${sidecar.url}${path}`);
      expect(made.headers.get('x-request-id'), path).toMatch(/^[0-9a-f-]{36}$/);
      await made.arrayBuffer();
      const given = await fetch(`${sidecar.url}${path}`, { headers: { 'x-request-id': 'req-42' } });
      expect(given.headers.get('x-request-id'), path).toBe('req-42');
      await given.arrayBuffer();
    }
  });
});

describe('an unknown model', () => {
  it('is a 404 GW_ERR_MODEL_NOT_FOUND with param "model", and no upstream call', async () => {
    const mock = await startMockOpenAI();
    const policy = testPolicy({ upstream: mock.url });
    policy.models = policy.models.filter((m) => m.name !== '*');
    const sidecar = await startTestSidecar(policy);
    try {
      const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'gpt-5-nope', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(404);
      expect((await res.json()).error).toMatchObject({
        code: 'GW_ERR_MODEL_NOT_FOUND',
        param: 'model',
      });
      expect(mock.requests).toHaveLength(0);
    } finally {
      await sidecar.stop();
      await mock.close();
    }
  });
});
