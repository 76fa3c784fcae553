// Failures below HTTP that are not "the provider could not be reached": an answer the
// provider began and cut off, and a request undici refused to send.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PolicySchema, Protocol, type Policy } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { makeServiceAccount, startMockVertex, type MockVertex } from '../support/mock-vertex.js';
import { eventually, startTestSidecar, testPolicy, type TestSidecar } from '../support/sidecar.js';

const ask = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });

async function post(sidecar: TestSidecar, model: string) {
  const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ask(model)),
  });
  return { res, json: (await res.json()) as { error?: { code: string; message: string } } };
}

/** The start of an answer the mock promises 400 bytes of, then closes the connection. */
const CUT_ANSWER = {
  status: 200,
  headers: { 'content-type': 'application/json', 'content-length': '400' },
  sse: ['{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choi'],
  ending: 'destroy' as const,
};

function chain(first: { id: string; policy: object }, second: MockOpenAI): Policy {
  return create(PolicySchema, {
    listen: { host: '127.0.0.1', port: 0 },
    providers: [
      first.policy,
      { id: 'p2', protocol: Protocol.OPENAI, baseUrl: second.url, apiKeyEnv: 'TEST_PROVIDER_KEY' },
    ],
    models: [{ name: 'smart', class: 'smart' }],
    classes: [
      {
        name: 'smart',
        chain: [
          { provider: first.id, target: 'model-1' },
          { provider: 'p2', target: 'model-2' },
        ],
        ordered: true,
      },
    ],
    // One counted failure would open a circuit, for long: a test sees whether one did.
    routing: { breakerFailures: 1, breakerCooldownMs: 60_000 },
  });
}

describe('a non-streamed answer cut off after its headers', () => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }));
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  afterEach(() => expect(mock.pending()).toBe(0));

  it('is reported as an incomplete answer, not as a provider that could not be reached', async () => {
    mock.script(CUT_ANSWER);
    const { res, json } = await post(sidecar, 'gpt-4o');

    expect(res.status).toBe(502);
    expect(json.error?.code).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
    expect(json.error?.message).toBe(
      'Provider "up" closed the connection before its answer was complete.',
    );
    await eventually(() => sidecar.requestLogs().length > 0);
    const line = sidecar.requestLogs().at(-1)!;
    expect(line.error_code).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
    expect(line.error_detail).toBe('answer_cut:UND_ERR_SOCKET');
  });
});

describe('a cut answer in a chain', () => {
  let mocks: MockOpenAI[];
  let sidecar: TestSidecar;

  beforeAll(async () => {
    mocks = [await startMockOpenAI(), await startMockOpenAI()];
    const first = {
      id: 'p1',
      policy: {
        id: 'p1',
        protocol: Protocol.OPENAI,
        baseUrl: mocks[0].url,
        apiKeyEnv: 'TEST_PROVIDER_KEY',
      },
    };
    sidecar = await startTestSidecar(chain(first, mocks[1]));
  });
  afterAll(async () => {
    await sidecar.stop();
    await Promise.all(mocks.map((m) => m.close()));
  });

  it('fails over to the next endpoint, as nothing reached the client yet', async () => {
    mocks[0].script(CUT_ANSWER);
    const { res } = await post(sidecar, 'smart');

    expect(res.status).toBe(200);
    expect(res.headers.get('x-modelgate-endpoint')).toBe('p2/model-2');
    await eventually(() => sidecar.requestLogs().length > 0);
    const line = sidecar.requestLogs().at(-1)!;
    expect(line.failovers).toEqual([
      expect.objectContaining({ result: 'answer_cut:UND_ERR_SOCKET', decision: 'next' }),
    ]);
  });
});

describe('a request undici refuses to send', () => {
  // The one trigger left end to end: a token endpoint whose access token holds a control
  // character, which goes into the Authorization header and undici refuses.
  const TOKEN = 'ya29.minted\u0001token-0123456789';
  let tokens: Server;
  let vertex: MockVertex;
  let next: MockOpenAI;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    tokens = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: TOKEN, expires_in: 3599, token_type: 'Bearer' }));
    });
    await new Promise<void>((resolve) => tokens.listen(0, '127.0.0.1', resolve));
    const { port } = tokens.address() as AddressInfo;
    const account = makeServiceAccount(`http://127.0.0.1:${port}/token`);
    vertex = await startMockVertex({ project: 'p1', location: 'us-central1' });
    next = await startMockOpenAI();
    const first = {
      id: 'vtx',
      policy: {
        id: 'vtx',
        protocol: Protocol.VERTEX,
        baseUrl: vertex.origin,
        project: 'p1',
        region: 'us-central1',
      },
    };
    sidecar = await startTestSidecar(chain(first, next), 'auto', {
      GOOGLE_APPLICATION_CREDENTIALS: account.path,
    });
  });
  afterAll(async () => {
    await sidecar.stop();
    await vertex.close();
    await next.close();
    await new Promise((resolve) => tokens.close(resolve));
  });

  it('is an internal error: no failover, no open circuit, and a log line that says why', async () => {
    for (let i = 0; i < 2; i++) {
      const { res, json } = await post(sidecar, 'smart');
      expect(res.status).toBe(500);
      expect(json.error?.code).toBe('GW_ERR_INTERNAL');
      expect(json.error?.message).not.toContain('minted');
      // Asked again: the endpoint's circuit stayed closed, and no other endpoint was asked.
      expect(res.headers.get('x-modelgate-attempts')).toBe('1');
    }
    expect(next.requests).toHaveLength(0);
    expect(vertex.requests).toHaveLength(0);

    await eventually(() => sidecar.requestLogs().length >= 2);
    const line = sidecar.requestLogs().at(-1)!;
    expect(line.status).toBe(500);
    expect(line.outcome).toBe('internal_error');
    expect(line.error_code).toBe('GW_ERR_INTERNAL');
    expect(line.error_detail).toBe(
      'request_refused:UND_ERR_INVALID_ARG:invalid authorization header',
    );
    expect(JSON.stringify(sidecar.logs)).not.toContain('minted');
  });
});
