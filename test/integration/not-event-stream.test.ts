// A stream request answered 200 with something that is not its protocol's stream (a whole
// JSON answer, a proxy's page) is a bad response before the commit point, on every protocol:
// a 502 that names the provider and what it sent, logged not_event_stream, and failed over
// like any other bad response. Each protocol's mock serves it behind a real sidecar, with an
// OpenAI mock as the second endpoint of a chain.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  PolicySchema,
  Protocol,
  ProviderSchema,
  type Policy,
} from '../../proto/gen/modelgate/v1/policy_pb.js';
import { postMessages } from '../api/anthropic/sdk-style-client.js';
import { itConforms, recordConformance, recordEachConformance } from '../support/conformance.js';
import { anthropicMessage, startMockAnthropic } from '../support/mock-anthropic.js';
import {
  MODEL_IDS,
  TEST_AWS,
  awsEnv,
  converseResponse,
  startMockBedrock,
} from '../support/mock-bedrock.js';
import { cohereChat, startMockCohere } from '../support/mock-cohere.js';
import { geminiResponse, startMockGemini } from '../support/mock-gemini.js';
import {
  chatCompletion,
  chatStream,
  startMockOpenAI,
  type MockOpenAI,
} from '../support/mock-openai.js';
import { makeServiceAccount, startMockVertex } from '../support/mock-vertex.js';
import {
  PROVIDER_SECRET,
  eventually,
  startTestSidecar,
  type TestSidecar,
} from '../support/sidecar.js';
import { chunksOf, postSse, reassembleChat } from '../support/sse-client.js';

type ProviderInit = MessageInitShape<typeof ProviderSchema>;

/** A protocol's mock, seen only as far as these tests need it. */
interface NativeMock {
  url: string;
  /** Queues a 200 carrying the protocol's whole, non-streamed answer. */
  answerWhole(): void;
  /** Queues a 200 whose content type is `type`, the body being beside the point. */
  answerTyped(type: string): void;
  /** Queues a 200 with this content type and body, as given. */
  answerRaw(type: string, body: string | Buffer): void;
  calls(): number;
  pending(): number;
  close(): Promise<void>;
}

interface NativeCase {
  protocol: string;
  /** The provider's fields but its id and base URL. */
  provider: Omit<ProviderInit, 'id' | 'baseUrl' | '$typeName'>;
  target: string;
  /** The media type the mock's whole answer carries, as the message names it. */
  answered: string;
  /** The protocol's stream media type. */
  stream: string;
  start(): Promise<{ mock: NativeMock; env?: Record<string, string> }>;
}

const NATIVE = 'native';
const SSE = 'text/event-stream';

const hi = (extra: object = {}) => ({
  max_tokens: 64,
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

/** One scripted mock of the shared kind (mock-server.ts): JSON steps, steps with headers. */
function scripted(
  mock: {
    url: string;
    script(step: any): void;
    pending(): number;
    requests: unknown[];
    close(): Promise<void>;
  },
  whole: () => object,
): NativeMock {
  return {
    url: mock.url,
    answerWhole: () => mock.script({ status: 200, json: whole() }),
    answerTyped: (type) =>
      mock.script({ status: 200, headers: { 'content-type': type }, json: whole() }),
    answerRaw: (type, body) =>
      mock.script({ status: 200, headers: { 'content-type': type }, body }),
    calls: () => mock.requests.length,
    pending: () => mock.pending(),
    close: () => mock.close(),
  };
}

async function vertexMock(
  whole: () => object,
): Promise<{ mock: NativeMock; env: Record<string, string> }> {
  const vertex = await startMockVertex({ project: 'test-project', location: 'us-central1' });
  const account = makeServiceAccount(vertex.tokenUri);
  vertex.trust(account);
  const mock = scripted(
    {
      url: vertex.origin,
      script: vertex.script,
      pending: vertex.pending,
      // Model calls only: the token exchange is no attempt.
      get requests() {
        return vertex.requests;
      },
      close: vertex.close,
    },
    whole,
  );
  return { mock, env: { GOOGLE_APPLICATION_CREDENTIALS: account.path } };
}

const geminiWhole = () =>
  geminiResponse({ candidates: [{ parts: [{ text: 'Hi.' }], finishReason: 'STOP' }] });

const CASES: NativeCase[] = [
  {
    protocol: 'OpenAI',
    provider: { protocol: Protocol.OPENAI, apiKeyEnv: 'TEST_PROVIDER_KEY' },
    target: 'gpt-4o-mini',
    answered: 'application/json',
    stream: SSE,
    start: async () => ({
      mock: scripted(await startMockOpenAI(), () =>
        chatCompletion({ model: 'gpt-4o-mini', content: 'Hi.' }),
      ),
    }),
  },
  {
    protocol: 'Anthropic',
    provider: { protocol: Protocol.ANTHROPIC, apiKeyEnv: 'TEST_PROVIDER_KEY' },
    target: 'claude-x',
    answered: 'application/json',
    stream: SSE,
    start: async () => ({
      mock: scripted(await startMockAnthropic({ apiKey: PROVIDER_SECRET }), () =>
        anthropicMessage({ model: 'claude-x', blocks: [{ type: 'text', text: 'Hi.' }] }),
      ),
    }),
  },
  {
    protocol: 'Gemini',
    provider: { protocol: Protocol.GEMINI, apiKeyEnv: 'TEST_PROVIDER_KEY' },
    target: 'gemini-2.5-flash',
    // Google's own spelling, `application/json; charset=UTF-8`: named without its parameter.
    answered: 'application/json',
    stream: SSE,
    start: async () => {
      const gemini = await startMockGemini({ strict: true, apiKey: PROVIDER_SECRET });
      return { mock: scripted({ ...gemini, url: gemini.origin }, geminiWhole) };
    },
  },
  {
    protocol: 'Vertex AI (Gemini)',
    provider: { protocol: Protocol.VERTEX, project: 'test-project', region: 'us-central1' },
    target: 'gemini-2.5-flash',
    answered: 'application/json',
    stream: SSE,
    start: () => vertexMock(geminiWhole),
  },
  {
    protocol: 'Vertex AI (Claude)',
    provider: { protocol: Protocol.VERTEX, project: 'test-project', region: 'us-central1' },
    target: 'claude-sonnet-4@20250514',
    answered: 'application/json',
    stream: SSE,
    start: () =>
      vertexMock(() =>
        anthropicMessage({ model: 'claude-sonnet-4', blocks: [{ type: 'text', text: 'Hi.' }] }),
      ),
  },
  {
    protocol: 'Cohere',
    provider: { protocol: Protocol.COHERE, apiKeyEnv: 'TEST_PROVIDER_KEY' },
    target: 'command-a-03-2025',
    answered: 'application/json',
    stream: SSE,
    start: async () => ({
      mock: scripted(await startMockCohere({ expectApiKey: PROVIDER_SECRET }), () =>
        cohereChat({ text: 'Hi.' }),
      ),
    }),
  },
  {
    protocol: 'Bedrock',
    provider: { protocol: Protocol.BEDROCK, region: 'us-east-1' },
    target: MODEL_IDS.claude,
    answered: 'application/json',
    stream: 'application/vnd.amazon.eventstream',
    start: async () => ({
      mock: scripted(await startMockBedrock({ credentials: TEST_AWS }), () =>
        converseResponse({ text: 'Hi.' }),
      ),
      env: awsEnv(TEST_AWS),
    }),
  },
];

/**
 * `solo`: the native provider alone. `chain`: the native provider, then an OpenAI backup,
 * walked in that order. Breakers out of reach: these tests fail on purpose.
 */
function policy(c: NativeCase, nativeUrl: string, backupUrl: string): Policy {
  return create(PolicySchema, {
    listen: { host: '127.0.0.1', port: 0 },
    routing: { breakerFailures: 1_000_000, breakerCooldownMs: 1 },
    providers: [
      { ...c.provider, id: NATIVE, baseUrl: nativeUrl },
      { id: 'backup', protocol: Protocol.OPENAI, baseUrl: backupUrl },
    ],
    models: [
      { name: 'solo', provider: NATIVE, target: c.target },
      { name: 'chain', class: 'chain' },
    ],
    classes: [
      {
        name: 'chain',
        ordered: true,
        chain: [
          { provider: NATIVE, target: c.target },
          { provider: 'backup', target: 'model-b' },
        ],
      },
    ],
  });
}

const notStream = (provider: string, media: string, stream: string) =>
  `Provider "${provider}" answered a stream request with content type "${media}", ` +
  `not ${stream}.`;

let requests = 0;
const requestId = () => `not-event-stream-${++requests}`;

describe.each(CASES)('$protocol: a 200 to a stream request that is no stream', (c) => {
  let native: NativeMock;
  let backup: MockOpenAI;
  let sidecar: TestSidecar;
  const url = () => `${sidecar.url}/v1/chat/completions`;
  const logOf = async (id: string) => {
    const find = () => sidecar.requestLogs().find((l) => l.request_id === id);
    await eventually(() => find() !== undefined);
    return find()!;
  };

  beforeAll(async () => {
    const started = await c.start();
    native = started.mock;
    backup = await startMockOpenAI();
    sidecar = await startTestSidecar(policy(c, native.url, backup.url), 'auto', started.env);
  });
  afterAll(async () => {
    await sidecar.stop();
    await Promise.all([native.close(), backup.close()]);
  });
  afterEach(() => expect([native.pending(), backup.pending()]).toEqual([0, 0]));

  itConforms(
    `is a 502 bad response naming the provider and ${c.answered}, logged not_event_stream`,
    async () => {
      native.answerWhole();
      const id = requestId();
      const calls = native.calls();
      const res = await postSse(url(), hi({ model: 'solo', stream: true }), {
        'x-request-id': id,
      });

      expect(res.status).toBe(502);
      const body = JSON.parse(res.raw);
      recordConformance('ErrorResponse', body);
      expect(body.error).toEqual({
        message: notStream(NATIVE, c.answered, c.stream),
        type: 'api_error',
        param: null,
        code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
      });
      expect(res.headers['x-modelgate-attempts']).toBe('1');
      expect(res.raw).not.toContain(PROVIDER_SECRET);
      // Nothing was retried on the same endpoint.
      expect(native.calls() - calls).toBe(1);

      expect(await logOf(id)).toMatchObject({
        status: 502,
        outcome: 'upstream_error',
        stream: true,
        provider: NATIVE,
        error_code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
        error_detail: 'not_event_stream',
        attempts: 1,
      });
    },
  );

  itConforms('fails over to the next endpoint of a chain, which streams the answer', async () => {
    native.answerWhole();
    const id = requestId();
    const res = await postSse(url(), hi({ model: 'chain', stream: true }), {
      'x-request-id': id,
    });

    expect(res.status).toBe(200);
    const chunks = chunksOf(res);
    recordEachConformance('CreateChatCompletionStreamResponse', chunks);
    const chat = reassembleChat(chunks);
    expect(chat.content).toBe('Hello from the mock.');
    expect(chat.finishReason).toBe('stop');
    expect(res.done).toBe(true);
    expect(res.headers['x-modelgate-endpoint']).toBe('backup/model-b');
    expect(res.headers['x-modelgate-attempts']).toBe('2');
    expect(backup.requests.at(-1)!.json).toMatchObject({ model: 'model-b', stream: true });

    const line = await logOf(id);
    expect(line).toMatchObject({
      status: 200,
      outcome: 'ok',
      endpoint: 'backup/model-b',
      attempts: 2,
      failovers: [
        { endpoint: `${NATIVE}/${c.target}`, result: 'not_event_stream', decision: 'next' },
      ],
    });
    expect(line.error_code).toBeUndefined();
  });

  // A proxy's page to an SSE protocol; an SSE answer to Bedrock, whose stream is AWS's own.
  const other = c.stream === SSE ? 'text/html' : SSE;
  // The other way round: a request that asked for no stream, answered with one (a server that
  // always streams). Whatever the protocol, the body is no JSON: the message says what came.
  const streamed =
    c.stream === SSE ? 'data: {"partial": true}\n\n' : Buffer.from([0, 0, 0, 0x2a, 1, 2, 3]);
  const namedType = /\. Its content type was "([^"]*)"\.$/;
  /** Asks for no stream; the message of the 502 that comes back, its shape checked. */
  const unreadAnswer = async (id: string): Promise<string> => {
    const res = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify(hi({ model: 'solo' })),
    });
    expect(res.status).toBe(502);
    const body = await res.json();
    recordConformance('ErrorResponse', body);
    expect(body.error.code).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
    expect(body.error.message).toMatch(new RegExp(`^Provider "${NATIVE}" answered with `));
    return body.error.message;
  };

  itConforms(`names ${c.stream} when a request that is no stream gets one`, async () => {
    native.answerRaw(`${c.stream}; charset=utf-8`, streamed);
    const id = requestId();
    const message = await unreadAnswer(id);

    expect(namedType.exec(message)?.[1]).toBe(c.stream);
    expect(await logOf(id)).toMatchObject({ status: 502, error_detail: 'bad_body' });
  });

  itConforms('names no content type when a body that is not JSON says it is', async () => {
    native.answerRaw('application/json', '{"cut": ');
    const message = await unreadAnswer(requestId());

    expect(message).not.toMatch(namedType);
    expect(message).not.toContain('content type');
  });

  // A minted token (Vertex's) or another vendor's key is in no list of configured secrets:
  // the attempt's last pass would leave it; the type is masked as the stream path masks it.
  itConforms('masks what is shaped like a credential in the type it names', async () => {
    const token = 'ya29.a0AfH6SMBminted-token';
    native.answerRaw(`text/x-${token}`, streamed);
    const message = await unreadAnswer(requestId());

    expect(namedType.exec(message)?.[1]).toBe('text/x-ya29.***');
    expect(message).not.toContain('minted-token');
  });

  itConforms(`refuses ${other} with its parameters, naming the type alone`, async () => {
    native.answerTyped(`${other}; charset=utf-8`);
    const res = await postSse(url(), hi({ model: 'solo', stream: true }));

    expect(res.status).toBe(502);
    const body = JSON.parse(res.raw);
    recordConformance('ErrorResponse', body);
    expect(body.error.code).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
    expect(body.error.message).toBe(notStream(NATIVE, other, c.stream));
  });
});

describe('OpenAI protocol: which content types are a stream', () => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;
  const url = () => `${sidecar.url}/v1/chat/completions`;
  const stream = (content: string) => chatStream({ model: 'm', pieces: [content] }).join('');
  const ask = () => hi({ model: 'solo', stream: true });

  beforeAll(async () => {
    mock = await startMockOpenAI();
    const c = CASES[0];
    sidecar = await startTestSidecar(policy(c, mock.url, mock.url));
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  afterEach(() => expect(mock.pending()).toBe(0));

  itConforms(
    'refuses only a type that is present and another: not none, nor parameters',
    async () => {
      // No content type at all (a raw step carries none): taken on trust.
      mock.script({ status: 200, body: stream('untyped') });
      const untyped = await postSse(url(), ask());
      expect(untyped.status).toBe(200);
      recordEachConformance('CreateChatCompletionStreamResponse', chunksOf(untyped));
      expect(reassembleChat(chunksOf(untyped)).content).toBe('untyped');

      // The type in another case, with a parameter and no space before it.
      mock.script({
        status: 200,
        headers: { 'content-type': 'Text/Event-Stream;Charset=UTF-8' },
        body: stream('cased'),
      });
      const cased = await postSse(url(), ask());
      expect(cased.status).toBe(200);
      expect(reassembleChat(chunksOf(cased)).content).toBe('cased');

      // The same events as text/plain: the body would parse, but the provider said otherwise.
      mock.script({
        status: 200,
        headers: { 'content-type': 'text/plain' },
        body: stream('plain'),
      });
      const plain = await postSse(url(), ask());
      expect(plain.status).toBe(502);
      const body = JSON.parse(plain.raw);
      recordConformance('ErrorResponse', body);
      expect(body.error.message).toBe(notStream(NATIVE, 'text/plain', SSE));
    },
  );

  itConforms('masks a credential the content type quotes, as any upstream text', async () => {
    mock.script({
      status: 200,
      headers: { 'content-type': `${PROVIDER_SECRET}/json` },
      body: '{}',
    });
    const res = await postSse(url(), ask());
    expect(res.status).toBe(502);
    const body = JSON.parse(res.raw);
    recordConformance('ErrorResponse', body);
    expect(body.error.message).toBe(notStream(NATIVE, '***/json', SSE));
    expect(res.raw).not.toContain(PROVIDER_SECRET);
  });
});

describe('the Anthropic Messages route', () => {
  let mock: NativeMock;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    const c = CASES[1];
    mock = (await c.start()).mock;
    sidecar = await startTestSidecar(policy(c, mock.url, mock.url));
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  afterEach(() => expect(mock.pending()).toBe(0));

  // Anthropic's error envelope, not OpenAI's: nothing here to check against OpenAI's schema.
  it('answers a whole JSON answer to its stream with a 502 api_error naming it', async () => {
    mock.answerWhole();
    const res = await postMessages(`${sidecar.url}/anthropic/v1/messages`, {
      model: 'solo',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });

    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({
      type: 'error',
      error: { type: 'api_error', message: notStream(NATIVE, 'application/json', SSE) },
    });
    expect(res.events).toEqual([]);
    await eventually(() => sidecar.requestLogs().length > 0);
    expect(sidecar.requestLogs().at(-1)).toMatchObject({
      path: '/anthropic/v1/messages',
      status: 502,
      error_code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
      error_detail: 'not_event_stream',
    });
  });
});
