import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatStream, startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { itConforms, recordConformance, recordEachConformance } from '../support/conformance.js';
import {
  PROVIDER_SECRET,
  TEST_KEY,
  eventually,
  startTestSidecar,
  testPolicy,
  type TestSidecar,
} from '../support/sidecar.js';

// The official openai SDK (6.x) drives the real sidecar, which talks to a mock OpenAI server.
// Both fronts are exercised: uWebSockets.js, and node:http (the fallback when uWS cannot load).
describe.each(['uws', 'node'] as const)('chat completions through the %s front', (http) => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;
  let client: OpenAI;

  beforeAll(async () => {
    mock = await startMockOpenAI({ strict: true, expectApiKey: PROVIDER_SECRET });
    sidecar = await startTestSidecar(testPolicy({ upstream: mock.url, withKeys: true }), http);
    client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  itConforms('answers a non-streamed chat, with the model alias patched upstream', async () => {
    const completion = await client.chat.completions.create({
      model: 'alias-fast',
      messages: [{ role: 'user', content: 'Say hello' }],
      temperature: 0,
      seed: 7,
      user: 'end-user-1',
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0].message.content).toBe('Hello from the mock.');
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);

    const sent = mock.requests.at(-1)!;
    expect(sent.json).toMatchObject({
      model: 'gpt-4o-mini',
      temperature: 0,
      seed: 7,
      user: 'end-user-1',
    });
    expect(sent.headers.authorization).toBe(`Bearer ${PROVIDER_SECRET}`);
    recordConformance('CreateChatCompletionResponse', completion);
  });

  itConforms(
    'streams a chat with include_usage: content, then a usage chunk with no choices',
    async () => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Count' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);

      const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
      expect(text).toBe('Hello from the mock.');
      expect(chunks.filter((c) => c.choices[0]?.delta?.role === 'assistant')).toHaveLength(1);
      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage?.total_tokens).toBeGreaterThan(0);
      recordEachConformance('CreateChatCompletionStreamResponse', chunks);
    },
  );

  it('asks the provider for usage on every stream but drops the usage chunk when the client did not ask', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Count' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(mock.requests.at(-1)!.json).toMatchObject({ stream_options: { include_usage: true } });
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    await eventually(() => sidecar.requestLogs().some((l) => l.stream && l.total_tokens));
  });

  it('streams two parallel tool calls that reassemble by index', async () => {
    mock.script({
      sse: chatStream({
        model: 'gpt-4o-mini',
        toolCalls: [
          { id: 'call_A', name: 'get_weather', arguments: ['{"city":', '"Paris"}'] },
          { id: 'call_B', name: 'get_weather', arguments: ['{"city":"Tokyo"}'] },
        ],
        finishReason: 'tool_calls',
      }),
    });
    const stream = client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Paris and Tokyo?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
      tool_choice: 'auto',
      parallel_tool_calls: true,
    });
    const final = await stream.finalChatCompletion();
    const calls = final.choices[0].message.tool_calls ?? [];
    expect(calls.map((c) => c.id)).toEqual(['call_A', 'call_B']);
    expect(calls.map((c) => c.type === 'function' && JSON.parse(c.function.arguments))).toEqual([
      { city: 'Paris' },
      { city: 'Tokyo' },
    ]);
    expect(final.choices[0].finish_reason).toBe('tool_calls');
  });

  it('passes images, json_schema, stop, logprobs and max_completion_tokens through untouched', async () => {
    const body = {
      model: 'gpt-4o-mini',
      messages: [
        {
          role: 'user' as const,
          content: [
            { type: 'text' as const, text: 'What is in this image?' },
            {
              type: 'image_url' as const,
              image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' as const },
            },
          ],
        },
      ],
      response_format: {
        type: 'json_schema' as const,
        json_schema: {
          name: 'answer',
          strict: true,
          schema: { type: 'object', properties: { a: { type: 'string' } } },
        },
      },
      stop: ['END'],
      logprobs: true,
      top_logprobs: 2,
      max_completion_tokens: 64,
      n: 2,
    };
    const completion = await client.chat.completions.create(body);
    expect(completion.choices).toHaveLength(2);
    expect(mock.requests.at(-1)!.json).toEqual(body);
  });

  itConforms('lists the configured models and describes one', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain('alias-fast');
    const model = await client.models.retrieve('alias-fast');
    expect(model).toMatchObject({ id: 'alias-fast', object: 'model', owned_by: 'up' });
    recordConformance('ListModelsResponse', { object: 'list', data: page.data });
  });

  it('refuses a missing or wrong key with 401 in the OpenAI error shape', async () => {
    const noKey = await fetch(`${sidecar.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(noKey.status).toBe(401);
    expect((await noKey.json()).error.code).toBe('GW_ERR_AUTH_MISSING_KEY');

    const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
    const err = await wrong.chat.completions
      .create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe(
      'GW_ERR_AUTH_INVALID_KEY',
    );
  });

  it('writes one log line per request naming key, project and team, with no secret in any line', async () => {
    await client.chat.completions.create({
      model: 'alias-fast',
      messages: [{ role: 'user', content: 'log me' }],
    });
    await eventually(() => sidecar.requestLogs().some((l) => l.model === 'alias-fast'));
    const line = sidecar.requestLogs().find((l) => l.model === 'alias-fast')!;
    expect(line).toMatchObject({
      key_id: 'test-app',
      project: 'checkout',
      team: 'payments',
      provider: 'up',
      endpoint: 'up/gpt-4o-mini',
      status: 200,
      outcome: 'ok',
    });
    expect(line.request_id).toEqual(expect.any(String));
    expect(line.prompt_tokens).toEqual(expect.any(Number));
    const all = JSON.stringify(sidecar.logs);
    expect(all).not.toContain(PROVIDER_SECRET);
    expect(all).not.toContain(TEST_KEY);
  });

  it('returns the x-request-id the client sent, or a fresh one', async () => {
    const given = await client.chat.completions
      .create(
        { model: 'm', messages: [{ role: 'user', content: 'id' }] },
        { headers: { 'x-request-id': 'req-abc-123' } },
      )
      .withResponse();
    expect(given.response.headers.get('x-request-id')).toBe('req-abc-123');
    const fresh = await client.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'id' }] })
      .withResponse();
    expect(fresh.response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(fresh.response.headers.get('x-modelgate-endpoint')).toBe('up/m');
    expect(fresh.response.headers.get('x-modelgate-attempts')).toBe('1');
  });
});
