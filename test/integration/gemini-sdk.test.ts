import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  geminiEvent,
  geminiPolicy,
  geminiResponse,
  startMockGemini,
  type MockGemini,
} from '../support/mock-gemini.js';
import { itConforms, recordConformance, recordEachConformance } from '../support/conformance.js';
import { PROVIDER_SECRET, startTestSidecar, type TestSidecar } from '../support/sidecar.js';

// The official openai SDK drives the real sidecar, which speaks Gemini to a strict mock of
// Google AI Studio: a body Gemini would refuse comes back as Gemini's own 400.

const PNG_1PX =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};

describe.each(['uws', 'node'] as const)('the openai SDK through Gemini (%s front)', (http) => {
  let mock: MockGemini;
  let sidecar: TestSidecar;
  let client: OpenAI;

  beforeAll(async () => {
    mock = await startMockGemini({ strict: true, apiKey: PROVIDER_SECRET });
    sidecar = await startTestSidecar(geminiPolicy(mock.origin), http);
    client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  itConforms('answers a plain chat, the key in x-goog-api-key and never in the URL', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    expect(completion.choices[0].message.content).toBe('Hello from the Gemini mock.');
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({
      prompt_tokens: 7,
      completion_tokens: 5,
      total_tokens: 12,
    });
    recordConformance('CreateChatCompletionResponse', completion);

    const sent = mock.requests.at(-1)!;
    expect(sent.url).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(sent.headers['x-goog-api-key']).toBe(PROVIDER_SECRET);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.json).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }] });
  });

  itConforms(
    'streams, with and without include_usage, and never puts the key in the URL',
    async () => {
      const stream = await client.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'Say hello' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(
        'Hello from the Gemini mock.',
      );
      expect(chunks.filter((c) => c.choices[0]?.delta?.role === 'assistant')).toHaveLength(1);
      expect(chunks.at(-1)!.choices).toEqual([]);
      expect(chunks.at(-1)!.usage?.total_tokens).toBe(12);
      recordEachConformance('CreateChatCompletionStreamResponse', chunks);

      const plain = await client.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'Say hello' }],
        stream: true,
      });
      const plainChunks = [];
      for await (const chunk of plain) plainChunks.push(chunk);
      expect(plainChunks.every((c) => c.choices.length === 1 && !c.usage)).toBe(true);

      expect(mock.requests.at(-1)!.url).toBe(
        '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
      );
      expect(mock.requests.every((r) => !/[?&]key=/.test(r.url))).toBe(true);
    },
  );

  it('runs parallel tool calls and their results over two turns (Gemini 3 signature rules)', async () => {
    mock.script({
      sse: [
        geminiEvent(
          geminiResponse({
            candidates: [
              {
                parts: [
                  {
                    functionCall: { name: 'get_weather', args: { city: 'Paris' } },
                    thoughtSignature: 'U0lHMQ==',
                  },
                ],
              },
            ],
            modelVersion: 'gemini-3-pro-preview',
          }),
        ),
        geminiEvent(
          geminiResponse({
            candidates: [
              {
                parts: [{ functionCall: { name: 'get_weather', args: { city: 'Tokyo' } } }],
                finishReason: 'STOP',
              },
            ],
            usage: { promptTokenCount: 30, candidatesTokenCount: 20 },
            modelVersion: 'gemini-3-pro-preview',
          }),
        ),
      ],
    });
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Weather in Paris and Tokyo?' },
    ];
    const first = await client.chat.completions
      .stream({
        model: 'gemini-3-pro-preview',
        messages,
        tools: [weatherTool],
        tool_choice: 'auto',
        parallel_tool_calls: true,
      })
      .finalChatCompletion();
    const assistant = first.choices[0].message;
    const calls = assistant.tool_calls ?? [];
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(calls.map((c) => c.type === 'function' && JSON.parse(c.function.arguments))).toEqual([
      { city: 'Paris' },
      { city: 'Tokyo' },
    ]);

    // Turn 2: the assistant message as the SDK gave it, then both results.
    messages.push(
      assistant,
      { role: 'tool', tool_call_id: calls[0].id, content: '18C' },
      {
        role: 'tool',
        tool_call_id: calls[1].id,
        content: '25C',
      },
    );
    const second = await client.chat.completions.create({
      model: 'gemini-3-pro-preview',
      messages,
      tools: [weatherTool],
    });
    expect(second.choices[0].message.content).toBe('Hello from the Gemini mock.');

    const sent = mock.requests.at(-1)!.json as { contents: unknown[] };
    expect(sent.contents.slice(1)).toEqual([
      {
        role: 'model',
        parts: [
          // The SDK keeps the tool call's extra_content, so Gemini gets its signature back.
          {
            functionCall: { name: 'get_weather', args: { city: 'Paris' } },
            thoughtSignature: 'U0lHMQ==',
          },
          { functionCall: { name: 'get_weather', args: { city: 'Tokyo' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { output: '18C' } } },
          { functionResponse: { name: 'get_weather', response: { output: '25C' } } },
        ],
      },
    ]);
  });

  it('sends images (data URI typed by its bytes, URL as fileData)', async () => {
    await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${PNG_1PX}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
          ],
        },
      ],
    });
    expect(mock.requests.at(-1)!.json).toEqual({
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Compare' },
            { inlineData: { mimeType: 'image/png', data: PNG_1PX } },
            { fileData: { mimeType: 'image/png', fileUri: 'https://example.com/a.png' } },
          ],
        },
      ],
    });
  });

  it('asks for JSON with a reduced response schema', async () => {
    mock.script({
      status: 200,
      json: geminiResponse({
        candidates: [{ parts: [{ text: '{"city":"Rome"}' }], finishReason: 'STOP' }],
      }),
    });
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Capital of Italy?' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'capital',
          strict: true,
          schema: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
            additionalProperties: false,
          },
        },
      },
    });
    expect(JSON.parse(completion.choices[0].message.content!)).toEqual({ city: 'Rome' });
    expect((mock.requests.at(-1)!.json as { generationConfig: unknown }).generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseSchema: {
        type: 'OBJECT',
        properties: { city: { type: 'STRING' } },
        required: ['city'],
      },
    });
  });

  it('keeps the provider key out of every log line', () => {
    expect(JSON.stringify(sidecar.logs)).not.toContain(PROVIDER_SECRET);
  });
});
