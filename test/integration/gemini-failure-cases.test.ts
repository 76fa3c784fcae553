import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  geminiErrors,
  geminiEvent,
  geminiPolicy,
  geminiResponse,
  geminiTextStream,
  googleError,
  startMockGemini,
  type MockGemini,
} from '../support/mock-gemini.js';
import { itConforms, recordEachConformance } from '../support/conformance.js';
import {
  PROVIDER_SECRET,
  eventually,
  startTestSidecar,
  type TestSidecar,
} from '../support/sidecar.js';
import { chunksOf, postSse, reassembleChat, type SseResponse } from '../support/sse-client.js';
import { seededRandom as mulberry32 } from '../support/random.js';

// The failure cases of shared/cases/failure-cases.md that touch Gemini, each against the
// real sidecar and a strict Gemini mock, streamed and not where both exist.

let mock: MockGemini;
let sidecar: TestSidecar;
let client: OpenAI;
let chatUrl: string;

beforeAll(async () => {
  mock = await startMockGemini({ strict: true, apiKey: PROVIDER_SECRET });
  sidecar = await startTestSidecar(geminiPolicy(mock.origin));
  client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
  chatUrl = `${sidecar.url}/v1/chat/completions`;
});
afterAll(async () => {
  await sidecar.stop();
  await mock.close();
});
beforeEach(() => {
  expect(mock.pending()).toBe(0);
});

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const g01Request = {
  model: 'gemini-2.5-flash',
  stream: true,
  max_tokens: 256,
  messages: [{ role: 'user', content: 'Weather in Paris and Tokyo?' }],
  tools: [weatherTool],
};
const callPart = (city: string) => ({ functionCall: { name: 'get_weather', args: { city } } });

function conforming(res: SseResponse): unknown[] {
  const chunks = chunksOf(res);
  recordEachConformance('CreateChatCompletionStreamResponse', chunks);
  return chunks;
}

describe('G01 Gemini variants: parallel function calls keep distinct indices', () => {
  const expectTwoCalls = (res: SseResponse) => {
    expect(res.status).toBe(200);
    const chat = reassembleChat(conforming(res));
    expect(chat.anomalies).toEqual([]);
    expect(chat.toolCalls).toHaveLength(2);
    expect(chat.toolCalls.map((c) => c.index)).toEqual([0, 1]);
    expect(chat.toolCalls.map((c) => JSON.parse(c.arguments))).toEqual([
      { city: 'Paris' },
      { city: 'Tokyo' },
    ]);
    expect(chat.toolCalls[0].id).not.toBe(chat.toolCalls[1].id);
    expect(chat.finishReason).toBe('tool_calls');
    expect(res.events.filter((e) => e.data === '[DONE]')).toHaveLength(1);
  };

  itConforms('G01: two functionCall parts in one chunk', async () => {
    mock.script({
      sse: [
        geminiEvent(
          geminiResponse({
            candidates: [{ parts: [callPart('Paris'), callPart('Tokyo')], finishReason: 'STOP' }],
            usage: { promptTokenCount: 50, candidatesTokenCount: 40 },
          }),
        ),
      ],
    });
    expectTwoCalls(await postSse(chatUrl, g01Request));
  });

  itConforms('G01: functionCall parts across two chunks, a text part first', async () => {
    mock.script({
      sse: [
        geminiEvent(
          geminiResponse({
            candidates: [{ parts: [{ text: 'Let me check. ' }, callPart('Paris')] }],
          }),
        ),
        geminiEvent(
          geminiResponse({
            candidates: [{ parts: [callPart('Tokyo')], finishReason: 'STOP' }],
            usage: { promptTokenCount: 50, candidatesTokenCount: 40 },
          }),
        ),
      ],
    });
    const res = await postSse(chatUrl, g01Request);
    expectTwoCalls(res);
    expect(reassembleChat(chunksOf(res)).content).toBe('Let me check. ');
  });

  it('G01 (non-stream): both calls, distinct ids, finish tool_calls', async () => {
    mock.script({
      status: 200,
      json: geminiResponse({
        candidates: [{ parts: [callPart('Paris'), callPart('Tokyo')], finishReason: 'STOP' }],
      }),
    });
    const completion = await client.chat.completions.create({
      ...g01Request,
      stream: false,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const calls = completion.choices[0].message.tool_calls ?? [];
    expect(calls.map((c) => c.type === 'function' && JSON.parse(c.function.arguments))).toEqual([
      { city: 'Paris' },
      { city: 'Tokyo' },
    ]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
  });
});

describe('G05: one Gemini event split across reads', () => {
  const request = {
    model: 'gemini-2.5-flash',
    stream: true,
    messages: [{ role: 'user', content: 'hi' }],
  };
  const script = (signature: string) => [
    'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"caf',
    Buffer.from([0xc3]),
    Buffer.concat([
      Buffer.from([0xa9]),
      Buffer.from(` ok","thoughtSignature":"${signature}"}]}}]}\n\n`),
    ]),
    'data: {"candidates":[{"content":{"parts":[{"text":"!"}]},"finishReason":"STOP"}],' +
      '"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8}}\n\n',
  ];
  const expected = {
    status: 200,
    text: 'café ok!',
    finish: 'stop',
    usage: 8,
    done: 1,
    incomplete: '',
  };

  async function run(writes: (string | Buffer)[], splitAt?: number[]) {
    mock.script({ sse: writes, splitAt });
    const res = await postSse(chatUrl, { ...request, stream_options: { include_usage: true } });
    const chat = reassembleChat(chunksOf(res));
    expect(chat.anomalies).toEqual([]);
    return {
      status: res.status,
      text: chat.content,
      finish: chat.finishReason,
      usage: (chat.usage as { total_tokens?: number } | null)?.total_tokens,
      done: res.events.filter((e) => e.data === '[DONE]').length,
      incomplete: res.incomplete,
    };
  }

  it('G05: the writes as scripted (cut inside é, last event in the read that ends the body)', async () => {
    expect(await run(script('AAAA'))).toEqual(expected);
  });

  it('G05: split at every byte offset (short version)', async () => {
    const writes = script('AAAA');
    const length = Buffer.concat(writes.map((w) => Buffer.from(w))).length;
    for (let at = 1; at < length; at++) {
      expect(await run(writes, [at]), `split at ${at}`).toEqual(expected);
    }
  });

  it('G05: a ~100 KB event (long thoughtSignature) split at seeded random offsets', async () => {
    const writes = script('A'.repeat(90 * 1024));
    const length = Buffer.concat(writes.map((w) => Buffer.from(w))).length;
    const random = mulberry32(0x6e05);
    for (let run_ = 0; run_ < 12; run_++) {
      const cuts = Array.from(
        { length: 1 + Math.floor(random() * 6) },
        () => 1 + Math.floor(random() * (length - 1)),
      );
      // One cut always falls between the two bytes of é.
      cuts.push(
        Buffer.byteLength('data: {"candidates":[{"content":{"role":"model","parts":[{"text":"caf') +
          1,
      );
      expect(await run(writes, cuts), `cuts ${cuts.join(',')}`).toEqual(expected);
    }
  });
});

describe('G07: include_usage never blanks Gemini content', () => {
  itConforms(
    'G07: same mock with and without the option gives the same content; usage chunk has choices []',
    async () => {
      const pieces = ['First sentence.', ' Second', ' sentence.'];
      const usage = { promptTokenCount: 6, candidatesTokenCount: 9 };
      const request = {
        model: 'gemini-pro',
        stream: true,
        messages: [{ role: 'user', content: 'Write two sentences.' }],
      };

      mock.script({ sse: geminiTextStream(pieces, { usage }) });
      const plain = await postSse(chatUrl, request);
      mock.script({ sse: geminiTextStream(pieces, { usage }) });
      const withUsage = await postSse(chatUrl, {
        ...request,
        stream_options: { include_usage: true },
      });

      const a = reassembleChat(conforming(plain));
      const b = reassembleChat(conforming(withUsage));
      expect(a.content).toBe('First sentence. Second sentence.');
      expect(b.content).toBe(a.content);
      expect(a.usageChunks).toBe(0);
      expect(b.usageChunks).toBe(1);
      const last = chunksOf(withUsage).at(-1) as { choices: unknown[]; usage: unknown };
      expect(last.choices).toEqual([]);
      expect(last.usage).toMatchObject({
        prompt_tokens: 6,
        completion_tokens: 9,
        total_tokens: 15,
      });
      // No content chunk carries a null content or a usage field.
      for (const chunk of chunksOf(withUsage).slice(0, -1) as {
        usage?: unknown;
        choices: { delta: object }[];
      }[]) {
        expect(chunk.usage).toBeUndefined();
        expect(Object.values(chunk.choices[0].delta)).not.toContain(null);
      }
    },
  );
});

describe('G12: several system messages reach Gemini as systemInstruction', () => {
  const messages = [
    { role: 'system', content: 'Be terse.' },
    { role: 'developer', content: 'Answer in French.' },
    { role: 'user', content: 'Capital of Japan?' },
    { role: 'assistant', content: 'Tokyo.' },
    { role: 'system', content: 'From now on reply in JSON.' },
    { role: 'user', content: 'And of Italy?' },
  ];
  const expected = {
    contents: [
      { role: 'user', parts: [{ text: 'Capital of Japan?' }] },
      { role: 'model', parts: [{ text: 'Tokyo.' }] },
      { role: 'user', parts: [{ text: 'And of Italy?' }] },
    ],
    systemInstruction: {
      parts: [
        { text: 'Be terse.' },
        { text: 'Answer in French.' },
        { text: 'From now on reply in JSON.' },
      ],
    },
    generationConfig: { maxOutputTokens: 100 },
  };

  it.each([false, true])(
    'G12 (stream: %s): all three instructions, in order, no system role',
    async (stream) => {
      const res = await fetch(chatUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gemini-x', max_tokens: 100, stream, messages }),
      });
      expect(res.status).toBe(200);
      await res.text();
      expect(mock.requests.at(-1)!.json).toEqual(expected);
    },
  );
});

describe('G14: max_completion_tokens reaches Gemini', () => {
  it.each([
    ['A', { max_completion_tokens: 50 }, 50],
    ['B', { max_tokens: 100, max_completion_tokens: 50 }, 50],
  ])('G14 %s: maxOutputTokens, streamed and not', async (_row, limits, expected) => {
    for (const stream of [false, true]) {
      const res = await fetch(chatUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gemini-x',
          stream,
          messages: [{ role: 'user', content: 'hi' }],
          ...limits,
        }),
      });
      expect(res.status).toBe(200);
      await res.text();
      expect(
        (mock.requests.at(-1)!.json as { generationConfig: unknown }).generationConfig,
      ).toEqual({
        maxOutputTokens: expected,
      });
    }
  });
});

describe('G15: six stop sequences to Gemini', () => {
  it.each([false, true])('G15 (stream: %s): a 400 before any upstream call', async (stream) => {
    const before = mock.requests.length;
    const res = await fetch(chatUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-x',
        stream,
        stop: ['a', 'b', 'c', 'd', 'e', 'f'],
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; param: string } };
    // The front refuses more than OpenAI's 4 first; the adapter's own limit (5, with
    // GW_ERR_REQ_UNSUPPORTED_PARAM) is tested in test/providers/gemini.
    expect(body.error).toMatchObject({ code: 'GW_ERR_REQ_INVALID_FIELD', param: 'stop' });
    expect(mock.requests.length).toBe(before);
  });
});

describe('a seed beyond 32 bits to Gemini, whose seed is an int32', () => {
  it.each([false, true])(
    '(stream: %s) is a 400 naming seed, before any upstream call',
    async (stream) => {
      const ask = (seed: number) =>
        fetch(chatUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'gemini-x',
            stream,
            seed,
            messages: [{ role: 'user', content: 'hi' }],
          }),
        });
      const before = mock.requests.length;
      // What random.randint(0, 2**32 - 1) gives half the time.
      const res = await ask(3_000_000_000);
      expect(res.status).toBe(400);
      const body = (await res.json()) as {
        error: { code: string; param: string; message: string };
      };
      expect(body.error).toEqual({
        message:
          "'seed' must be from -2147483648 to 2147483647 for Gemini, which takes a 32-bit seed.",
        type: 'invalid_request_error',
        param: 'seed',
        code: 'GW_ERR_REQ_UNSUPPORTED_PARAM',
      });
      expect(mock.requests.length).toBe(before);

      const largest = await ask(2 ** 31 - 1);
      expect(largest.status).toBe(200);
      await largest.arrayBuffer();
      const sent = mock.requests.at(-1)!.json as { generationConfig: { seed: number } };
      expect(sent.generationConfig.seed).toBe(2 ** 31 - 1);
    },
  );
});

describe('G32: Gemini thinking tokens in usage and cost', () => {
  const usage = { promptTokenCount: 20, candidatesTokenCount: 151, thoughtsTokenCount: 382 };
  const expectedUsage = {
    prompt_tokens: 20,
    completion_tokens: 533,
    total_tokens: 553,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 382 },
  };
  // 20 x $1.25/M + 533 x $10/M = 25 + 5330 micro-dollars.
  const expectedCost = 5355;

  itConforms('G32: stream and non-stream report the same usage and the same cost', async () => {
    const requestId = (tag: string) => `g32-${tag}-${Date.now()}`;
    const messages = [{ role: 'user' as const, content: 'Prove it.' }];

    mock.script({
      status: 200,
      json: geminiResponse({
        candidates: [{ parts: [{ text: 'Proof.' }], finishReason: 'STOP' }],
        usage,
        modelVersion: 'gemini-2.5-pro',
      }),
    });
    const nonStreamId = requestId('plain');
    const completion = await client.chat.completions.create(
      { model: 'gemini-2.5-pro', messages },
      { headers: { 'x-request-id': nonStreamId } },
    );
    expect(completion.usage).toEqual(expectedUsage);

    mock.script({
      sse: [
        geminiEvent(
          geminiResponse({
            candidates: [{ parts: [{ text: 'Thinking', thought: true }] }],
            usage: { promptTokenCount: 20 },
          }),
        ),
        geminiEvent(
          geminiResponse({
            candidates: [{ parts: [{ text: 'Proof.' }], finishReason: 'STOP' }],
            usage,
          }),
        ),
      ],
    });
    const streamId = requestId('stream');
    const res = await postSse(
      chatUrl,
      { model: 'gemini-2.5-pro', stream: true, stream_options: { include_usage: true }, messages },
      { 'x-request-id': streamId },
    );
    const chat = reassembleChat(conforming(res));
    expect(chat.usage).toEqual(expectedUsage);
    expect(chat.content).toBe('Proof.');

    const line = (id: string) => sidecar.requestLogs().find((l) => l.request_id === id);
    await eventually(() => line(nonStreamId) !== undefined && line(streamId) !== undefined);
    for (const id of [nonStreamId, streamId]) {
      expect(line(id)).toMatchObject({
        prompt_tokens: 20,
        completion_tokens: 533,
        total_tokens: 553,
        reasoning_tokens: 382,
        cost_micro_usd: expectedCost,
      });
    }
  });
});

describe('Gemini errors, mapped, streamed and not', () => {
  const cases: [string, () => object, number, string][] = [
    ['an invalid API key', geminiErrors.invalidKey, 502, 'GW_ERR_UPSTREAM_AUTH'],
    [
      'an input token count over the limit',
      geminiErrors.contextTooLong,
      400,
      'GW_ERR_UPSTREAM_CONTEXT_LENGTH',
    ],
    ['RESOURCE_EXHAUSTED', geminiErrors.rateLimited, 429, 'GW_ERR_UPSTREAM_RATE_LIMITED'],
    ['UNAVAILABLE', geminiErrors.overloaded, 503, 'GW_ERR_UPSTREAM_OVERLOADED'],
    ['INTERNAL', geminiErrors.internal, 502, 'GW_ERR_UPSTREAM_ERROR'],
    ['NOT_FOUND', () => geminiErrors.notFound('gemini-x'), 404, 'GW_ERR_UPSTREAM_NOT_FOUND'],
  ];
  it.each(cases)('maps %s', async (_name, step, status, code) => {
    for (const stream of [false, true]) {
      // A fresh sidecar each time: a Retry-After holds the endpoint back for that long.
      const own = await startMockGemini({ strict: true, apiKey: PROVIDER_SECRET });
      const gateway = await startTestSidecar(geminiPolicy(own.origin));
      try {
        own.script(step() as never);
        const res = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'gemini-x',
            stream,
            messages: [{ role: 'user', content: 'hi' }],
          }),
        });
        expect(res.status).toBe(status);
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe(code);
        expect(body.error.message).not.toContain(PROVIDER_SECRET);
        if (code === 'GW_ERR_UPSTREAM_RATE_LIMITED')
          expect(res.headers.get('retry-after')).toBe('31');
      } finally {
        await gateway.stop();
        await own.close();
      }
    }
  });

  it('answers a blocked prompt with a 400, streamed and not', async () => {
    for (const stream of [false, true]) {
      const blocked = {
        promptFeedback: { blockReason: 'SAFETY' },
        usageMetadata: { promptTokenCount: 4 },
      };
      mock.script(stream ? { sse: [geminiEvent(blocked)] } : { status: 200, json: blocked });
      const res = await fetch(chatUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gemini-x',
          stream,
          messages: [{ role: 'user', content: 'bad' }],
        }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
        'Provider "gem" blocked the prompt (blockReason SAFETY).',
      );
    }
  });

  it('ends a committed stream with one error event and no [DONE] when Gemini errs mid-stream', async () => {
    mock.script({
      sse: [
        ...geminiTextStream(['Hello', ' there'], {}).slice(0, 1),
        geminiEvent(googleError(503, 'UNAVAILABLE', 'The model is overloaded.')),
      ],
    });
    const res = await postSse(chatUrl, {
      model: 'gemini-x',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(200);
    expect(res.done).toBe(false);
    const last = JSON.parse(res.events.at(-1)!.data) as { error: { code: string } };
    expect(last.error.code).toBe('GW_ERR_UPSTREAM_OVERLOADED');
  });

  it('reports a stream that closed before any finishReason as interrupted, not finished', async () => {
    mock.script({ sse: geminiTextStream(['Hello', ' there'], {}).slice(0, 1) });
    const res = await postSse(chatUrl, {
      model: 'gemini-x',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.done).toBe(false);
    expect(JSON.parse(res.events.at(-1)!.data)).toMatchObject({
      error: { code: 'GW_ERR_STREAM_INTERRUPTED' },
    });
  });

  it('refuses an untranslatable request (a recursive $ref) with a 400 and no upstream call', async () => {
    const before = mock.requests.length;
    const res = await fetch(chatUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-x',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [
          {
            type: 'function',
            function: {
              name: 'tree',
              parameters: {
                type: 'object',
                properties: { node: { $ref: '#/$defs/N' } },
                $defs: {
                  N: {
                    type: 'object',
                    properties: { kids: { type: 'array', items: { $ref: '#/$defs/N' } } },
                  },
                },
              },
            },
          },
        ],
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
    );
    expect(mock.requests.length).toBe(before);
  });
});
