import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  anthropicMessage,
  anthropicStream,
  startMockAnthropic,
  type MockAnthropic,
} from '../support/mock-anthropic.js';
import { itConforms, recordConformance, recordEachConformance } from '../support/conformance.js';
import { anthropicPolicy } from '../providers/anthropic/harness.js';
import { PROVIDER_SECRET, startTestSidecar, type TestSidecar } from '../support/sidecar.js';

// The official openai SDK drives the sidecar, which speaks Anthropic's Messages API to a strict
// mock: whatever the translation gets wrong, the mock refuses with Anthropic's own 400.

const MODEL = 'claude-sonnet-4-5';
/** A 1x1 PNG. */
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const weatherTool: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
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

function conformsCompletion(completion: unknown): void {
  recordConformance('CreateChatCompletionResponse', completion);
}

function conformsChunks(chunks: unknown[]): void {
  recordEachConformance('CreateChatCompletionStreamResponse', chunks);
}

describe('the openai SDK against an Anthropic provider', () => {
  let mock: MockAnthropic;
  let sidecar: TestSidecar;
  let client: OpenAI;
  const sent = () => mock.requests.at(-1)!;

  beforeAll(async () => {
    mock = await startMockAnthropic({ apiKey: PROVIDER_SECRET });
    sidecar = await startTestSidecar(anthropicPolicy(mock.url));
    client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  afterEach(() => expect(mock.pending()).toBe(0));

  itConforms(
    'answers a plain chat, with the key, version and translated body upstream',
    async () => {
      const completion = await client.chat.completions.create({
        model: MODEL,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Say hello' },
        ],
        temperature: 0.2,
      });

      expect(completion.object).toBe('chat.completion');
      expect(completion.model).toBe(MODEL);
      expect(completion.choices[0].message).toMatchObject({
        role: 'assistant',
        content: 'Hello from the mock.',
      });
      expect(completion.choices[0].finish_reason).toBe('stop');
      expect(completion.usage?.completion_tokens).toBe(4);
      conformsCompletion(completion);

      expect(sent().path).toBe('/v1/messages');
      expect(sent().headers['x-api-key']).toBe(PROVIDER_SECRET);
      expect(sent().headers['anthropic-version']).toBe('2023-06-01');
      expect(sent().headers.authorization).toBeUndefined();
      expect(sent().json).toEqual({
        model: MODEL,
        max_tokens: 4096,
        system: [{ type: 'text', text: 'Be brief.' }],
        messages: [{ role: 'user', content: 'Say hello' }],
        temperature: 0.2,
      });
    },
  );

  itConforms('streams a chat: one role chunk, the text, stop, no usage chunk unasked', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(
      'Hello from the mock.',
    );
    expect(chunks.filter((c) => c.choices[0]?.delta?.role === 'assistant')).toHaveLength(1);
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('stop');
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect(sent().json).toMatchObject({ stream: true });
    conformsChunks(chunks);
  });

  itConforms(
    'adds the usage chunk, last and with no choices, when include_usage is set',
    async () => {
      mock.script({
        sse: anthropicStream({
          model: MODEL,
          blocks: [{ type: 'text', text: ['Two', ' words'] }],
          usage: { input_tokens: 9, output_tokens: 3 },
        }),
      });
      const stream = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Two words' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);

      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage).toEqual({
        prompt_tokens: 9,
        completion_tokens: 3,
        total_tokens: 12,
        prompt_tokens_details: { cached_tokens: 0 },
      });
      expect(chunks.slice(0, -1).every((c) => c.choices.length === 1)).toBe(true);
      // stream_options is OpenAI's; Anthropic streams always carry usage and refuse the field.
      expect(sent().json).not.toHaveProperty('stream_options');
      conformsChunks(chunks);
    },
  );

  itConforms('runs parallel tool calls and their results over two turns', async () => {
    mock.script({
      status: 200,
      json: anthropicMessage({
        model: MODEL,
        blocks: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: '{"city":"Paris"}' },
          { type: 'tool_use', id: 'toolu_B', name: 'get_weather', input: '{"city":"Tokyo"}' },
        ],
      }),
    });
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Weather in Paris and Tokyo?' },
    ];
    const first = await client.chat.completions.create({
      model: MODEL,
      messages,
      tools: [weatherTool],
    });
    conformsCompletion(first);

    const reply = first.choices[0].message;
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(reply.content).toBe('Checking both.');
    expect(reply.tool_calls).toEqual([
      {
        id: 'toolu_A',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
      {
        id: 'toolu_B',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' },
      },
    ]);

    messages.push(
      reply,
      { role: 'tool', tool_call_id: 'toolu_A', content: '18C' },
      { role: 'tool', tool_call_id: 'toolu_B', content: '25C' },
    );
    mock.script({
      status: 200,
      json: anthropicMessage({
        model: MODEL,
        blocks: [{ type: 'text', text: 'Paris 18C, Tokyo 25C.' }],
      }),
    });
    const second = await client.chat.completions.create({
      model: MODEL,
      messages,
      tools: [weatherTool],
    });

    expect(second.choices[0].message.content).toBe('Paris 18C, Tokyo 25C.');
    expect((sent().json as { messages: unknown }).messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Tokyo?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_B', name: 'get_weather', input: { city: 'Tokyo' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_A', content: '18C' },
          { type: 'tool_result', tool_use_id: 'toolu_B', content: '25C' },
        ],
      },
    ]);
  });

  it('streams parallel tool calls with their own indices', async () => {
    mock.script({
      sse: anthropicStream({
        model: MODEL,
        blocks: [
          { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: ['{"city":', '"Paris"}'] },
          { type: 'tool_use', id: 'toolu_B', name: 'get_weather', input: ['{"city":"Tokyo"}'] },
        ],
      }),
    });
    const stream = client.chat.completions.stream({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather in Paris and Tokyo?' }],
      tools: [weatherTool],
      stream: true,
    });
    const final = await stream.finalChatCompletion();

    expect(final.choices[0].finish_reason).toBe('tool_calls');
    expect(final.choices[0].message.tool_calls?.map((c) => [c.id, c.function.arguments])).toEqual([
      ['toolu_A', '{"city":"Paris"}'],
      ['toolu_B', '{"city":"Tokyo"}'],
    ]);
  });

  it('sends images: a data URI typed by its bytes, and a URL for Anthropic to fetch', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            // Labelled JPEG, but the bytes are a PNG: Anthropic would refuse the label.
            { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${PNG_BASE64}` } },
            {
              type: 'image_url',
              image_url: { url: 'https://example.com/cat.webp', detail: 'low' },
            },
          ],
        },
      ],
    });

    expect(completion.choices[0].message.content).toBe('Hello from the mock.');
    expect((sent().json as { messages: unknown }).messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.webp' } },
        ],
      },
    ]);
  });

  itConforms('answers with JSON that follows a json_schema response_format', async () => {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, celsius: { type: 'number' } },
      required: ['city', 'celsius'],
      additionalProperties: false,
    };
    mock.script({
      status: 200,
      json: anthropicMessage({
        model: MODEL,
        blocks: [{ type: 'text', text: '{"city":"Paris","celsius":18}' }],
      }),
    });
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather in Paris as JSON' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'weather', strict: true, schema },
      },
    });

    expect(JSON.parse(completion.choices[0].message.content!)).toEqual({
      city: 'Paris',
      celsius: 18,
    });
    expect(sent().json).toMatchObject({
      output_config: { format: { type: 'json_schema', schema } },
    });
    expect(sent().json).not.toHaveProperty('response_format');
    conformsCompletion(completion);
  });
});
