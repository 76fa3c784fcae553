import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anthropicError,
  anthropicEvent,
  makeServiceAccount,
  startMockVertex,
  startVertexSidecar,
  vertexPolicy,
  type MockVertex,
} from '../support/mock-vertex.js';
import { geminiErrors } from '../support/mock-gemini.js';
import { itConforms, recordConformance, recordEachConformance } from '../support/conformance.js';
import type { TestSidecar } from '../support/sidecar.js';
import { chunksOf, postSse, reassembleChat } from '../support/sse-client.js';

// Anthropic models on Vertex AI, through the same Vertex provider that serves Gemini: the
// Anthropic body (no `model`, `anthropic_version: vertex-2023-10-16`) on the
// publishers/anthropic routes, with the token the sidecar minted; answers translated by the
// Anthropic adapter's own translators.

const CLAUDE = 'claude-sonnet-4@20250514';
const ROUTE = `/v1/projects/test-project/locations/us-central1/publishers/anthropic/models/${CLAUDE}`;

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

let mock: MockVertex;
let sidecar: TestSidecar;
let client: OpenAI;

beforeAll(async () => {
  mock = await startMockVertex({ strict: true, project: 'test-project', location: 'us-central1' });
  const account = makeServiceAccount(mock.tokenUri);
  mock.trust(account);
  sidecar = await startVertexSidecar(vertexPolicy(mock.origin), {
    GOOGLE_APPLICATION_CREDENTIALS: account.path,
  });
  client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await sidecar.stop();
  await mock.close();
});

describe('Anthropic models on Vertex AI', () => {
  itConforms(
    'answers a plain chat through rawPredict with the Vertex form of the Anthropic body',
    async () => {
      const completion = await client.chat.completions.create({
        model: CLAUDE,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Say hello' },
        ],
      });
      expect(completion.choices[0].message.content).toBe('Hello from Claude on Vertex.');
      expect(completion.choices[0].finish_reason).toBe('stop');
      expect(completion.usage).toMatchObject({
        prompt_tokens: 9,
        completion_tokens: 6,
        total_tokens: 15,
      });
      recordConformance('CreateChatCompletionResponse', completion);

      const sent = mock.requests.at(-1)!;
      expect(sent.url).toBe(`${ROUTE}:rawPredict`);
      expect(sent.headers.authorization).toBe(`Bearer ${mock.tokenRequests.at(-1)!.issued}`);
      expect(sent.headers['x-api-key']).toBeUndefined();
      const body = sent.json as Record<string, unknown>;
      expect(body.anthropic_version).toBe('vertex-2023-10-16');
      expect(body).not.toHaveProperty('model');
      expect(body.messages).toEqual([{ role: 'user', content: 'Say hello' }]);
      expect(JSON.stringify(body.system)).toContain('Be brief.');
      expect(body.max_tokens).toEqual(expect.any(Number));
    },
  );

  itConforms('streams through streamRawPredict, with include_usage', async () => {
    const res = await postSse(`${sidecar.url}/v1/chat/completions`, {
      model: CLAUDE,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    expect(res.status).toBe(200);
    const chunks = chunksOf(res);
    recordEachConformance('CreateChatCompletionStreamResponse', chunks);
    const chat = reassembleChat(chunks);
    expect(chat.anomalies).toEqual([]);
    expect(chat.content).toBe('Hello from Claude on Vertex.');
    expect(chat.roleChunks).toBe(1);
    expect(chat.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 6 });
    expect(res.events.at(-1)!.data).toBe('[DONE]');
    expect(mock.requests.at(-1)!.url).toBe(`${ROUTE}:streamRawPredict`);
    expect((mock.requests.at(-1)!.json as { stream?: unknown }).stream).toBe(true);
  });

  it('runs parallel tool calls and their results over two turns', async () => {
    mock.script({
      sse: [
        anthropicEvent('message_start', {
          message: {
            id: 'msg_vrtx_1',
            type: 'message',
            role: 'assistant',
            model: CLAUDE,
            content: [],
            stop_reason: null,
            usage: { input_tokens: 50, output_tokens: 1 },
          },
        }),
        anthropicEvent('content_block_start', {
          index: 0,
          content_block: { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: {} },
        }),
        anthropicEvent('content_block_delta', {
          index: 0,
          delta: { type: 'input_json_delta', partial_json: '{"city": "Par' },
        }),
        anthropicEvent('content_block_delta', {
          index: 0,
          delta: { type: 'input_json_delta', partial_json: 'is"}' },
        }),
        anthropicEvent('content_block_stop', { index: 0 }),
        anthropicEvent('content_block_start', {
          index: 1,
          content_block: { type: 'tool_use', id: 'toolu_B', name: 'get_weather', input: {} },
        }),
        anthropicEvent('content_block_delta', {
          index: 1,
          delta: { type: 'input_json_delta', partial_json: '{"city":"Tokyo"}' },
        }),
        anthropicEvent('content_block_stop', { index: 1 }),
        anthropicEvent('message_delta', {
          delta: { stop_reason: 'tool_use', stop_sequence: null },
          usage: { output_tokens: 40 },
        }),
        anthropicEvent('message_stop'),
      ],
    });
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Weather in Paris and Tokyo?' },
    ];
    const first = await client.chat.completions
      .stream({ model: CLAUDE, messages, tools: [weatherTool] })
      .finalChatCompletion();
    const calls = first.choices[0].message.tool_calls ?? [];
    expect(calls.map((c) => c.id)).toEqual(['toolu_A', 'toolu_B']);
    expect(calls.map((c) => c.type === 'function' && JSON.parse(c.function.arguments))).toEqual([
      { city: 'Paris' },
      { city: 'Tokyo' },
    ]);
    expect(first.choices[0].finish_reason).toBe('tool_calls');

    messages.push(
      first.choices[0].message,
      { role: 'tool', tool_call_id: 'toolu_A', content: '18C' },
      { role: 'tool', tool_call_id: 'toolu_B', content: '25C' },
    );
    const second = await client.chat.completions.create({
      model: CLAUDE,
      messages,
      tools: [weatherTool],
    });
    expect(second.choices[0].message.content).toBe('Hello from Claude on Vertex.');
    const sent = mock.requests.at(-1)!.json as { messages: { role: string; content: unknown[] }[] };
    expect(sent.messages.at(-1)!.role).toBe('user');
    expect(sent.messages.at(-1)!.content).toEqual([
      expect.objectContaining({ type: 'tool_result', tool_use_id: 'toolu_A' }),
      expect.objectContaining({ type: 'tool_result', tool_use_id: 'toolu_B' }),
    ]);
  });

  it('serves Gemini and Claude from the one Vertex provider, each in its own format', async () => {
    const [gemini, claude] = await Promise.all([
      client.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'hi' }],
      }),
      client.chat.completions.create({
        model: CLAUDE,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    ]);
    expect(gemini.choices[0].message.content).toBe('Hello from the Gemini mock.');
    expect(claude.choices[0].message.content).toBe('Hello from Claude on Vertex.');
  });

  it('maps Anthropic errors on Vertex (overloaded) and Google ones (quota)', async () => {
    mock.script(anthropicError(529, 'overloaded_error', 'Overloaded'));
    const overloaded = (await client.chat.completions
      .create({ model: CLAUDE, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect([overloaded.status, overloaded.code]).toEqual([503, 'GW_ERR_UPSTREAM_OVERLOADED']);

    mock.script({ ...geminiErrors.rateLimited(), headers: { 'retry-after': '0' } });
    const limited = (await client.chat.completions
      .create({ model: CLAUDE, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect([limited.status, limited.code]).toEqual([429, 'GW_ERR_UPSTREAM_RATE_LIMITED']);
  });

  it('ends a committed Claude stream with an error event when Anthropic errs mid-stream', async () => {
    mock.script({
      sse: [
        anthropicEvent('message_start', {
          message: {
            id: 'msg_vrtx_2',
            type: 'message',
            role: 'assistant',
            model: CLAUDE,
            content: [],
            usage: { input_tokens: 5, output_tokens: 1 },
          },
        }),
        anthropicEvent('content_block_start', {
          index: 0,
          content_block: { type: 'text', text: '' },
        }),
        anthropicEvent('content_block_delta', {
          index: 0,
          delta: { type: 'text_delta', text: 'Hi' },
        }),
        anthropicEvent('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }),
      ],
    });
    const res = await postSse(`${sidecar.url}/v1/chat/completions`, {
      model: CLAUDE,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.done).toBe(false);
    expect(JSON.parse(res.events.at(-1)!.data)).toMatchObject({
      error: { code: 'GW_ERR_UPSTREAM_OVERLOADED' },
    });
  });
});
