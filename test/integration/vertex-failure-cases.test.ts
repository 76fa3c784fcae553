import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { geminiEvent, geminiResponse, geminiTextStream } from '../support/mock-gemini.js';
import {
  makeServiceAccount,
  startMockVertex,
  startVertexSidecar,
  vertexPolicy,
  type MockVertex,
} from '../support/mock-vertex.js';
import { itConforms, recordEachConformance } from '../support/conformance.js';
import { eventually, type TestSidecar } from '../support/sidecar.js';
import { chunksOf, postSse, reassembleChat, type SseResponse } from '../support/sse-client.js';

// The Gemini failure cases again, on Vertex AI: same translators, other routes and token.

let mock: MockVertex;
let sidecar: TestSidecar;
let chatUrl: string;

beforeAll(async () => {
  mock = await startMockVertex({ strict: true, project: 'test-project', location: 'us-central1' });
  const account = makeServiceAccount(mock.tokenUri);
  mock.trust(account);
  sidecar = await startVertexSidecar(vertexPolicy(mock.origin), {
    GOOGLE_APPLICATION_CREDENTIALS: account.path,
  });
  chatUrl = `${sidecar.url}/v1/chat/completions`;
});
afterAll(async () => {
  await sidecar.stop();
  await mock.close();
});

const post = (body: object) =>
  fetch(chatUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

function conforming(res: SseResponse): unknown[] {
  const chunks = chunksOf(res);
  recordEachConformance('CreateChatCompletionStreamResponse', chunks);
  return chunks;
}

const call = (city: string) => ({ functionCall: { name: 'get_weather', args: { city } } });
const g01 = {
  model: 'gemini-2.5-flash',
  stream: true,
  max_tokens: 256,
  messages: [{ role: 'user', content: 'Weather in Paris and in Tokyo?' }],
  tools: [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
        },
      },
    },
  ],
};

describe('failure cases on Vertex AI', () => {
  itConforms.each([
    [
      'in one chunk',
      [
        geminiEvent(
          geminiResponse({
            candidates: [{ parts: [call('Paris'), call('Tokyo')], finishReason: 'STOP' }],
          }),
        ),
      ],
    ],
    [
      'across two chunks',
      [
        geminiEvent(geminiResponse({ candidates: [{ parts: [call('Paris')] }] })),
        geminiEvent(
          geminiResponse({ candidates: [{ parts: [call('Tokyo')], finishReason: 'STOP' }] }),
        ),
      ],
    ],
  ])('G01 Gemini on Vertex: two functionCall parts %s are calls 0 and 1', async (_how, sse) => {
    mock.script({ sse });
    const res = await postSse(chatUrl, g01);
    const chat = reassembleChat(conforming(res));
    expect(chat.anomalies).toEqual([]);
    expect(chat.toolCalls.map((c) => [c.index, JSON.parse(c.arguments)])).toEqual([
      [0, { city: 'Paris' }],
      [1, { city: 'Tokyo' }],
    ]);
    expect(chat.finishReason).toBe('tool_calls');
  });

  itConforms(
    'G05 on Vertex: an event cut inside é and the last event in the read that ends the body',
    async () => {
      mock.script({
        sse: [
          'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"caf',
          Buffer.from([0xc3]),
          Buffer.concat([
            Buffer.from([0xa9]),
            Buffer.from(` ok","thoughtSignature":"${'A'.repeat(90 * 1024)}"}]}}]}\n\n`),
          ]),
          'data: {"candidates":[{"content":{"parts":[{"text":"!"}]},"finishReason":"STOP"}],' +
            '"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8}}\n\n',
        ],
        delayMs: 5,
      });
      const res = await postSse(chatUrl, {
        model: 'gemini-2.5-flash',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'hi' }],
      });
      const chat = reassembleChat(conforming(res));
      expect([
        chat.content,
        chat.finishReason,
        (chat.usage as { total_tokens: number }).total_tokens,
      ]).toEqual(['café ok!', 'stop', 8]);
      expect(res.events.filter((e) => e.data === '[DONE]')).toHaveLength(1);
    },
  );

  itConforms('G07 on Vertex: include_usage adds a usage chunk and changes no content', async () => {
    const script = geminiTextStream(['One.', ' Two', '.'], {
      usage: { promptTokenCount: 4, candidatesTokenCount: 3 },
    });
    const request = {
      model: 'gemini-pro',
      stream: true,
      messages: [{ role: 'user', content: 'Two sentences.' }],
    };
    mock.script({ sse: script });
    const plain = reassembleChat(conforming(await postSse(chatUrl, request)));
    mock.script({ sse: script });
    const withUsage = await postSse(chatUrl, {
      ...request,
      stream_options: { include_usage: true },
    });
    const chat = reassembleChat(conforming(withUsage));
    expect(chat.content).toBe(plain.content);
    expect(chat.content).toBe('One. Two.');
    expect((chunksOf(withUsage).at(-1) as { choices: unknown[] }).choices).toEqual([]);
  });

  it('G12 on Vertex: every system and developer message in systemInstruction, in order', async () => {
    const res = await post({
      model: 'gemini-x',
      max_tokens: 100,
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'developer', content: 'Answer in French.' },
        { role: 'user', content: 'Capital of Japan?' },
        { role: 'assistant', content: 'Tokyo.' },
        { role: 'system', content: 'From now on reply in JSON.' },
        { role: 'user', content: 'And of Italy?' },
      ],
    });
    expect(res.status).toBe(200);
    const sent = mock.requests.at(-1)!.json as {
      systemInstruction: unknown;
      contents: { role: string }[];
    };
    expect(sent.systemInstruction).toEqual({
      parts: [
        { text: 'Be terse.' },
        { text: 'Answer in French.' },
        { text: 'From now on reply in JSON.' },
      ],
    });
    expect(sent.contents.map((c) => c.role)).toEqual(['user', 'model', 'user']);
  });

  it.each([
    ['A', { max_completion_tokens: 50 }],
    ['B', { max_tokens: 100, max_completion_tokens: 50 }],
  ])('G14 %s on Vertex: maxOutputTokens 50, streamed and not', async (_row, limits) => {
    for (const stream of [false, true]) {
      const res = await post({
        model: 'gemini-x',
        stream,
        messages: [{ role: 'user', content: 'hi' }],
        ...limits,
      });
      expect(res.status).toBe(200);
      await res.text();
      expect(
        (mock.requests.at(-1)!.json as { generationConfig: unknown }).generationConfig,
      ).toEqual({
        maxOutputTokens: 50,
      });
    }
  });

  itConforms(
    'G32 on Vertex: thinking tokens counted and priced the same streamed and not',
    async () => {
      const usage = { promptTokenCount: 20, candidatesTokenCount: 151, thoughtsTokenCount: 382 };
      const answer = { candidates: [{ parts: [{ text: 'Done.' }], finishReason: 'STOP' }], usage };
      const messages = [{ role: 'user', content: 'Think.' }];

      mock.script({ status: 200, json: geminiResponse(answer) });
      const plain = await fetch(chatUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'vtx-g32-plain' },
        body: JSON.stringify({ model: 'gemini-2.5-pro', messages }),
      });
      const completion = (await plain.json()) as { usage: unknown };

      mock.script({ sse: [geminiEvent(geminiResponse(answer))] });
      const streamed = await postSse(
        chatUrl,
        {
          model: 'gemini-2.5-pro',
          stream: true,
          stream_options: { include_usage: true },
          messages,
        },
        { 'x-request-id': 'vtx-g32-stream' },
      );
      const expected = {
        prompt_tokens: 20,
        completion_tokens: 533,
        total_tokens: 553,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 382 },
      };
      expect(completion.usage).toEqual(expected);
      expect(reassembleChat(conforming(streamed)).usage).toEqual(expected);

      const line = (id: string) => sidecar.requestLogs().find((l) => l.request_id === id);
      await eventually(
        () => line('vtx-g32-plain') !== undefined && line('vtx-g32-stream') !== undefined,
      );
      expect(line('vtx-g32-plain')!.cost_micro_usd).toBe(5355);
      expect(line('vtx-g32-stream')!.cost_micro_usd).toBe(5355);
    },
  );
});
