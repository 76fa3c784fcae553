// Requests the HTTP front refuses before any handler runs (a body over max_body_bytes, a
// Content-Length that is not one number) are requests like any other: README promises one
// log line per request and the client's own x-request-id on every response.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { pipelined } from '../support/raw-http.js';
import { eventually, startTestSidecar, testPolicy, type TestSidecar } from '../support/sidecar.js';

describe.each(['uws', 'node'] as const)('front refusals through the %s front', (http) => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    sidecar = await startTestSidecar(
      testPolicy({ upstream: mock.url, limits: { maxBodyBytes: 1024 } }),
      http,
    );
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  // Found by the breaker: the front's refusals were answered through a context built with
  // no headers and never logged, so a 413 had a fresh request id, no log line and no count
  // in /metrics.
  it('logs a body over the limit and echoes the request id', async () => {
    const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'too-big-1' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(4096) }] }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('x-request-id')).toBe('too-big-1');
    expect((await res.json()).error.code).toBe('GW_ERR_REQ_BODY_TOO_LARGE');

    await eventually(() => sidecar.requestLogs().some((l) => l.request_id === 'too-big-1'));
    const line = sidecar.requestLogs().find((l) => l.request_id === 'too-big-1');
    expect(line).toMatchObject({
      level: 'info',
      method: 'POST',
      path: '/v1/chat/completions',
      status: 413,
      outcome: 'rejected',
      error_code: 'GW_ERR_REQ_BODY_TOO_LARGE',
    });
    expect(mock.requests).toHaveLength(0);

    const metrics = await (await fetch(`${sidecar.url}/metrics`)).text();
    expect(metrics).toContain('modelgate_responses_total{status="413"} 1');
  });

  it('logs a Content-Length it cannot read, where the front answers at all', async () => {
    // node:http's parser answers a malformed length itself with an empty 400 (README, Known
    // limits); the uWS front refuses a length like "1, 1" with the envelope.
    if (http === 'node') return;
    const [refused] = await pipelined(sidecar.url, [
      'POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\nx-request-id: bad-length-1\r\n' +
        'Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}',
    ]);
    expect(refused.status).toBe(400);
    expect(refused.headers['x-request-id']).toBe('bad-length-1');
    await eventually(() => sidecar.requestLogs().some((l) => l.request_id === 'bad-length-1'));
    expect(sidecar.requestLogs().find((l) => l.request_id === 'bad-length-1')).toMatchObject({
      status: 400,
      error_code: 'GW_ERR_REQ_BAD_HEADER',
    });
  });
});
