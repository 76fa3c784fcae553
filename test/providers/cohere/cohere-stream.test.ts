import { describe, expect, it } from 'vitest';
import type { StreamItem } from '../../../sidecar/providers/adapter.js';
import { CohereStreamDecoder } from '../../../sidecar/providers/cohere/cohere-stream.js';
import { reassembleChat } from '../../support/sse-client.js';
import { cohereEvent, cohereStream } from '../../support/mock-cohere.js';

const ctx = { providerId: 'co', secrets: ['co-secret-key-123'] };
const meta = { model: 'command-a-03-2025', createdS: 1_750_000_000 };

function decode(writes: readonly (string | Uint8Array)[]) {
  const decoder = new CohereStreamDecoder(meta, ctx);
  const items: StreamItem[] = [];
  for (const w of writes) items.push(...decoder.push(typeof w === 'string' ? Buffer.from(w) : w));
  const end = decoder.end();
  items.push(...end.items);
  return { items, cut: end.cut };
}

const chunksOf = (items: StreamItem[]) =>
  items.flatMap((i) => (i.kind === 'chunk' ? [JSON.parse(i.data) as Record<string, unknown>] : []));

const twoCalls = cohereStream({
  id: 'm1',
  toolPlan: ['I will check', ' both.'],
  toolCalls: [
    { id: 'get_weather_a1', name: 'get_weather', arguments: ['{"city":', '"Paris"}'] },
    { id: 'get_weather_b2', name: 'get_weather', arguments: ['{"city":"Tokyo"}'] },
  ],
  usage: { billed: { input: 37, output: 28 }, tokens: { input: 913, output: 83 } },
});

describe('CohereStreamDecoder', () => {
  it('turns a text stream into one role chunk, content chunks, a finish chunk, usage, done', () => {
    const { items } = decode(cohereStream({ id: 'm1', pieces: ['Hel', 'lo'] }));
    expect(items.map((i) => (i.kind === 'chunk' ? i.shape : i.kind))).toEqual([
      'lifecycle',
      'content',
      'content',
      'lifecycle',
      'usage',
      'done',
    ]);
    const chunks = chunksOf(items);
    expect(chunks[0]).toEqual({
      id: 'm1',
      object: 'chat.completion.chunk',
      created: meta.createdS,
      model: meta.model,
      choices: [
        {
          index: 0,
          delta: { role: 'assistant', content: '' },
          logprobs: null,
          finish_reason: null,
        },
      ],
    });
    expect(chunks[3].choices).toEqual([
      { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' },
    ]);
    expect(chunks[4]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 205, completion_tokens: 6, total_tokens: 211 },
    });
    expect(reassembleChat(chunks).content).toBe('Hello');
    expect(reassembleChat(chunks).anomalies).toEqual([]);
  });

  it('numbers parallel tool calls 0 and 1 and sends the tool plan as content', () => {
    const chunks = chunksOf(decode(twoCalls).items);
    const chat = reassembleChat(chunks);
    expect(chat.content).toBe('I will check both.');
    expect(chat.toolCalls.map((c) => [c.index, c.id, c.name, JSON.parse(c.arguments)])).toEqual([
      [0, 'get_weather_a1', 'get_weather', { city: 'Paris' }],
      [1, 'get_weather_b2', 'get_weather', { city: 'Tokyo' }],
    ]);
    expect(chat.finishReason).toBe('tool_calls');
    expect(chat.anomalies).toEqual([]);
  });

  it('counts tool calls in start order even when Cohere numbers them from elsewhere', () => {
    const start = (index: number, id: string) =>
      cohereEvent({
        type: 'tool-call-start',
        index,
        delta: {
          message: { tool_calls: { id, type: 'function', function: { name: 'f', arguments: '' } } },
        },
      });
    const delta = (index: number, args: string) =>
      cohereEvent({
        type: 'tool-call-delta',
        index,
        delta: { message: { tool_calls: { function: { arguments: args } } } },
      });
    const { items } = decode([
      cohereEvent({ type: 'message-start', id: 'm', delta: { message: { role: 'assistant' } } }),
      start(3, 'A'),
      delta(3, '{}'),
      start(7, 'B'),
      delta(7, '{"x":1}'),
      cohereEvent({ type: 'message-end', delta: { finish_reason: 'TOOL_CALL' } }),
    ]);
    const chat = reassembleChat(chunksOf(items));
    expect(chat.toolCalls.map((c) => [c.index, c.id, c.arguments])).toEqual([
      [0, 'A', '{}'],
      [1, 'B', '{"x":1}'],
    ]);
  });

  it('gives a tool call that ended without arguments "{}"', () => {
    const chat = reassembleChat(
      chunksOf(
        decode(cohereStream({ toolCalls: [{ id: 'p', name: 'ping', arguments: [] }] })).items,
      ),
    );
    expect(chat.toolCalls[0].arguments).toBe('{}');
  });

  it('sends thinking deltas as reasoning_content, apart from the answer text', () => {
    const chunks = chunksOf(
      decode(cohereStream({ thinking: ['Let me', ' think'], pieces: ['42'] })).items,
    );
    const reasoning = chunks
      .map(
        (c) =>
          (c.choices as { delta?: { reasoning_content?: string } }[])[0]?.delta
            ?.reasoning_content ?? '',
      )
      .join('');
    expect(reasoning).toBe('Let me think');
    expect(reassembleChat(chunks).content).toBe('42');
  });

  it.each([
    ['COMPLETE', 'stop'],
    ['STOP_SEQUENCE', 'stop'],
    ['MAX_TOKENS', 'length'],
    ['TOOL_CALL', 'tool_calls'],
  ] as const)('maps finish reason %s to %s', (reason, expected) => {
    const chunks = chunksOf(decode(cohereStream({ pieces: ['x'], finishReason: reason })).items);
    expect(reassembleChat(chunks).finishReason).toBe(expected);
  });

  it('G09: a tool call cut by MAX_TOKENS finishes with "length", not "tool_calls"', () => {
    const chunks = chunksOf(
      decode(
        cohereStream({
          toolCalls: [{ id: 'w', name: 'write_file', arguments: ['{"body":"line 1\\n'] }],
          finishReason: 'MAX_TOKENS',
        }),
      ).items,
    );
    expect(reassembleChat(chunks).finishReason).toBe('length');
  });

  it('turns finish reason ERROR into an error item with the message scrubbed, and no done', () => {
    const { items } = decode(
      cohereStream({
        pieces: ['par'],
        finishReason: 'ERROR',
        error: 'boom near co-secret-key-123',
      }),
    );
    const last = items.at(-1)!;
    expect(last.kind).toBe('error');
    if (last.kind !== 'error') return;
    expect(last.failure).toMatchObject({ code: 'GW_ERR_STREAM_UPSTREAM_ERROR', status: 502 });
    expect(last.failure.message).not.toContain('co-secret-key-123');
    expect(items.some((i) => i.kind === 'done')).toBe(false);
  });

  it('turns finish reason TIMEOUT into a 504 timeout error item', () => {
    const { items } = decode(cohereStream({ pieces: ['par'], finishReason: 'TIMEOUT' }));
    expect(items.at(-1)).toMatchObject({
      kind: 'error',
      failure: { code: 'GW_ERR_UPSTREAM_TIMEOUT', status: 504 },
    });
  });

  it('maps a bare error body inside the stream by its wording', () => {
    const { items } = decode([
      cohereEvent({ type: 'message-start', id: 'm', delta: { message: { role: 'assistant' } } }),
      'data: {"message":"You are past the per minute request limit, please wait and try again later."}\n\n',
    ]);
    expect(items.at(-1)).toMatchObject({
      kind: 'error',
      failure: { code: 'GW_ERR_UPSTREAM_RATE_LIMITED', status: 429 },
    });
  });

  it('reports an event that is not JSON as a bad response', () => {
    const { items } = decode(['event: content-delta\ndata: {"type":"content-de\n\n']);
    expect(items.at(-1)).toMatchObject({
      kind: 'error',
      failure: { code: 'GW_ERR_UPSTREAM_BAD_RESPONSE' },
    });
  });

  it('ignores citations, content-end, debug events, comments and a trailing [DONE]', () => {
    const { items } = decode([
      ...cohereStream({ id: 'm', pieces: ['a'] }).slice(0, 3),
      ': keep-alive\n\n',
      cohereEvent({
        type: 'citation-start',
        index: 0,
        delta: { message: { citations: { start: 0, end: 1, text: 'a', sources: [] } } },
      }),
      cohereEvent({ type: 'citation-end', index: 0 }),
      cohereEvent({ type: 'debug', prompt: 'x' }),
      ...cohereStream({ id: 'm', pieces: ['a'] }).slice(3),
      'data: [DONE]\n\n',
    ]);
    const chunks = chunksOf(items);
    expect(reassembleChat(chunks).content).toBe('a');
    expect(items.filter((i) => i.kind === 'done')).toHaveLength(1);
  });

  it('G05: decodes the same stream split at every byte offset, inside UTF-8 characters too', () => {
    const events = cohereStream({
      id: 'm',
      pieces: ['caf', 'é ', 'ok', '!'],
      toolCalls: [{ id: 't', name: 'f', arguments: ['{"k":"ü"}'] }],
    });
    const whole = Buffer.from(events.join(''));
    const expected = JSON.stringify(decode([whole]).items);
    for (let at = 1; at < whole.length; at++) {
      const split = decode([whole.subarray(0, at), whole.subarray(at)]);
      expect(JSON.stringify(split.items)).toBe(expected);
    }
    const chat = reassembleChat(chunksOf(decode([whole]).items));
    expect(chat.content).toBe('café ok!');
    expect(chat.toolCalls[0].arguments).toBe('{"k":"ü"}');
  });

  it('says the stream was cut when it ends inside an event, and gives no done without message-end', () => {
    const events = cohereStream({ pieces: ['a', 'b'], omitEnd: true });
    const { items, cut } = decode([...events, 'event: content-delta\ndata: {"type":"con']);
    expect(cut).toBe(true);
    expect(items.some((i) => i.kind === 'done')).toBe(false);
    expect(items.some((i) => i.kind === 'chunk' && i.finished)).toBe(false);
  });

  it('counts cached tokens as part of the prompt', () => {
    const { items } = decode(
      cohereStream({ pieces: ['a'], usage: { tokens: { input: 100, output: 3 }, cached: 60 } }),
    );
    const usage = items.find((i) => i.kind === 'chunk' && i.shape === 'usage');
    expect(usage).toMatchObject({
      usage: { promptTokens: 100, completionTokens: 3, totalTokens: 103, cachedTokens: 60 },
    });
  });

  it('still closes with a zero usage chunk when Cohere reported none, without metering it', () => {
    const { items } = decode(cohereStream({ pieces: ['a'], usage: null }));
    const usage = items.find((i) => i.kind === 'chunk' && i.shape === 'usage');
    expect(usage?.kind === 'chunk' && usage.usage).toBe(undefined);
    expect(usage?.kind === 'chunk' && JSON.parse(usage.data).usage).toEqual({
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
    });
  });
});
