// The official openai SDK (6.x) drives the real sidecar, which speaks Cohere chat v2 to a
// strict mock Cohere server: every request the sidecar builds must pass Cohere's rules.

import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  cohereChat,
  coherePolicy,
  cohereStream,
  startMockCohere,
  type MockCohere,
} from '../support/mock-cohere.js';
import { itConforms, recordConformance, recordEachConformance } from '../support/conformance.js';
import {
  PROVIDER_SECRET,
  eventually,
  startTestSidecar,
  type TestSidecar,
} from '../support/sidecar.js';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  },
};

describe('chat completions against Cohere, driven by the openai SDK', () => {
  let mock: MockCohere;
  let sidecar: TestSidecar;
  let client: OpenAI;

  beforeAll(async () => {
    mock = await startMockCohere({ expectApiKey: PROVIDER_SECRET });
    sidecar = await startTestSidecar(coherePolicy(mock.url));
    client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  afterEach(() => expect(mock.pending()).toBe(0));

  itConforms(
    'answers a plain chat, with the bearer key and the provider model name upstream',
    async () => {
      mock.script({
        status: 200,
        json: cohereChat({
          id: 'msg-1',
          text: 'Hello!',
          usage: { billed: { input: 3, output: 2 }, tokens: { input: 203, output: 3 } },
        }),
      });
      const completion = await client.chat.completions.create({
        model: 'command-fast',
        messages: [{ role: 'user', content: 'Say hello' }],
        temperature: 0.2,
      });

      expect(completion.choices[0].message.content).toBe('Hello!');
      expect(completion.choices[0].finish_reason).toBe('stop');
      expect(completion.usage).toEqual({
        prompt_tokens: 203,
        completion_tokens: 3,
        total_tokens: 206,
      });
      const sent = mock.requests.at(-1)!;
      expect(sent.path).toBe('/v2/chat');
      expect(sent.headers.authorization).toBe(`Bearer ${PROVIDER_SECRET}`);
      expect(sent.json).toEqual({
        model: 'command-a-03-2025',
        messages: [{ role: 'user', content: 'Say hello' }],
        temperature: 0.2,
        stream: false,
      });
      recordConformance('CreateChatCompletionResponse', completion);
    },
  );

  itConforms(
    'streams with include_usage: one role chunk, the text, then usage with no choices',
    async () => {
      mock.script({ sse: cohereStream({ pieces: ['Counting', ' one', ' two'] }) });
      const stream = await client.chat.completions.create({
        model: 'command-fast',
        messages: [{ role: 'user', content: 'Count' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);

      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(
        'Counting one two',
      );
      expect(chunks.filter((c) => c.choices[0]?.delta?.role === 'assistant')).toHaveLength(1);
      expect(chunks.at(-1)!.choices).toEqual([]);
      expect(chunks.at(-1)!.usage).toEqual({
        prompt_tokens: 205,
        completion_tokens: 6,
        total_tokens: 211,
      });
      expect(mock.requests.at(-1)!.json).toMatchObject({ stream: true });
      expect(mock.requests.at(-1)!.headers.accept).toBe('text/event-stream');
      recordEachConformance('CreateChatCompletionStreamResponse', chunks);
      await eventually(() => sidecar.requestLogs().some((l) => l.stream && l.total_tokens === 211));
    },
  );

  it('drops the usage chunk when the client did not ask for it, but still meters the stream', async () => {
    mock.script({
      sse: cohereStream({ pieces: ['ok'], usage: { tokens: { input: 77, output: 1 } } }),
    });
    const stream = await client.chat.completions.create({
      model: 'command-fast',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    await eventually(() => sidecar.requestLogs().some((l) => l.prompt_tokens === 77));
  });

  it('streams parallel tool calls, then sends their results back over a second turn', async () => {
    mock.script({
      sse: cohereStream({
        toolPlan: ['I will look up', ' both cities.'],
        toolCalls: [
          { id: 'get_weather_p1', name: 'get_weather', arguments: ['{"city":', '"Paris"}'] },
          { id: 'get_weather_t2', name: 'get_weather', arguments: ['{"city":"Tokyo"}'] },
        ],
      }),
    });
    const question = { role: 'user' as const, content: 'Weather in Paris and Tokyo?' };
    const turn1 = await client.chat.completions
      .stream({
        model: 'command-fast',
        messages: [question],
        tools: [weatherTool],
        tool_choice: 'auto',
        parallel_tool_calls: true,
      })
      .finalChatCompletion();
    const message = turn1.choices[0].message;
    expect(turn1.choices[0].finish_reason).toBe('tool_calls');
    expect(message.content).toBe('I will look up both cities.');
    const calls = (message.tool_calls ?? []).filter((c) => c.type === 'function');
    expect(calls.map((c) => [c.id, c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ['get_weather_p1', 'get_weather', { city: 'Paris' }],
      ['get_weather_t2', 'get_weather', { city: 'Tokyo' }],
    ]);

    mock.script({ status: 200, json: cohereChat({ text: 'Paris 18C, Tokyo 25C.' }) });
    const turn2 = await client.chat.completions.create({
      model: 'command-fast',
      messages: [
        question,
        message,
        { role: 'tool', tool_call_id: 'get_weather_p1', content: '18C' },
        { role: 'tool', tool_call_id: 'get_weather_t2', content: '25C' },
      ],
      tools: [weatherTool],
    });
    expect(turn2.choices[0].message.content).toBe('Paris 18C, Tokyo 25C.');
    // The strict mock accepted it: each tool result names a call of the assistant turn.
    expect((mock.requests.at(-1)!.json as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Tokyo?' },
      {
        role: 'assistant',
        tool_plan: 'I will look up both cities.',
        tool_calls: [
          {
            id: 'get_weather_p1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          {
            id: 'get_weather_t2',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'get_weather_p1', content: '18C' },
      { role: 'tool', tool_call_id: 'get_weather_t2', content: '25C' },
    ]);
  });

  it('sends images given as a data URI and as a URL', async () => {
    await client.chat.completions.create({
      model: 'command-a-vision-07-2025',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/b.jpg', detail: 'high' } },
          ],
        },
      ],
    });
    expect(mock.requests.at(-1)!.json).toEqual({
      model: 'command-a-vision-07-2025',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/b.jpg', detail: 'high' } },
          ],
        },
      ],
      stream: false,
    });
  });

  it('asks for JSON with the schema and returns the JSON text', async () => {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
    };
    mock.script({ status: 200, json: cohereChat({ text: '{"city":"Rome"}' }) });
    const completion = await client.chat.completions.create({
      model: 'command-fast',
      messages: [{ role: 'user', content: 'Capital of Italy as JSON' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'capital', strict: true, schema },
      },
    });
    expect(JSON.parse(completion.choices[0].message.content!)).toEqual({ city: 'Rome' });
    expect(mock.requests.at(-1)!.json).toMatchObject({
      response_format: { type: 'json_object', json_schema: schema },
    });
  });

  it('refuses what Cohere cannot do with a 400 the SDK raises, and calls nobody', async () => {
    const before = mock.requests.length;
    const err = await client.chat.completions
      .create({ model: 'command-fast', messages: [{ role: 'user', content: 'x' }], n: 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe(
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
    );
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
    expect(mock.requests.length).toBe(before);
  });

  it('names a tool_choice of another type than function as the unsupported field', async () => {
    const before = mock.requests.length;
    const err = await client.chat.completions
      .create({
        model: 'command-fast',
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: {} } }],
        tool_choice: {
          type: 'allowed_tools',
          allowed_tools: {
            mode: 'auto',
            tools: [{ type: 'function', function: { name: 'get_weather' } }],
          },
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const refused = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(refused.code).toBe('GW_ERR_REQ_UNSUPPORTED_PARAM');
    expect(refused.param).toBe('tool_choice.type');
    expect(refused.message).toContain("'allowed_tools'");
    expect(mock.requests.length).toBe(before);
  });

  it('never writes the provider key into a log line', async () => {
    await client.chat.completions.create({
      model: 'command-fast',
      messages: [{ role: 'user', content: 'log me' }],
    });
    await eventually(() => sidecar.requestLogs().length > 0);
    expect(JSON.stringify(sidecar.logs)).not.toContain(PROVIDER_SECRET);
  });
});
