import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  TEST_AWS,
  awsEnv,
  bedrockErrors,
  bedrockPolicy,
  converseRejection,
  converseStream,
  eventFrame,
  exceptionFrame,
  startBedrockSidecar,
  startMockBedrock,
  type MockBedrock,
} from '../support/mock-bedrock.js';
import { itConforms, recordEachConformance } from '../support/conformance.js';
import { chunksOf, postSse, reassembleChat } from '../support/sse-client.js';
import { eventually, type TestSidecar } from '../support/sidecar.js';

// The cases of shared/cases/failure-cases.md that touch Bedrock, each in its streamed and
// non-streamed form where both exist, against the strict mock.

const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

// The routing layer opens a circuit per endpoint after failures; a model name of its own per
// case (the '*' pattern makes it the target) keeps one case's failures from closing another's.
let cases = 0;
const fresh = () => `case-${++cases}`;

describe('Bedrock failure cases', () => {
  let mock: MockBedrock;
  let sidecar: TestSidecar;
  const url = () => `${sidecar.url}/v1/chat/completions`;
  const post = (body: object) =>
    fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    mock = await startMockBedrock({ credentials: TEST_AWS });
    sidecar = await startBedrockSidecar(bedrockPolicy({ upstream: mock.url }), awsEnv(TEST_AWS));
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  beforeEach(() => expect(mock.pending()).toBe(0));

  const G12 = {
    model: fresh(),
    max_tokens: 100,
    messages: [
      { role: 'system', content: 'Be terse.' },
      { role: 'developer', content: 'Answer in French.' },
      { role: 'user', content: 'Capital of Japan?' },
      { role: 'assistant', content: 'Tokyo.' },
      { role: 'system', content: 'From now on reply in JSON.' },
      { role: 'user', content: 'And of Italy?' },
    ],
  };

  it.each([false, true])(
    'G12 (Bedrock, stream=%s): all three instructions reach system, in order',
    async (stream) => {
      const res = stream ? await postSse(url(), { ...G12, stream }) : await post(G12);
      expect(res.status).toBe(200);
      const sent = mock.requests.at(-1)!;
      expect(sent.rejected).toBeUndefined();
      const json = sent.json as { system: unknown; messages: { role: string }[] };
      expect(json.system).toEqual([
        { text: 'Be terse.' },
        { text: 'Answer in French.' },
        { text: 'From now on reply in JSON.' },
      ]);
      expect(json.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    },
  );

  const G17 = {
    model: fresh(),
    messages: [
      { role: 'user', content: 'Weather in Paris and Tokyo?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          {
            id: 'call_2',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18C' },
      { role: 'tool', tool_call_id: 'call_2', content: '25C' },
    ],
    tools: [WEATHER],
  };

  it.each([false, true])(
    'G17 (stream=%s): both tool results travel in one user message, in order',
    async (stream) => {
      const res = stream ? await postSse(url(), { ...G17, stream }) : await post(G17);
      expect(res.status).toBe(200);
      const sent = mock.requests.at(-1)!;
      expect(sent.rejected).toBeUndefined();
      const messages = (sent.json as { messages: { role: string; content: unknown[] }[] }).messages;
      expect(messages).toHaveLength(3);
      expect(messages[2]).toEqual({
        role: 'user',
        content: [
          { toolResult: { toolUseId: 'call_1', content: [{ text: '18C' }] } },
          { toolResult: { toolUseId: 'call_2', content: [{ text: '25C' }] } },
        ],
      });
    },
  );

  it("G17: the strict mock refuses the broken translation with Bedrock's own errors", () => {
    const toolUse = (id: string, city: string) => ({
      toolUse: { toolUseId: id, name: 'get_weather', input: { city } },
    });
    const result = (id: string, text: string) => ({
      toolResult: { toolUseId: id, content: [{ text }] },
    });
    const base = {
      toolConfig: {
        tools: [
          { toolSpec: { name: 'get_weather', inputSchema: { json: WEATHER.function.parameters } } },
        ],
      },
    };
    // Each tool message as its own user turn: two user turns in a row.
    expect(
      converseRejection({
        ...base,
        messages: [
          { role: 'user', content: [{ text: 'Weather?' }] },
          { role: 'assistant', content: [toolUse('call_1', 'Paris'), toolUse('call_2', 'Tokyo')] },
          { role: 'user', content: [result('call_1', '18C')] },
          { role: 'user', content: [result('call_2', '25C')] },
        ],
      })?.message,
    ).toBe(
      'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
    );
    // Only the first result in the next turn.
    expect(
      converseRejection({
        ...base,
        messages: [
          { role: 'user', content: [{ text: 'Weather?' }] },
          { role: 'assistant', content: [toolUse('call_1', 'Paris'), toolUse('call_2', 'Tokyo')] },
          { role: 'user', content: [result('call_1', '18C')] },
        ],
      })?.message,
    ).toBe('Expected toolResult blocks at messages.2.content for the following Ids: call_2');
  });

  it('G22 (A): a 200 stream whose only frame is a validation exception gives the client a 400, after one upstream call', async () => {
    mock.script({ frames: [exceptionFrame('validationException', 'Could not process image')] });
    const before = mock.requests.length;
    const res = await postSse(url(), {
      model: fresh(),
      stream: true,
      messages: [{ role: 'user', content: 'Describe it' }],
    });
    expect(res.status).toBe(400);
    const body = JSON.parse(res.raw);
    expect(body.error).toEqual({
      message: 'Provider "bedrock": Could not process image',
      type: 'invalid_request_error',
      param: null,
      code: 'GW_ERR_UPSTREAM_BAD_REQUEST',
    });
    expect(mock.requests.length - before).toBe(1);
    await eventually(() =>
      sidecar.requestLogs().some((l) => l.error_code === 'GW_ERR_UPSTREAM_BAD_REQUEST'),
    );
  });

  it('G22 (A, after the commit point): an exception after text is one error event and no [DONE]', async () => {
    mock.script({
      frames: [
        ...converseStream({ text: ['Partial ', 'answer'], noStop: true, noMetadata: true }),
        exceptionFrame('modelStreamErrorException', 'The model stream broke off.'),
      ],
    });
    const res = await postSse(url(), {
      model: fresh(),
      stream: true,
      messages: [{ role: 'user', content: 'go' }],
    });
    expect(res.status).toBe(200);
    expect(res.done).toBe(false);
    const chunks = chunksOf(res) as Record<string, unknown>[];
    const last = chunks.at(-1) as { error: { code: string; message: string } };
    expect(last.error).toMatchObject({
      code: 'GW_ERR_STREAM_UPSTREAM_ERROR',
      message: 'Provider "bedrock": The model stream broke off.',
    });
    expect(reassembleChat(chunks.slice(0, -1)).content).toBe('Partial answer');
  });

  itConforms.each([
    ['variant A (tool blocks only)', []],
    ['variant B (a text block first)', ['Looking both up.']],
  ])('G01-style parallel tool calls in the stream, %s: indices 0 and 1', async (_name, text) => {
    mock.script({
      frames: converseStream({
        text,
        tools: [
          { id: 'tooluse_A', name: 'get_weather', input: ['{"city": "Par', 'is"}'] },
          { id: 'tooluse_B', name: 'get_weather', input: ['{"city":"Tokyo"}'] },
        ],
      }),
      splitAt: [13, 200, 201, 377],
    });
    const res = await postSse(url(), {
      model: fresh(),
      stream: true,
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Weather in Paris and in Tokyo?' }],
      tools: [WEATHER],
    });
    const chunks = chunksOf(res);
    const chat = reassembleChat(chunks);
    expect(chat.anomalies).toEqual([]);
    expect(chat.roleChunks).toBe(1);
    expect(chat.toolCalls).toHaveLength(2);
    expect(chat.toolCalls.map((c) => [c.index, c.id])).toEqual([
      [0, 'tooluse_A'],
      [1, 'tooluse_B'],
    ]);
    expect(chat.toolCalls.map((c) => JSON.parse(c.arguments))).toEqual([
      { city: 'Paris' },
      { city: 'Tokyo' },
    ]);
    expect(chat.finishReason).toBe('tool_calls');
    expect(res.done).toBe(true);
    recordEachConformance('CreateChatCompletionStreamResponse', chunks);
  });

  it.each([false, true])(
    'G21 (Bedrock, stream=%s): "Input is too long" is a context-length 400',
    async (stream) => {
      mock.script(bedrockErrors.inputTooLong());
      const body = {
        model: fresh(),
        stream,
        messages: [{ role: 'user', content: 'x'.repeat(9000) }],
      };
      const res = stream ? await postSse(url(), body) : await post(body);
      const json = stream
        ? JSON.parse((res as { raw: string }).raw)
        : await (res as Response).json();
      expect(res.status).toBe(400);
      expect(json.error.code).toBe('GW_ERR_UPSTREAM_CONTEXT_LENGTH');
      expect(json.error.message).toBe('Provider "bedrock": Input is too long for requested model.');
    },
  );

  it.each([false, true])('throttling (stream=%s) maps to 429', async (stream) => {
    mock.script(bedrockErrors.throttled());
    const body = { model: fresh(), stream, messages: [{ role: 'user', content: 'hi' }] };
    const res = stream ? await postSse(url(), body) : await post(body);
    expect(res.status).toBe(429);
    const json = stream ? JSON.parse((res as { raw: string }).raw) : await (res as Response).json();
    expect(json.error.code).toBe('GW_ERR_UPSTREAM_RATE_LIMITED');
  });

  it('a throttlingException inside a 200 stream, before any text, is a 429', async () => {
    mock.script({
      frames: [
        eventFrame('messageStart', { role: 'assistant' }),
        exceptionFrame('throttlingException', 'Too many tokens, please wait before trying again.'),
      ],
    });
    const res = await postSse(url(), {
      model: fresh(),
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(429);
    expect(JSON.parse(res.raw).error.code).toBe('GW_ERR_UPSTREAM_RATE_LIMITED');
  });

  it.each([
    [bedrockErrors.unavailable(), 503, 'GW_ERR_UPSTREAM_OVERLOADED'],
    [bedrockErrors.internal(), 502, 'GW_ERR_UPSTREAM_ERROR'],
    [bedrockErrors.modelTimeout(), 504, 'GW_ERR_UPSTREAM_TIMEOUT'],
    [bedrockErrors.modelNotFound(), 404, 'GW_ERR_UPSTREAM_NOT_FOUND'],
    [bedrockErrors.accessDenied(), 502, 'GW_ERR_UPSTREAM_AUTH'],
  ])('maps %j to %i %s', async (step, status, code) => {
    mock.script(step);
    const res = await post({
      model: fresh(),
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(status);
    expect((await res.json()).error.code).toBe(code);
  });

  it('a cut stream (socket closed mid-frame after text) ends with an interrupted event', async () => {
    const frames = converseStream({ text: ['Hello', ' there'] });
    const all = Buffer.concat(frames);
    mock.script({ frames: [all.subarray(0, all.length - 40)], ending: 'destroy', delayMs: 20 });
    const res = await postSse(url(), {
      model: fresh(),
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    }).catch((err: { partial?: { raw: string } }) => ({
      status: 200,
      done: false,
      raw: err.partial?.raw ?? '',
      events: [],
    }));
    expect(res.done).toBe(false);
    expect(res.raw).toContain('GW_ERR_STREAM_INTERRUPTED');
  });
});

describe('Bedrock credential failures', () => {
  let mock: MockBedrock;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    mock = await startMockBedrock({ credentials: TEST_AWS });
    // Right key id, wrong secret: every signature is wrong.
    const wrong = { ...TEST_AWS, secretAccessKey: 'not-the-secret-0000000000000000000000000' };
    sidecar = await startBedrockSidecar(bedrockPolicy({ upstream: mock.url }), awsEnv(wrong));
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  it.each([false, true])(
    'a signature AWS refuses (stream=%s) is a 502 auth failure that quotes nothing back',
    async (stream) => {
      const body = { model: fresh(), stream, messages: [{ role: 'user', content: 'hi' }] };
      const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      expect(res.status).toBe(502);
      expect(JSON.parse(text).error).toEqual({
        message: 'Provider "bedrock" rejected the credential configured for it.',
        type: 'api_error',
        param: null,
        code: 'GW_ERR_UPSTREAM_AUTH',
      });
      expect(mock.requests.at(-1)!.rejected?.error).toBe('InvalidSignatureException');
      expect(text).not.toContain('Canonical String');
      expect(text).not.toContain(TEST_AWS.accessKeyId);
    },
  );
});
