import { describe, expect, it } from 'vitest';
import type { StreamItem } from '../../../sidecar/providers/adapter.js';
import { GeminiStreamDecoder } from '../../../sidecar/providers/gemini/gemini-stream.js';
import { reassembleChat } from '../../support/sse-client.js';
import { geminiEvent, geminiResponse, googleError } from '../../support/mock-gemini.js';

const ctx = {
  providerId: 'gem',
  secrets: ['AIzaSECRETSECRETSECRETSECRET123'],
  nowSeconds: () => 1700000000,
};

function decode(writes: (string | Buffer)[]): { items: StreamItem[]; cut: boolean } {
  const decoder = new GeminiStreamDecoder(ctx);
  const items: StreamItem[] = [];
  for (const w of writes) items.push(...decoder.push(typeof w === 'string' ? Buffer.from(w) : w));
  const end = decoder.end();
  return { items: [...items, ...end.items], cut: end.cut };
}

function chunks(items: StreamItem[]): Record<string, unknown>[] {
  return items.flatMap((i) =>
    i.kind === 'chunk' ? [JSON.parse(i.data) as Record<string, unknown>] : [],
  );
}

const call = (city: string, id?: string) => ({
  functionCall: { ...(id ? { id } : {}), name: 'get_weather', args: { city } },
});

describe('GeminiStreamDecoder', () => {
  it('G01 Gemini: two functionCall parts in one chunk become calls 0 and 1', () => {
    const { items } = decode([
      geminiEvent(
        geminiResponse({
          candidates: [{ parts: [call('Paris'), call('Tokyo')], finishReason: 'STOP' }],
          usage: { promptTokenCount: 50, candidatesTokenCount: 40 },
        }),
      ),
    ]);
    const chat = reassembleChat(chunks(items));
    expect(chat.anomalies).toEqual([]);
    expect(chat.toolCalls.map((c) => c.index)).toEqual([0, 1]);
    expect(chat.toolCalls.map((c) => JSON.parse(c.arguments))).toEqual([
      { city: 'Paris' },
      { city: 'Tokyo' },
    ]);
    expect(new Set(chat.toolCalls.map((c) => c.id)).size).toBe(2);
    expect(
      chat.toolCalls.every((c) => /^call_[A-Za-z0-9]{24}$/.test(c.id!) && c.type === 'function'),
    ).toBe(true);
    expect(chat.finishReason).toBe('tool_calls');
    expect(items.at(-1)).toEqual({ kind: 'done' });
  });

  it('G01 Gemini: functionCall parts across two chunks keep counting (0, then 1)', () => {
    const { items } = decode([
      geminiEvent(
        geminiResponse({
          candidates: [{ parts: [{ text: 'Checking both.' }, call('Paris', 'fc_A')] }],
        }),
      ),
      geminiEvent(
        geminiResponse({
          candidates: [{ parts: [call('Tokyo', 'fc_B')], finishReason: 'STOP' }],
          usage: { promptTokenCount: 50, candidatesTokenCount: 40 },
        }),
      ),
    ]);
    const chat = reassembleChat(chunks(items));
    expect(chat.anomalies).toEqual([]);
    expect(chat.content).toBe('Checking both.');
    expect(chat.toolCalls.map((c) => [c.index, c.id, c.name])).toEqual([
      [0, 'fc_A', 'get_weather'],
      [1, 'fc_B', 'get_weather'],
    ]);
    expect(chat.finishReason).toBe('tool_calls');
  });

  it('emits one role chunk, thoughts as reasoning_content, and the usage chunk last with no choices', () => {
    const { items } = decode([
      geminiEvent(
        geminiResponse({ candidates: [{ parts: [{ text: 'Let me think', thought: true }] }] }),
      ),
      geminiEvent(
        geminiResponse({
          candidates: [
            { parts: [{ text: 'Answer.', thoughtSignature: 'sig' }], finishReason: 'STOP' },
          ],
          usage: { promptTokenCount: 20, candidatesTokenCount: 151, thoughtsTokenCount: 382 },
        }),
      ),
    ]);
    const out = chunks(items);
    expect(items.map((i) => (i.kind === 'chunk' ? i.shape : i.kind))).toEqual([
      'lifecycle',
      'content',
      'content',
      'lifecycle',
      'usage',
      'done',
    ]);
    expect(out[0].choices).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
    ]);
    expect((out[1].choices as { delta: unknown }[])[0].delta).toEqual({
      reasoning_content: 'Let me think',
    });
    expect((out[2].choices as { delta: unknown }[])[0].delta).toEqual({ content: 'Answer.' });
    expect(out[4]).toEqual({
      id: 'chatcmpl-mockResp0001',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: 'gemini-2.5-flash',
      choices: [],
      usage: {
        prompt_tokens: 20,
        completion_tokens: 533,
        total_tokens: 553,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 382 },
      },
    });
    const usageItem = items[4] as Extract<StreamItem, { kind: 'chunk' }>;
    expect(usageItem.usage).toEqual({
      promptTokens: 20,
      completionTokens: 533,
      totalTokens: 553,
      reasoningTokens: 382,
    });
  });

  it.each([
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
    ['RECITATION', 'content_filter'],
    ['BLOCKLIST', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
    ['SPII', 'content_filter'],
    ['STOP', 'stop'],
    ['OTHER', 'stop'],
  ])('maps finishReason %s to %s', (reason, expected) => {
    const { items } = decode([
      geminiEvent(
        geminiResponse({ candidates: [{ parts: [{ text: 'x' }], finishReason: reason }] }),
      ),
    ]);
    expect(reassembleChat(chunks(items)).finishReason).toBe(expected);
  });

  it('does not finish a stream that closed before a finishReason, nor one cut mid-event', () => {
    const open = decode([
      geminiEvent(geminiResponse({ candidates: [{ parts: [{ text: 'half' }] }] })),
    ]);
    expect(open.items.some((i) => i.kind === 'done')).toBe(false);
    expect(open.cut).toBe(false);

    const whole = geminiEvent(
      geminiResponse({ candidates: [{ parts: [{ text: 'x' }], finishReason: 'STOP' }] }),
    );
    const cut = decode([whole, whole.slice(0, 20)]);
    expect(cut.cut).toBe(true);
    expect(cut.items.some((i) => i.kind === 'done')).toBe(false);
  });

  it('turns a blocked prompt into a 400 and an error event into its mapped failure', () => {
    const blocked = decode([
      geminiEvent({
        promptFeedback: { blockReason: 'SAFETY' },
        usageMetadata: { promptTokenCount: 3 },
      }),
    ]);
    expect(blocked.items).toEqual([
      {
        kind: 'error',
        failure: {
          code: 'GW_ERR_UPSTREAM_BAD_REQUEST',
          status: 400,
          message: 'Provider "gem" blocked the prompt (blockReason SAFETY).',
          detail: 'prompt_blocked:SAFETY',
        },
      },
    ]);

    const overloaded = decode([
      geminiEvent(geminiResponse({ candidates: [{ parts: [{ text: 'x' }] }] })),
      geminiEvent(googleError(503, 'UNAVAILABLE', 'The model is overloaded.')),
    ]);
    const error = overloaded.items.find((i) => i.kind === 'error');
    expect(error).toMatchObject({ failure: { code: 'GW_ERR_UPSTREAM_OVERLOADED', status: 503 } });

    const internal = decode([geminiEvent(googleError(500, 'INTERNAL', 'boom'))]);
    expect(internal.items[0]).toMatchObject({
      failure: { code: 'GW_ERR_STREAM_UPSTREAM_ERROR', status: 502 },
    });
  });

  it('G05: the same text, finish and usage whatever the byte offset of a cut', () => {
    const writes = [
      'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"caf',
      Buffer.from([0xc3]),
      Buffer.concat([Buffer.from([0xa9]), Buffer.from(' ok","thoughtSignature":"AAAA"}]}}]}\n\n')]),
      'data: {"candidates":[{"content":{"parts":[{"text":"!"}]},"finishReason":"STOP"}],' +
        '"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8}}\n\n',
    ];
    const all = Buffer.concat(writes.map((w) => (typeof w === 'string' ? Buffer.from(w) : w)));
    const reference = summary(decode([all]).items);
    expect(reference).toEqual({ text: 'café ok!', finish: 'stop', total: 8, done: 1 });
    for (let at = 1; at < all.length; at++) {
      expect(
        summary(decode([all.subarray(0, at), all.subarray(at)]).items),
        `cut at ${at}`,
      ).toEqual(reference);
    }
  });
});

function summary(items: StreamItem[]) {
  const chat = reassembleChat(chunks(items));
  return {
    text: chat.content,
    finish: chat.finishReason,
    total: (chat.usage as { total_tokens?: number } | null)?.total_tokens,
    done: items.filter((i) => i.kind === 'done').length,
  };
}
