import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  anthropicErrorEvent,
  anthropicMessage,
  anthropicStream,
  startMockAnthropic,
  type BlockInit,
  type MockAnthropic,
} from '../support/mock-anthropic.js';
import { sseEvent } from '../support/mock-openai.js';
import { chunksOf, postSse, reassembleChat } from '../support/sse-client.js';
import { PROVIDER_SECRET, startTestSidecar, type TestSidecar } from '../support/sidecar.js';
import {
  anthropicChainPolicy,
  startHarness,
  type Harness,
} from '../providers/anthropic/harness.js';
import { itConforms } from '../support/conformance.js';

// The stream and thinking cases of shared/cases/failure-cases.md against Anthropic's
// protocol, each asserting the right value, streamed and not where both exist; then the
// cases that name a fallback, against a chain of two Anthropic endpoints.

const MODEL = 'claude-x';
const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  },
};
const ask = (extra: object = {}) => ({
  model: MODEL,
  max_tokens: 256,
  messages: [{ role: 'user', content: 'Weather in Paris and in Tokyo?' }],
  tools: [weather],
  ...extra,
});

const twoCalls: BlockInit[] = [
  { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: ['{"city": "Par', 'is"}'] },
  { type: 'tool_use', id: 'toolu_B', name: 'get_weather', input: ['{"city":"Tokyo"}'] },
];

describe('Anthropic failure cases', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());
  afterEach(() => expect(h.mock.pending()).toBe(0));

  describe.each([
    ['A (tool blocks at 0 and 1)', twoCalls],
    [
      'B (a text block first, tool blocks at 1 and 2)',
      [{ type: 'text', text: 'Let me check.' } as const, ...twoCalls],
    ],
  ])('G01 variant %s', (_, blocks) => {
    itConforms('G01: numbers streamed tool calls over tool blocks only: 0 and 1', async () => {
      h.mock.script({
        sse: anthropicStream({
          model: MODEL,
          blocks,
          usage: { input_tokens: 50, output_tokens: 40 },
        }),
      });
      const res = await h.stream(ask());
      const chat = reassembleChat(res.chunks);

      expect(res.status).toBe(200);
      expect(chat.anomalies).toEqual([]);
      expect(chat.toolCalls.map((c) => [c.index, c.id, c.type, c.name])).toEqual([
        [0, 'toolu_A', 'function', 'get_weather'],
        [1, 'toolu_B', 'function', 'get_weather'],
      ]);
      expect(chat.toolCalls.map((c) => JSON.parse(c.arguments))).toEqual([
        { city: 'Paris' },
        { city: 'Tokyo' },
      ]);
      expect(chat.finishReason).toBe('tool_calls');
      expect(chat.content).toBe(blocks.length === 3 ? 'Let me check.' : '');
      expect(chat.roleChunks).toBe(1);
      expect(res.done).toBe(true);
    });

    itConforms('G01: non-streamed, the same calls in order with JSON arguments', async () => {
      h.mock.script({ status: 200, json: anthropicMessage({ model: MODEL, blocks }) });
      const { json } = await h.post(ask());
      const message = json.choices[0].message;

      expect(message.tool_calls.map((c: any) => [c.id, JSON.parse(c.function.arguments)])).toEqual([
        ['toolu_A', { city: 'Paris' }],
        ['toolu_B', { city: 'Tokyo' }],
      ]);
      expect(json.choices[0].finish_reason).toBe('tool_calls');
    });
  });

  itConforms(
    'G09 (c): max_tokens in the middle of a streamed tool_use finishes with length',
    async () => {
      h.mock.script({
        sse: anthropicStream({
          model: MODEL,
          blocks: [
            {
              type: 'tool_use',
              id: 'toolu_W',
              name: 'write_file',
              input: ['{"body":"line 1\\nli'],
            },
          ],
          stopReason: 'max_tokens',
          usage: { input_tokens: 30, output_tokens: 20 },
        }),
      });
      const res = await h.stream(ask({ max_tokens: 20, tool_choice: 'auto' }));
      const chat = reassembleChat(res.chunks);

      expect(chat.finishReason).toBe('length');
      expect(chat.toolCalls).toHaveLength(1);
      expect(chat.toolCalls[0].arguments).toBe('{"body":"line 1\\nli');
      expect(res.done).toBe(true);
      expect(res.chunks.some((c) => c.choices?.[0]?.finish_reason === 'tool_calls')).toBe(false);
    },
  );

  itConforms('G09 (c): non-streamed, max_tokens with a tool_use block is length', async () => {
    h.mock.script({
      status: 200,
      json: anthropicMessage({
        model: MODEL,
        blocks: [{ type: 'tool_use', id: 'toolu_W', name: 'write_file', input: '{}' }],
        stopReason: 'max_tokens',
      }),
    });
    const { json } = await h.post(ask({ max_tokens: 20 }));
    expect(json.choices[0].finish_reason).toBe('length');
  });

  describe('G11: thinking blocks and their signatures survive a tool turn', () => {
    const turn1 = ask({
      max_tokens: undefined,
      reasoning_effort: 'medium',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    const thinkingThenCall: BlockInit[] = [
      {
        type: 'thinking',
        thinking: ['The user wants ', 'the weather in Paris.'],
        signature: 'sig_abc',
      },
      { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: '{"city":"Paris"}' },
    ];
    const expectedThinking = {
      type: 'thinking',
      thinking: 'The user wants the weather in Paris.',
      signature: 'sig_abc',
    };
    const toolResult = { role: 'tool', tool_call_id: 'toolu_A', content: '18C' };

    /** Turn 2 as Anthropic must receive it: the signed thinking block first. */
    function expectValidTurn2(body: Record<string, any>): void {
      expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 8192 });
      expect(body.max_tokens).toBe(4096 + 8192);
      expect(body.messages[1]).toEqual({
        role: 'assistant',
        content: [
          expectedThinking,
          { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: { city: 'Paris' } },
        ],
      });
      expect(body.messages[2]).toEqual({
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'toolu_A', content: '18C' }],
      });
    }

    itConforms(
      'G11: streamed, delta.thinking_blocks carries the signature; turn 2 passes',
      async () => {
        h.mock.script({ sse: anthropicStream({ model: MODEL, blocks: thinkingThenCall }) });
        const res = await h.stream(turn1);
        expect(h.sent().thinking).toEqual({ type: 'enabled', budget_tokens: 8192 });

        // What a client accumulates from the deltas.
        const deltas = res.chunks.map((c) => c.choices?.[0]?.delta ?? {});
        const reasoning = deltas.map((d) => d.reasoning_content ?? '').join('');
        const blocks = deltas.flatMap((d) => d.thinking_blocks ?? []);
        const chat = reassembleChat(res.chunks);
        expect(reasoning).toBe('The user wants the weather in Paris.');
        expect(blocks).toEqual([expectedThinking]);
        expect(chat.finishReason).toBe('tool_calls');

        const assistant = {
          role: 'assistant',
          content: null,
          reasoning_content: reasoning,
          thinking_blocks: blocks,
          tool_calls: chat.toolCalls.map((c) => ({
            id: c.id,
            type: 'function',
            function: { name: c.name, arguments: c.arguments },
          })),
        };
        const res2 = await h.stream({
          ...turn1,
          messages: [...turn1.messages, assistant, toolResult],
        });
        expect(res2.status).toBe(200);
        expect(reassembleChat(res2.chunks).content).toBe('Hello from the mock.');
        expectValidTurn2(h.sent());
      },
    );

    itConforms('G11: non-streamed, message.thinking_blocks carries it; turn 2 passes', async () => {
      h.mock.script({
        status: 200,
        json: anthropicMessage({ model: MODEL, blocks: thinkingThenCall }),
      });
      const { json } = await h.post(turn1);
      const message = json.choices[0].message;
      expect(message.reasoning_content).toBe('The user wants the weather in Paris.');
      expect(message.thinking_blocks).toEqual([expectedThinking]);

      const res2 = await h.post({ ...turn1, messages: [...turn1.messages, message, toolResult] });
      expect(res2.status).toBe(200);
      expectValidTurn2(h.sent());
    });

    itConforms.each([false, true])(
      'G11: a history without the thinking block costs one upstream call and a 400 (stream %s)',
      async (stream) => {
        const before = h.mock.requests.length;
        const assistant = {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'toolu_A',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        };
        const body = { ...turn1, messages: [...turn1.messages, assistant, toolResult] };
        const { status, json } = stream
          ? await h.stream(body).then((r) => ({ status: r.status, json: JSON.parse(r.raw) }))
          : await h.post(body);

        expect(status).toBe(400);
        expect(json.error.code).toBe('GW_ERR_UPSTREAM_BAD_REQUEST');
        expect(json.error.message).toContain('Expected `thinking` or `redacted_thinking`');
        expect(h.mock.requests.length - before).toBe(1);
      },
    );

    itConforms('G11: redacted thinking goes back first too, streamed and not', async () => {
      const blocks: BlockInit[] = [
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
        { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: '{"city":"Paris"}' },
      ];
      h.mock.script({ sse: anthropicStream({ model: MODEL, blocks }) });
      const res = await h.stream(turn1);
      const thinking = res.chunks.flatMap((c) => c.choices?.[0]?.delta?.thinking_blocks ?? []);
      expect(thinking).toEqual([
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
      ]);

      h.mock.script({ status: 200, json: anthropicMessage({ model: MODEL, blocks }) });
      const { json } = await h.post(turn1);
      expect(json.choices[0].message.thinking_blocks).toEqual(thinking);

      const res2 = await h.post({
        ...turn1,
        messages: [...turn1.messages, json.choices[0].message, toolResult],
      });
      expect(res2.status).toBe(200);
      expect(h.sent().messages[1].content[0]).toEqual(thinking[0]);
    });
  });

  describe('G22 (B): an error event inside a 200 stream', () => {
    const start = anthropicStream({ model: MODEL, blocks: [] })[0];

    itConforms(
      'G22 (B): overloaded_error before content is an HTTP 503, not a stream',
      async () => {
        h.mock.script({ sse: [start, anthropicErrorEvent('overloaded_error', 'Overloaded')] });
        const res = await h.stream(ask());
        const json = JSON.parse(res.raw);

        expect(res.status).toBe(503);
        expect(json.error.code).toBe('GW_ERR_UPSTREAM_OVERLOADED');
        expect(json.error.message).toContain('Overloaded');
      },
    );

    itConforms('G22 (B): invalid_request_error before any content is an HTTP 400', async () => {
      h.mock.script({
        sse: [start, anthropicErrorEvent('invalid_request_error', 'Could not process image')],
      });
      const res = await h.stream(ask());
      expect(res.status).toBe(400);
      expect(JSON.parse(res.raw).error.code).toBe('GW_ERR_UPSTREAM_BAD_REQUEST');
    });

    itConforms('G22 (B): after text, one terminal error event, and no [DONE]', async () => {
      const events = anthropicStream({
        model: MODEL,
        blocks: [{ type: 'text', text: ['Hello', ' there'] }],
      });
      // message_start, block start, two deltas, then the error.
      h.mock.script({
        sse: [...events.slice(0, 4), anthropicErrorEvent('overloaded_error', 'Overloaded')],
      });
      const res = await h.stream(ask());
      const last = res.chunks.at(-1);

      expect(res.status).toBe(200);
      expect(reassembleChat(res.chunks.slice(0, -1)).content).toBe('Hello there');
      expect(last.error.code).toBe('GW_ERR_UPSTREAM_OVERLOADED');
      expect(last.error.message).toContain('Overloaded');
      expect(res.done).toBe(false);
      expect(res.chunks.some((c) => c.choices?.[0]?.finish_reason)).toBe(false);
    });
  });

  itConforms('G26 (Anthropic): message_start, ping, error: HTTP 503, no role chunk', async () => {
    const before = h.mock.requests.length;
    h.mock.script({
      sse: [
        anthropicStream({ model: MODEL, blocks: [] })[0],
        sseEvent({ type: 'ping' }, 'ping'),
        anthropicErrorEvent('overloaded_error', 'Overloaded'),
      ],
    });
    const res = await h.stream(ask());

    // No fallback is configured yet: the client must get the upstream condition as a status,
    // with nothing of the held lifecycle (the role chunk) committed.
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.raw).not.toContain('chat.completion.chunk');
    expect(res.raw).not.toContain('"role"');
    expect(JSON.parse(res.raw).error.code).toBe('GW_ERR_UPSTREAM_OVERLOADED');
    expect(h.mock.requests.length - before).toBe(1);
  });

  itConforms('survives a stream split at every byte offset (ping, UTF-8 inside)', async () => {
    const events = anthropicStream({
      model: MODEL,
      blocks: [{ type: 'text', text: ['café', ' ok'] }, twoCalls[1]],
      ping: true,
    });
    const total = Buffer.byteLength(events.join(''));
    const expected = { content: 'café ok', calls: [[0, 'toolu_B', '{"city":"Tokyo"}']] };
    for (const step of [1, 7, 13]) {
      const splitAt = Array.from({ length: Math.ceil(total / step) }, (_, i) => i * step);
      h.mock.script({ sse: events, splitAt });
      const chat = reassembleChat((await h.stream(ask())).chunks);
      expect({
        content: chat.content,
        calls: chat.toolCalls.map((c) => [c.index, c.id, c.arguments]),
      }).toEqual(expected);
      expect(chat.finishReason).toBe('tool_calls');
    }
  });
});

describe('Anthropic failure cases with a fallback endpoint', () => {
  let primary: MockAnthropic;
  let fallback: MockAnthropic;
  let sidecar: TestSidecar;
  const url = () => `${sidecar.url}/v1/chat/completions`;
  const start = () => anthropicStream({ model: MODEL, blocks: [] })[0];

  // A fresh sidecar per test: endpoint health from one test must not reorder the next.
  beforeEach(async () => {
    primary = await startMockAnthropic({ apiKey: PROVIDER_SECRET });
    fallback = await startMockAnthropic({ apiKey: PROVIDER_SECRET });
    sidecar = await startTestSidecar(anthropicChainPolicy([primary.url, fallback.url]));
  });
  afterEach(async () => {
    expect(primary.pending()).toBe(0);
    expect(fallback.pending()).toBe(0);
    await sidecar.stop();
    await primary.close();
    await fallback.close();
  });

  it.each([
    ['G26 (Anthropic): message_start and ping', true],
    ['G22 (B): message_start', false],
  ])('%s, then overloaded_error: the fallback answers one clean stream', async (_, ping) => {
    primary.script({
      sse: [
        start(),
        ...(ping ? [sseEvent({ type: 'ping' }, 'ping')] : []),
        anthropicErrorEvent('overloaded_error', 'Overloaded'),
      ],
    });
    const res = await postSse(url(), { ...ask({ model: 'claude-chain' }), stream: true });
    const chat = reassembleChat(chunksOf(res));

    expect(res.status).toBe(200);
    expect([primary.requests.length, fallback.requests.length]).toEqual([1, 1]);
    // Nothing of the failed attempt was spliced in: one role chunk, the fallback's text.
    expect(chat.roleChunks).toBe(1);
    expect(chat.anomalies).toEqual([]);
    expect(chat.content).toBe('Hello from the mock.');
    expect(chat.finishReason).toBe('stop');
    expect(res.done).toBe(true);
  });

  it.each([false, true])(
    'G11: a broken thinking history is one upstream call and a 400, no fallback (stream %s)',
    async (stream) => {
      const body = {
        model: 'claude-chain',
        reasoning_effort: 'medium',
        tools: [weather],
        stream,
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'toolu_A',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_A', content: '18C' },
        ],
      };
      const res = await fetch(url(), { method: 'POST', body: JSON.stringify(body) });
      const json = await res.json();

      expect(res.status).toBe(400);
      expect(json.error.code).toBe('GW_ERR_UPSTREAM_BAD_REQUEST');
      expect([primary.requests.length, fallback.requests.length]).toEqual([1, 0]);
    },
  );
});
