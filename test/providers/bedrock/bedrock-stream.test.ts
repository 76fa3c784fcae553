import { describe, expect, it } from 'vitest';
import type { StreamItem } from '../../../sidecar/providers/adapter.js';
import { BedrockStreamDecoder } from '../../../sidecar/providers/bedrock/bedrock-stream.js';
import {
  converseStream,
  encodeMessage,
  eventFrame,
  exceptionFrame,
} from '../../support/mock-bedrock.js';
import { reassembleChat } from '../../support/sse-client.js';

const META = {
  id: 'chatcmpl-test',
  created: 1_700_000_000,
  model: '',
  ctx: { providerId: 'bedrock', secrets: [] },
  maxEventBytes: 1024 * 1024,
};

function decode(frames: readonly Buffer[], cuts?: number[]) {
  const decoder = new BedrockStreamDecoder(META);
  const all = Buffer.concat(frames);
  const bounds = cuts ?? [];
  const items: StreamItem[] = [];
  let start = 0;
  for (const end of [...bounds, all.length]) {
    items.push(...decoder.push(all.subarray(start, end)));
    start = end;
  }
  const tail = decoder.end();
  return { items: [...items, ...tail.items], cut: tail.cut };
}

const chunks = (items: StreamItem[]) =>
  items.flatMap((i) => (i.kind === 'chunk' ? [JSON.parse(i.data) as Record<string, unknown>] : []));

describe('BedrockStreamDecoder', () => {
  it('turns a text stream into role, content, finish and usage chunks, then done', () => {
    const { items, cut } = decode(
      converseStream({ text: ['Hello', ' there'], usage: { inputTokens: 20, outputTokens: 2 } }),
    );
    expect(cut).toBe(false);
    expect(items.map((i) => (i.kind === 'chunk' ? i.shape : i.kind))).toEqual([
      'lifecycle',
      'content',
      'content',
      'lifecycle',
      'usage',
      'done',
    ]);
    const head = {
      id: 'chatcmpl-test',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model: '',
    };
    const choice = (delta: object, finish: string | null = null) => ({
      ...head,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
    expect(chunks(items)).toEqual([
      choice({ role: 'assistant', content: '' }),
      choice({ content: 'Hello' }),
      choice({ content: ' there' }),
      choice({}, 'stop'),
      {
        ...head,
        choices: [],
        usage: {
          prompt_tokens: 20,
          completion_tokens: 2,
          total_tokens: 22,
          prompt_tokens_details: { cached_tokens: 0 },
        },
      },
    ]);
    const finish = items[3];
    expect(finish.kind === 'chunk' && finish.finished).toEqual([0]);
    const usage = items[4];
    expect(usage.kind === 'chunk' && usage.usage).toEqual({
      promptTokens: 20,
      completionTokens: 2,
      totalTokens: 22,
    });
  });

  it('G01 (Bedrock): a text block before two tool blocks does not shift tool indices', () => {
    const { items } = decode(
      converseStream({
        text: ['Checking both.'],
        tools: [
          { id: 'tooluse_A', name: 'get_weather', input: ['{"city": "Par', 'is"}'] },
          { id: 'tooluse_B', name: 'get_weather', input: ['{"city":"Tokyo"}'] },
        ],
      }),
    );
    const chat = reassembleChat(chunks(items));
    expect(chat.anomalies).toEqual([]);
    expect(chat.roleChunks).toBe(1);
    expect(chat.content).toBe('Checking both.');
    expect(chat.toolCalls.map((c) => [c.index, c.id, c.name])).toEqual([
      [0, 'tooluse_A', 'get_weather'],
      [1, 'tooluse_B', 'get_weather'],
    ]);
    expect(chat.toolCalls.map((c) => JSON.parse(c.arguments))).toEqual([
      { city: 'Paris' },
      { city: 'Tokyo' },
    ]);
    expect(chat.finishReason).toBe('tool_calls');
    // The first fragment of each call names it; later ones carry only index and arguments.
    const fragments = chunks(items).flatMap(
      (c) => (c.choices as { delta: { tool_calls?: unknown[] } }[])[0]?.delta.tool_calls ?? [],
    );
    expect(fragments[0]).toEqual({
      index: 0,
      id: 'tooluse_A',
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(fragments[1]).toEqual({ index: 0, function: { arguments: '{"city": "Par' } });
  });

  it('G01 (Bedrock): tool blocks at content indices 0 and 1 become calls 0 and 1', () => {
    const { items } = decode(
      converseStream({
        tools: [
          { id: 'tooluse_A', name: 'get_weather', input: ['{"city":"Paris"}'] },
          { id: 'tooluse_B', name: 'get_time', input: ['{"tz":', '"JST"}'] },
        ],
      }),
    );
    const chat = reassembleChat(chunks(items));
    expect(chat.toolCalls.map((c) => [c.index, c.id, c.name, c.arguments])).toEqual([
      [0, 'tooluse_A', 'get_weather', '{"city":"Paris"}'],
      [1, 'tooluse_B', 'get_time', '{"tz":"JST"}'],
    ]);
  });

  it('gives a tool call streamed without input deltas "{}" as its arguments', () => {
    // Converse sends no toolUse.input delta (or an empty one) for a call with no arguments;
    // the non-streamed answer says {} for the same call, and clients JSON.parse the text.
    const { items } = decode(
      converseStream({
        tools: [
          { id: 'tooluse_A', name: 'get_time', input: [] },
          { id: 'tooluse_B', name: 'list_files', input: [''] },
          { id: 'tooluse_C', name: 'get_weather', input: ['{"city":"Oslo"}'] },
        ],
      }),
    );
    const chat = reassembleChat(chunks(items));
    expect(chat.anomalies).toEqual([]);
    expect(chat.toolCalls.map((c) => [c.index, c.name, c.arguments])).toEqual([
      [0, 'get_time', '{}'],
      [1, 'list_files', '{}'],
      [2, 'get_weather', '{"city":"Oslo"}'],
    ]);
  });

  it('gives the same items wherever the frames are cut', () => {
    const frames = converseStream({
      text: ['Paris ', 'et ', 'Tōkyō'],
      tools: [{ id: 'tooluse_A', name: 'f', input: ['{}'] }],
    });
    const whole = decode(frames).items;
    const size = Buffer.concat(frames).length;
    for (let at = 1; at < size; at += 7) {
      expect(decode(frames, [at, Math.min(size - 1, at + 3)]).items).toEqual(whole);
    }
  });

  it('G22 (A): a stream whose only frame is a validation exception is a 400 failure', () => {
    const { items } = decode([exceptionFrame('validationException', 'Could not process image')]);
    expect(items).toEqual([
      {
        kind: 'error',
        failure: {
          code: 'GW_ERR_UPSTREAM_BAD_REQUEST',
          status: 400,
          message: 'Provider "bedrock": Could not process image',
          detail: 'stream:validationException',
          upstreamStatus: 400,
        },
      },
    ]);
  });

  it.each([
    [
      'throttlingException',
      'Too many tokens, please wait before trying again.',
      'GW_ERR_UPSTREAM_RATE_LIMITED',
      429,
    ],
    [
      'serviceUnavailableException',
      'Bedrock is unable to process your request.',
      'GW_ERR_UPSTREAM_OVERLOADED',
      503,
    ],
    ['internalServerException', 'Internal error', 'GW_ERR_UPSTREAM_ERROR', 502],
    ['modelStreamErrorException', 'Model stream failed', 'GW_ERR_STREAM_UPSTREAM_ERROR', 502],
    [
      'validationException',
      'Input is too long for requested model.',
      'GW_ERR_UPSTREAM_CONTEXT_LENGTH',
      400,
    ],
  ])('maps an in-stream %s', (type, message, code, status) => {
    const { items } = decode([exceptionFrame(type, message)]);
    expect(items).toMatchObject([{ kind: 'error', failure: { code, status } }]);
  });

  it('ends with the error after content already went out, and ignores what follows it', () => {
    const started = converseStream({ text: ['Hello'], noStop: true, noMetadata: true });
    const { items } = decode([
      ...started,
      exceptionFrame('modelStreamErrorException', 'The model stream broke'),
      eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'late' } }),
    ]);
    expect(items.map((i) => i.kind)).toEqual(['chunk', 'chunk', 'error']);
  });

  it('maps an event-stream protocol error frame (:message-type error)', () => {
    const frame = encodeMessage(
      {
        ':message-type': 'error',
        ':error-code': 'ThrottlingException',
        ':error-message': 'Rate exceeded',
      },
      '',
    );
    const { items } = decode([frame]);
    expect(items).toMatchObject([
      {
        kind: 'error',
        failure: {
          code: 'GW_ERR_UPSTREAM_RATE_LIMITED',
          message: 'Provider "bedrock": Rate exceeded',
        },
      },
    ]);
  });

  it('keeps the usage chunk after the finish chunk when metadata comes first', () => {
    const frames = converseStream({ text: ['x'] });
    const [metadata] = frames.splice(-1, 1);
    frames.splice(frames.length - 1, 0, metadata);
    const { items } = decode(frames);
    expect(items.slice(-3).map((i) => (i.kind === 'chunk' ? i.shape : i.kind))).toEqual([
      'lifecycle',
      'usage',
      'done',
    ]);
  });

  it('counts cache reads and writes into prompt_tokens, once each', () => {
    const { items } = decode(
      converseStream({
        text: ['x'],
        usage: {
          inputTokens: 10,
          outputTokens: 3,
          cacheReadInputTokens: 100,
          cacheWriteInputTokens: 50,
        },
      }),
    );
    const usage = items.find((i) => i.kind === 'chunk' && i.shape === 'usage');
    expect(usage?.kind === 'chunk' && usage.usage).toEqual({
      promptTokens: 160,
      completionTokens: 3,
      totalTokens: 163,
      cachedTokens: 100,
      cacheWriteTokens: 50,
    });
    expect(usage?.kind === 'chunk' && JSON.parse(usage.data).usage).toEqual({
      prompt_tokens: 160,
      completion_tokens: 3,
      total_tokens: 163,
      prompt_tokens_details: { cached_tokens: 100 },
    });
  });

  it('carries reasoning text as reasoning_content and drops its signature', () => {
    const { items } = decode(converseStream({ reasoning: ['Think', 'ing'], text: ['Answer'] }));
    const deltas = chunks(items).map((c) => (c.choices as { delta: object }[])[0]?.delta);
    expect(deltas.slice(0, 4)).toEqual([
      { role: 'assistant', content: '' },
      { reasoning_content: 'Think' },
      { reasoning_content: 'ing' },
      { content: 'Answer' },
    ]);
  });

  it('reports a stream cut inside a frame, and finishes nothing without messageStop', () => {
    const frames = converseStream({ text: ['Hel', 'lo'], noStop: true, noMetadata: true });
    const all = Buffer.concat(frames);
    const decoder = new BedrockStreamDecoder(META);
    const items = decoder.push(all.subarray(0, all.length - 5));
    const end = decoder.end();
    expect(end.cut).toBe(true);
    expect([...items, ...end.items].some((i) => i.kind === 'done')).toBe(false);
  });

  it('fails with a bad-response error on a corrupt frame', () => {
    const frame = eventFrame('messageStart', { role: 'assistant' });
    frame[frame.length - 1] ^= 0xff;
    const { items } = decode([frame]);
    expect(items).toMatchObject([
      {
        kind: 'error',
        failure: {
          code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
          status: 502,
          detail: 'eventstream:message_crc',
        },
      },
    ]);
  });

  it('ignores events it does not know', () => {
    const frames = converseStream({ text: ['ok'] });
    frames.splice(1, 0, eventFrame('somethingNew', { x: 1 }));
    const { items } = decode(frames);
    expect(reassembleChat(chunks(items)).content).toBe('ok');
  });
});
