// Every upstream request says `accept-encoding: identity`. Without the header a server may
// choose any content coding (RFC 9110 section 12.5.3), and the sidecar reads what comes
// back as JSON or SSE: a gzipped answer would be unreadable.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { anthropicPolicy } from '../providers/anthropic/harness.js';
import { startMockAnthropic } from '../support/mock-anthropic.js';
import {
  TEST_AWS,
  awsEnv,
  bedrockPolicy,
  startBedrockSidecar,
  startMockBedrock,
} from '../support/mock-bedrock.js';
import { coherePolicy, startMockCohere } from '../support/mock-cohere.js';
import { geminiPolicy, startMockGemini } from '../support/mock-gemini.js';
import { startMockOpenAI } from '../support/mock-openai.js';
import {
  makeServiceAccount,
  startMockVertex,
  startVertexSidecar,
  vertexPolicy,
} from '../support/mock-vertex.js';
import {
  PROVIDER_SECRET,
  startTestSidecar,
  testPolicy,
  type TestSidecar,
} from '../support/sidecar.js';

interface Started {
  sidecar: TestSidecar;
  /** The headers of each request the provider mock received, in order. */
  received: () => Record<string, string>[];
  close: () => Promise<void>;
}

interface Target {
  protocol: string;
  model: string;
  start: () => Promise<Started>;
}

const targets: Target[] = [
  {
    protocol: 'OpenAI',
    model: 'gpt-4o',
    async start() {
      const mock = await startMockOpenAI({ strict: true });
      const sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }));
      return { sidecar, received: () => mock.requests.map((r) => r.headers), close: mock.close };
    },
  },
  {
    protocol: 'Azure OpenAI',
    model: 'gpt-4o',
    async start() {
      const apiVersion = '2024-10-21';
      const mock = await startMockOpenAI({ azure: { apiVersion, apiKey: PROVIDER_SECRET } });
      const sidecar = await startTestSidecar(
        testPolicy({ upstream: mock.origin, protocol: Protocol.AZURE_OPENAI, apiVersion }),
      );
      return { sidecar, received: () => mock.requests.map((r) => r.headers), close: mock.close };
    },
  },
  {
    protocol: 'Anthropic',
    model: 'claude-sonnet-4-20250514',
    async start() {
      const mock = await startMockAnthropic({ apiKey: PROVIDER_SECRET });
      const sidecar = await startTestSidecar(anthropicPolicy(mock.url));
      return { sidecar, received: () => mock.requests.map((r) => r.headers), close: mock.close };
    },
  },
  {
    protocol: 'Gemini',
    model: 'gemini-2.5-pro',
    async start() {
      const mock = await startMockGemini({ strict: true });
      const sidecar = await startTestSidecar(geminiPolicy(mock.origin));
      return { sidecar, received: () => mock.requests.map((r) => r.headers), close: mock.close };
    },
  },
  {
    protocol: 'Vertex AI',
    model: 'gemini-2.5-pro',
    async start() {
      const mock = await startMockVertex({ strict: true, project: 'p1', location: 'us-east1' });
      const account = makeServiceAccount(mock.tokenUri);
      mock.trust(account);
      const sidecar = await startVertexSidecar(
        vertexPolicy(mock.origin, { project: 'p1', location: 'us-east1' }),
        { GOOGLE_APPLICATION_CREDENTIALS: account.path },
      );
      return { sidecar, received: () => mock.requests.map((r) => r.headers), close: mock.close };
    },
  },
  {
    // SigV4 signs content-type and host only: the mock still verifies every signature.
    protocol: 'Bedrock',
    model: 'bedrock-claude',
    async start() {
      const mock = await startMockBedrock({ credentials: TEST_AWS, region: 'us-east-1' });
      const sidecar = await startBedrockSidecar(
        bedrockPolicy({ upstream: mock.url }),
        awsEnv(TEST_AWS),
      );
      const received = () => {
        expect(mock.requests.map((r) => r.rejected)).toEqual(mock.requests.map(() => undefined));
        return mock.requests.map((r) => r.headers);
      };
      return { sidecar, received, close: mock.close };
    },
  },
  {
    protocol: 'Cohere',
    model: 'command-fast',
    async start() {
      const mock = await startMockCohere();
      const sidecar = await startTestSidecar(coherePolicy(mock.url));
      return { sidecar, received: () => mock.requests.map((r) => r.headers), close: mock.close };
    },
  },
];

describe.each(targets)('accept-encoding upstream: $protocol', ({ model, start }) => {
  let started: Started;

  beforeAll(async () => void (started = await start()));
  afterAll(async () => {
    await started.sidecar.stop();
    await started.close();
  });

  it.each([false, true])('asks for no content coding (stream: %s)', async (stream) => {
    const res = await fetch(`${started.sidecar.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.arrayBuffer();

    expect(res.status).toBe(200);
    expect(started.received().at(-1)?.['accept-encoding']).toBe('identity');
  });
});

describe('accept-encoding from a client', () => {
  let sidecar: TestSidecar;
  let mock: Awaited<ReturnType<typeof startMockOpenAI>>;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }));
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  it('cannot undo identity with x-pass-accept-encoding', async () => {
    const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-pass-accept-encoding': 'gzip' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.json();

    expect(res.status).toBe(200);
    expect(mock.requests.at(-1)?.headers['accept-encoding']).toBe('identity');
  });
});
