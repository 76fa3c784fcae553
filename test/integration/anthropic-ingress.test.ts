// The Anthropic Messages ingress end to end: an Anthropic-SDK-style client, the real sidecar
// (both HTTP fronts), and the scriptable OpenAI mock behind it.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  chatCompletion,
  chatStream,
  openaiErrors,
  type RecordedRequest,
  type ScriptStep,
  startMockOpenAI,
  type MockOpenAI,
} from '../support/mock-openai.js';
import {
  PROVIDER_SECRET,
  TEST_KEY,
  eventually,
  startTestSidecar,
  testPolicy,
  type TestSidecar,
} from '../support/sidecar.js';
import { postMessages } from '../api/anthropic/sdk-style-client.js';

const G10_REQUEST = {
  model: 'gpt-backed',
  max_tokens: 64,
  stream: true,
  messages: [{ role: 'user', content: 'Reply with exactly: token test.' }],
};

/** Usage only when the upstream request asked for it, as OpenAI does. */
function usageOnlyIfAsked(stream: boolean): ScriptStep {
  return (req: RecordedRequest) => {
    const body = req.json as { stream_options?: { include_usage?: boolean } };
    const asked = body.stream_options?.include_usage === true;
    const usage = { prompt_tokens: 14, completion_tokens: 4 };
    const model = 'gpt-4o-mini';
    if (stream) {
      const pieces = ['token', ' test', '.'];
      return { sse: chatStream({ model, pieces, includeUsage: asked, usage }) };
    }
    return { status: 200, json: chatCompletion({ model, content: 'token test.', usage }) };
  };
}

describe.each(['auto', 'node'] as const)('Anthropic ingress (%s front)', (front) => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;
  const url = () => `${sidecar.url}/anthropic/v1/messages`;
  const upstreamBody = () => mock.requests.at(-1)!.json as Record<string, unknown>;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }), front);
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  afterEach(() => expect(mock.pending()).toBe(0));

  it('G10: a stream from an OpenAI model accumulates input_tokens 14, output_tokens 4', async () => {
    mock.script(usageOnlyIfAsked(true));
    const res = await postMessages(url(), G10_REQUEST);

    expect(upstreamBody()).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.stopped).toBe(true);
    expect(res.message?.content).toEqual([{ type: 'text', text: 'token test.' }]);
    expect(res.message?.stop_reason).toBe('end_turn');
    expect(res.message?.usage).toMatchObject({ input_tokens: 14, output_tokens: 4 });

    // The design choice: message_start cannot know the count yet; message_delta carries it.
    const start = res.events[0].data.message as { usage: Record<string, number> };
    expect(start.usage.input_tokens).toBe(0);
    const delta = res.events.find((e) => e.event === 'message_delta')!;
    expect(delta.data.usage).toEqual({
      input_tokens: 14,
      output_tokens: 4,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
    await eventually(() => sidecar.requestLogs().length > 0);
    expect(sidecar.requestLogs().at(-1)).toMatchObject({
      path: '/anthropic/v1/messages',
      prompt_tokens: 14,
      completion_tokens: 4,
      outcome: 'ok',
    });
  });

  it('G10: the non-streamed answer reports input_tokens 14 and output_tokens 4', async () => {
    mock.script(usageOnlyIfAsked(false));
    const res = await postMessages(url(), { ...G10_REQUEST, stream: false });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-mini',
      content: [{ type: 'text', text: 'token test.' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 14, output_tokens: 4, cache_read_input_tokens: 0 },
    });
    expect(String(res.body?.id)).toMatch(/^msg_/);
    expect(res.headers['request-id']).toBe(res.headers['x-request-id']);
  });

  it("refuses a body that is not UTF-8 with a 400 in Anthropic's envelope, and keeps serving", async () => {
    const before = mock.requests.length;
    const res = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: Buffer.concat([
        Buffer.from('{"model":"m/'),
        Buffer.from([0xff]),
        Buffer.from('ok","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}'),
      ]),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: 'The request body is not valid UTF-8, which JSON must be (RFC 8259).',
      },
    });
    expect(mock.requests.length).toBe(before);

    mock.script(usageOnlyIfAsked(false));
    const next = await postMessages(url(), { ...G10_REQUEST, stream: false });
    expect(next.status).toBe(200);
  });

  it('reports cached prompt tokens apart from input_tokens, as Anthropic does', async () => {
    const usage = { prompt_tokens: 1200, completion_tokens: 7, cached_tokens: 1024 };
    mock.script({ status: 200, json: chatCompletion({ model: 'gpt-4o', content: 'ok', usage }) });
    const res = await postMessages(url(), { ...G10_REQUEST, stream: false });
    expect(res.body?.usage).toEqual({
      input_tokens: 176,
      output_tokens: 7,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 1024,
    });
  });

  it('runs a tool loop over two turns: tool_use out, tool_result back', async () => {
    const tools = [
      {
        name: 'get_weather',
        description: 'Current weather in a city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } } },
      },
    ];
    const first = { role: 'user', content: 'Weather in Paris?' };
    mock.script({
      sse: chatStream({
        model: 'gpt-4o',
        pieces: ['Let me check.'],
        toolCalls: [{ id: 'call_A', name: 'get_weather', arguments: ['{"ci', 'ty":"Par', 'is"}'] }],
        includeUsage: true,
      }),
    });
    const turn1 = await postMessages(url(), {
      model: 'gpt-4o',
      max_tokens: 200,
      stream: true,
      tools,
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      messages: [first],
    });

    expect(upstreamBody()).toMatchObject({
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', parameters: tools[0].input_schema },
        },
      ],
      tool_choice: 'auto',
      parallel_tool_calls: false,
    });
    expect(turn1.message?.stop_reason).toBe('tool_use');
    expect(turn1.message?.content).toEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'call_A', name: 'get_weather', input: { city: 'Paris' } },
    ]);
    const starts = turn1.events.filter((e) => e.event === 'content_block_start');
    expect(starts.map((e) => e.data.index)).toEqual([0, 1]);

    mock.script({
      status: 200,
      json: chatCompletion({ model: 'gpt-4o', content: '18C and sunny.' }),
    });
    const turn2 = await postMessages(url(), {
      model: 'gpt-4o',
      max_tokens: 200,
      tools,
      messages: [
        first,
        { role: 'assistant', content: turn1.message!.content },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'call_A',
              content: [{ type: 'text', text: '18C' }],
            },
            { type: 'text', text: 'Answer briefly.' },
          ],
        },
      ],
    });

    expect(upstreamBody().messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [
          {
            id: 'call_A',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_A', content: '18C' },
      { role: 'user', content: 'Answer briefly.' },
    ]);
    expect(turn2.body).toMatchObject({
      content: [{ type: 'text', text: '18C and sunny.' }],
      stop_reason: 'end_turn',
    });
  });

  it('translates system blocks, images, stop_sequences and metadata; drops top_k', async () => {
    mock.script({ status: 200, json: chatCompletion({ model: 'gpt-4o', content: 'A cat.' }) });
    const res = await postMessages(url(), {
      model: 'gpt-4o',
      max_tokens: 50,
      system: [
        { type: 'text', text: 'Be terse.' },
        { type: 'text', text: 'Answer in English.', cache_control: { type: 'ephemeral' } },
      ],
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'image',
              source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0K' },
            },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
            { type: 'text', text: 'What is this?' },
          ],
        },
      ],
      stop_sequences: ['\n\nHuman:'],
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      metadata: { user_id: 'user-42' },
    });

    expect(res.status).toBe(200);
    const body = upstreamBody();
    expect(body).toEqual({
      model: 'gpt-4o',
      max_tokens: 50,
      messages: [
        {
          role: 'system',
          content: [
            { type: 'text', text: 'Be terse.' },
            { type: 'text', text: 'Answer in English.' },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0K' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
            { type: 'text', text: 'What is this?' },
          ],
        },
      ],
      stop: ['\n\nHuman:'],
      temperature: 0.2,
      top_p: 0.9,
      user: 'user-42',
    });
  });

  it('reports stop_sequence when the upstream names the sequence it matched (vLLM)', async () => {
    const completion = chatCompletion({ model: 'llama', content: 'one, two' });
    const choice = { ...completion.choices[0], stop_reason: 'three' };
    mock.script({ status: 200, json: { ...completion, choices: [choice] } });
    const res = await postMessages(url(), {
      ...G10_REQUEST,
      stream: false,
      stop_sequences: ['three'],
    });
    expect(res.body).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'three' });
  });

  it('answers malformed JSON with 400 invalid_request_error in Anthropic’s envelope', async () => {
    const before = mock.requests.length;
    const res = await postMessages(url(), '{"model": "gpt-4o", ');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('not valid JSON') },
    });
    expect(mock.requests.length).toBe(before);
  });

  it('requires max_tokens, as Anthropic does', async () => {
    const before = mock.requests.length;
    const { max_tokens: _, ...request } = G10_REQUEST;
    const res = await postMessages(url(), request);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: "'max_tokens' is required." },
      request_id: res.headers['x-request-id'],
    });
    expect(mock.requests.length).toBe(before);
  });

  it('passes an upstream 429 on as rate_limit_error with its retry-after', async () => {
    mock.script({
      status: 429,
      headers: { 'retry-after': '7' },
      json: {
        error: { message: 'Slow down.', type: 'tokens', param: null, code: 'rate_limit_exceeded' },
      },
    });
    const res = await postMessages(url(), G10_REQUEST);
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.body).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error', message: expect.stringContaining('Slow down.') },
    });
  });

  it('answers a stream that fails before its first token with a plain HTTP error', async () => {
    mock.script(openaiErrors.overloaded());
    const res = await postMessages(url(), G10_REQUEST);
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.body).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(res.events).toEqual([]);
  });

  it('passes a provider’s unknown-model 404 on as not_found_error', async () => {
    mock.script(openaiErrors.modelNotFound('gpt-9'));
    const res = await postMessages(url(), { ...G10_REQUEST, model: 'gpt-9', stream: false });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error', message: expect.stringContaining('gpt-9') },
    });
  });

  it('ends a stream cut after content with event: error and no message_stop', async () => {
    const events = chatStream({ model: 'gpt-4o', pieces: ['Once', ' upon', ' a', ' time'] });
    mock.script({ sse: events.slice(0, 3), ending: 'destroy', delayMs: 20 });
    const res = await postMessages(url(), { ...G10_REQUEST, model: 'gpt-4o' });

    expect(res.status).toBe(200);
    expect(res.message?.content).toEqual([{ type: 'text', text: 'Once upon' }]);
    expect(res.streamError).toEqual({
      type: 'api_error',
      message: expect.stringContaining('broke off') as string,
    });
    expect(res.stopped).toBe(false);
    expect(res.events.some((e) => e.event === 'message_delta')).toBe(false);
    await eventually(() => sidecar.requestLogs().at(-1)?.outcome === 'stream_interrupted');
  });
});

describe('Anthropic ingress: models, keys and credentials', () => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;
  const url = () => `${sidecar.url}/anthropic/v1/messages`;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    const policy = testPolicy({ upstream: mock.url, withKeys: true });
    policy.models = policy.models.filter((m) => m.name !== '*');
    sidecar = await startTestSidecar(policy);
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  const ask = { model: 'alias-fast', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };

  it('takes the sidecar key as x-api-key and never forwards it', async () => {
    const res = await postMessages(url(), ask, { 'x-api-key': TEST_KEY });
    expect(res.status).toBe(200);
    const upstream = mock.requests.at(-1)!;
    expect(upstream.headers['x-api-key']).toBeUndefined();
    expect(upstream.headers.authorization).toBe(`Bearer ${PROVIDER_SECRET}`);
    expect(upstream.headers['anthropic-version']).toBeUndefined();
    await eventually(() => sidecar.requestLogs().length > 0);
    expect(sidecar.requestLogs().at(-1)).toMatchObject({ key_id: 'test-app', team: 'payments' });
  });

  it('takes the sidecar key as a bearer token too', async () => {
    const res = await postMessages(url(), ask, { authorization: `Bearer ${TEST_KEY}` });
    expect(res.status).toBe(200);
  });

  it('refuses a missing or unknown key with 401 authentication_error', async () => {
    const before = mock.requests.length;
    const missing = await postMessages(url(), ask);
    const wrong = await postMessages(url(), ask, { 'x-api-key': 'sk-not-ours' });
    for (const res of [missing, wrong]) {
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    }
    expect(mock.requests.length).toBe(before);
  });

  it('answers a model this sidecar does not serve with 404 not_found_error', async () => {
    const res = await postMessages(
      url(),
      { ...ask, model: 'claude-nowhere' },
      {
        'x-api-key': TEST_KEY,
      },
    );
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error', message: expect.stringContaining('claude-nowhere') },
    });
  });
});
