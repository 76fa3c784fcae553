// HTTP/1.1 pipelining (RFC 9112 section 9.3): a client may send its next request on a
// kept-alive connection before the answer to the previous one came, and the server answers
// them in order. Most clients do not pipeline, but a proxy in front of the sidecar may.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { pipelined } from '../support/raw-http.js';
import { startTestSidecar, testPolicy, type TestSidecar } from '../support/sidecar.js';

const chat = (content: string): string => {
  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] });
  return (
    'POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\ncontent-type: application/json\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
};
const healthz = 'GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n';

describe.each(['uws', 'node'] as const)('pipelined requests through the %s front', (http) => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }), http);
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  it('answers a request pipelined behind a synchronous one', async () => {
    const [first, second] = await pipelined(sidecar.url, [healthz, chat('one')]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
  });

  // Found by the breaker: on the uWS front, a request that arrives while the answer to a
  // chat request (which waits on the provider) is still pending makes uWS close the
  // connection. Neither request is answered, and the first, already on its way upstream,
  // is logged as client_aborted although the client never left. node:http answers both.
  // The uWS parser does this below the handlers; until the front can, README "Known
  // limits" should say so and name `--http node` for clients and proxies that pipeline.
  (http === 'uws' ? it.fails : it)(
    'answers a request pipelined behind a chat request, in order',
    async () => {
      const [first, second] = await pipelined(sidecar.url, [chat('one'), healthz]);
      expect(first.status).toBe(200);
      expect(JSON.parse(first.body).choices[0].message.content).toBe('Hello from the mock.');
      expect(second.status).toBe(200);
      expect(JSON.parse(second.body)).toEqual({ status: 'ok' });
    },
  );
});
