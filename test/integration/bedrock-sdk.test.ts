import OpenAI from 'openai';
import type {
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MODEL_IDS,
  TEST_AWS,
  TEST_BEDROCK_API_KEY,
  awsEnv,
  bedrockPolicy,
  converseResponse,
  converseStream,
  startBedrockSidecar,
  startMockBedrock,
  type MockBedrock,
} from '../support/mock-bedrock.js';
import { itConforms, recordConformance, recordEachConformance } from '../support/conformance.js';
import { eventually, type TestSidecar } from '../support/sidecar.js';

// The official openai SDK drives the real sidecar, which speaks Converse to a strict Bedrock
// mock that verifies every SigV4 signature and every Converse rule.

const WEATHER: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

// A 1x1 PNG.
const PNG_1PX =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('Bedrock through the openai SDK (SigV4)', () => {
  let mock: MockBedrock;
  let sidecar: TestSidecar;
  let client: OpenAI;

  beforeAll(async () => {
    mock = await startMockBedrock({ credentials: TEST_AWS, region: 'us-east-1' });
    sidecar = await startBedrockSidecar(bedrockPolicy({ upstream: mock.url }), awsEnv(TEST_AWS));
    client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  beforeEach(() => expect(mock.pending()).toBe(0));

  itConforms('answers a plain chat, signed, at the encoded model path', async () => {
    const completion = await client.chat.completions.create({
      model: 'bedrock-claude',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello' },
      ],
      max_tokens: 64,
      temperature: 0,
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0].message.content).toBe('Hello from Bedrock.');
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({
      prompt_tokens: 12,
      completion_tokens: 6,
      total_tokens: 18,
    });

    const sent = mock.requests.at(-1)!;
    expect(sent.rejected).toBeUndefined();
    expect(sent.rawPath).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
    expect(sent.modelId).toBe(MODEL_IDS.claude);
    expect(sent.canonicalRequest?.split('\n')[1]).toBe(
      '/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse',
    );
    expect(sent.json).toEqual({
      system: [{ text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ text: 'Say hello' }] }],
      inferenceConfig: { maxTokens: 64, temperature: 0 },
    });
    recordConformance('CreateChatCompletionResponse', completion);
  });

  it('reaches inference profiles and ARNs, whose signatures need the double-encoded path', async () => {
    for (const [model, id] of [
      ['bedrock-profile', MODEL_IDS.profile],
      ['bedrock-arn', MODEL_IDS.arn],
    ]) {
      const completion = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(completion.choices[0].message.content).toBe('Hello from Bedrock.');
      expect(mock.requests.at(-1)!.modelId).toBe(id);
    }
  });

  itConforms(
    'streams with include_usage: one role chunk, the text, then a usage chunk with no choices',
    async () => {
      const stream = await client.chat.completions.create({
        model: 'bedrock-claude',
        messages: [{ role: 'user', content: 'Count' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);

      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(
        'Hello from Bedrock.',
      );
      expect(chunks.filter((c) => c.choices[0]?.delta?.role === 'assistant')).toHaveLength(1);
      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      expect(last.usage).toMatchObject({
        prompt_tokens: 12,
        completion_tokens: 6,
        total_tokens: 18,
      });
      expect(chunks.at(-2)!.choices[0].finish_reason).toBe('stop');
      expect(mock.requests.at(-1)!.operation).toBe('converse-stream');
      recordEachConformance('CreateChatCompletionStreamResponse', chunks);
    },
  );

  it('drops the usage chunk when the client did not ask, but still meters the stream', async () => {
    const stream = await client.chat.completions.create({
      model: 'bedrock-claude',
      messages: [{ role: 'user', content: 'metered' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    await eventually(() =>
      sidecar.requestLogs().some((l) => l.stream === true && l.total_tokens === 18),
    );
  });

  it('runs parallel tool calls and their results over two turns (streamed)', async () => {
    mock.script({
      frames: converseStream({
        text: ['Let me check both.'],
        tools: [
          { id: 'tooluse_paris', name: 'get_weather', input: ['{"city":', '"Paris"}'] },
          { id: 'tooluse_tokyo', name: 'get_weather', input: ['{"city":"Tokyo"}'] },
        ],
      }),
    });
    const messages: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Weather in Paris and Tokyo?' },
    ];
    const first = await client.chat.completions
      .stream({ model: 'bedrock-claude', messages, tools: [WEATHER], parallel_tool_calls: true })
      .finalChatCompletion();
    const reply = first.choices[0].message;
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(reply.content).toBe('Let me check both.');
    expect(reply.tool_calls?.map((c) => c.id)).toEqual(['tooluse_paris', 'tooluse_tokyo']);
    const args = reply.tool_calls!.map(
      (c) => c.type === 'function' && JSON.parse(c.function.arguments),
    );
    expect(args).toEqual([{ city: 'Paris' }, { city: 'Tokyo' }]);

    messages.push(
      reply,
      ...reply.tool_calls!.map((c, i) => ({
        role: 'tool' as const,
        tool_call_id: c.id,
        content: ['18C', '25C'][i],
      })),
    );
    mock.script({ frames: converseStream({ text: ['Paris 18C, Tokyo 25C.'] }) });
    const second = await client.chat.completions
      .stream({ model: 'bedrock-claude', messages, tools: [WEATHER] })
      .finalChatCompletion();
    expect(second.choices[0].message.content).toBe('Paris 18C, Tokyo 25C.');

    const sent = mock.requests.at(-1)!;
    expect(sent.rejected).toBeUndefined();
    expect((sent.json as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: [{ text: 'Weather in Paris and Tokyo?' }] },
      {
        role: 'assistant',
        content: [
          { text: 'Let me check both.' },
          {
            toolUse: { toolUseId: 'tooluse_paris', name: 'get_weather', input: { city: 'Paris' } },
          },
          {
            toolUse: { toolUseId: 'tooluse_tokyo', name: 'get_weather', input: { city: 'Tokyo' } },
          },
        ],
      },
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: 'tooluse_paris', content: [{ text: '18C' }] } },
          { toolResult: { toolUseId: 'tooluse_tokyo', content: [{ text: '25C' }] } },
        ],
      },
    ]);
  });

  itConforms('returns parallel tool calls in a non-streamed answer', async () => {
    mock.script({
      status: 200,
      json: converseResponse({
        tools: [
          { id: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } },
          { id: 'tooluse_2', name: 'get_weather', input: { city: 'Tokyo' } },
        ],
      }),
    });
    const completion = await client.chat.completions.create({
      model: 'bedrock-claude',
      messages: [{ role: 'user', content: 'Weather in Paris and Tokyo?' }],
      tools: [WEATHER],
      tool_choice: 'required',
    });
    expect(completion.choices[0].message.tool_calls?.map((c) => c.id)).toEqual([
      'tooluse_1',
      'tooluse_2',
    ]);
    expect((mock.requests.at(-1)!.json as { toolConfig: unknown }).toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: 'get_weather',
            description: 'Current weather in a city',
            inputSchema: { json: WEATHER.function.parameters },
          },
        },
      ],
      toolChoice: { any: {} },
    });
    recordConformance('CreateChatCompletionResponse', completion);
  });

  it('sends a data: URI image as bytes with the format the bytes show', async () => {
    await client.chat.completions.create({
      model: 'bedrock-claude',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            {
              type: 'image_url',
              image_url: { url: `data:image/jpeg;base64,${PNG_1PX}`, detail: 'low' },
            },
          ],
        },
      ],
    });
    const sent = mock.requests.at(-1)!;
    expect(sent.rejected).toBeUndefined();
    expect((sent.json as { messages: unknown[] }).messages[0]).toEqual({
      role: 'user',
      content: [
        { text: 'What is in this image?' },
        { image: { format: 'png', source: { bytes: PNG_1PX } } },
      ],
    });
  });

  it('refuses an http image URL with a 400 and calls no upstream', async () => {
    const before = mock.requests.length;
    const err = await client.chat.completions
      .create({
        model: 'bedrock-claude',
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }],
          },
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe(
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
    );
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(
      'messages[0].content[0].image_url.url',
    );
    expect(mock.requests.length).toBe(before);
  });

  it('asks for json_schema output through Converse structured output', async () => {
    mock.script({
      status: 200,
      json: converseResponse({ text: '{"city":"Rome","country":"Italy"}' }),
    });
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, country: { type: 'string' } },
      required: ['city', 'country'],
      additionalProperties: false,
    };
    const completion = await client.chat.completions.create({
      model: 'bedrock-claude',
      messages: [{ role: 'user', content: 'Capital of Italy?' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'capital', strict: true, schema },
      },
    });
    expect(JSON.parse(completion.choices[0].message.content!)).toEqual({
      city: 'Rome',
      country: 'Italy',
    });
    expect((mock.requests.at(-1)!.json as { outputConfig: unknown }).outputConfig).toEqual({
      textFormat: {
        type: 'json_schema',
        structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'capital' } },
      },
    });
  });

  it('writes no AWS secret into any log line', () => {
    const all = JSON.stringify(sidecar.logs);
    expect(all).not.toContain(TEST_AWS.secretAccessKey);
  });
});

describe('Bedrock through the openai SDK (Bedrock API key)', () => {
  let mock: MockBedrock;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    mock = await startMockBedrock({ apiKey: TEST_BEDROCK_API_KEY });
    sidecar = await startBedrockSidecar(
      bedrockPolicy({ upstream: mock.url, apiKeyEnv: 'TEST_PROVIDER_KEY' }),
      { TEST_PROVIDER_KEY: TEST_BEDROCK_API_KEY },
      'node',
    );
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  it('sends the key as a bearer token, plain and streamed', async () => {
    const client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'bedrock-claude',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0].message.content).toBe('Hello from Bedrock.');
    const stream = await client.chat.completions.create({
      model: 'bedrock-claude',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello from Bedrock.');
    for (const sent of mock.requests) {
      expect(sent.headers.authorization).toBe(`Bearer ${TEST_BEDROCK_API_KEY}`);
      expect(sent.rejected).toBeUndefined();
    }
  });
});
