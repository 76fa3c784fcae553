import { describe, expect, it } from 'vitest';
import type { StreamItem } from '../../../sidecar/providers/adapter.js';
import { AnthropicStreamDecoder } from '../../../sidecar/providers/anthropic/anthropic-stream.js';
import { anthropicErrorEvent, anthropicStream } from '../../support/mock-anthropic.js';

const ctx = { providerId: 'anthropic', secrets: [] };
const CREATED = 1_700_000_000;

function decode(writes: ReadonlyArray<string | Uint8Array>) {
  const decoder = new AnthropicStreamDecoder(ctx, CREATED);
  const items: StreamItem[] = [];
  for (const w of writes) items.push(...decoder.push(typeof w === 'string' ? Buffer.from(w) : w));
  const end = decoder.end();
  return { items: [...items, ...end.items], cut: end.cut };
}

const deltas = (items: StreamItem[]) =>
  items.flatMap((i) => (i.kind === 'chunk' ? [JSON.parse(i.data)] : []));

describe('AnthropicStreamDecoder', () => {
  it('shapes items: role held as lifecycle, text commits, finish, usage last, then done', () => {
    const { items } = decode(
      anthropicStream({ model: 'm', blocks: [{ type: 'text', text: ['a', 'b'] }], ping: true }),
    );
    expect(items.map((i) => (i.kind === 'chunk' ? i.shape : i.kind))).toEqual([
      'lifecycle',
      'content',
      'content',
      'lifecycle',
      'usage',
      'done',
    ]);
    const finish = items[3] as Extract<StreamItem, { kind: 'chunk' }>;
    expect(finish.finished).toEqual([0]);
    expect(finish.usage).toEqual({ promptTokens: 12, completionTokens: 6, totalTokens: 18 });
    expect(JSON.parse((items[4] as { data: string }).data).created).toBe(CREATED);
  });

  it('G01: counts tool-call indices over tool blocks only, with a text block first', () => {
    const { items } = decode(
      anthropicStream({
        model: 'm',
        blocks: [
          { type: 'text', text: 'x' },
          { type: 'tool_use', id: 'toolu_A', name: 'f', input: ['{"a":', '1}'] },
          { type: 'text', text: 'y' },
          { type: 'tool_use', id: 'toolu_B', name: 'f', input: ['{"a":2}'] },
        ],
      }),
    );
    const calls = deltas(items).flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(calls.map((c: any) => [c.index, c.id ?? null])).toEqual([
      [0, 'toolu_A'],
      [0, null],
      [0, null],
      [1, 'toolu_B'],
      [1, null],
    ]);
  });

  it('decodes the same items whatever the read boundaries (every byte offset)', () => {
    const events = anthropicStream({
      model: 'm',
      blocks: [
        { type: 'thinking', thinking: ['déjà ', 'vu'], signature: 'sig_é' },
        { type: 'text', text: ['naïve ', '→ ok'] },
        { type: 'tool_use', id: 'toolu_1', name: 'f', input: ['{"q":"ü"', '}'] },
      ],
      ping: true,
    });
    const whole = Buffer.from(events.join(''));
    const expected = decode([whole]).items;
    for (let at = 1; at < whole.length; at++) {
      expect(decode([whole.subarray(0, at), whole.subarray(at)]).items).toEqual(expected);
    }
    expect(decode([...whole].map((b) => Uint8Array.of(b))).items).toEqual(expected);
  });

  it('carries thinking as reasoning_content deltas and one whole signed block', () => {
    const { items } = decode(
      anthropicStream({
        model: 'm',
        blocks: [{ type: 'thinking', thinking: ['a', 'b'], signature: 'sig_x' }],
      }),
    );
    const d = deltas(items).map((c) => c.choices[0]?.delta);
    expect(d.filter((x) => x?.reasoning_content).map((x) => x.reasoning_content)).toEqual([
      'a',
      'b',
    ]);
    expect(d.filter((x) => x?.thinking_blocks).map((x) => x.thinking_blocks)).toEqual([
      [{ type: 'thinking', thinking: 'ab', signature: 'sig_x' }],
    ]);
  });

  it('turns an error event into one error item and ignores whatever follows', () => {
    const [start] = anthropicStream({ model: 'm', blocks: [] });
    const { items } = decode([
      start,
      anthropicErrorEvent('overloaded_error', 'Overloaded'),
      'event: ping\ndata: {"type":"ping"}\n\n',
    ]);
    expect(items.map((i) => i.kind)).toEqual(['chunk', 'error']);
    expect(items[1]).toMatchObject({
      kind: 'error',
      failure: { code: 'GW_ERR_UPSTREAM_OVERLOADED', status: 503, upstreamStatus: 529 },
    });
  });

  it('reports a frame that is not JSON as a bad response', () => {
    const { items } = decode(['event: message_start\ndata: {not json\n\n']);
    expect(items).toEqual([
      {
        kind: 'error',
        failure: expect.objectContaining({ code: 'GW_ERR_UPSTREAM_BAD_RESPONSE' }),
      },
    ]);
  });

  it('says when the upstream ended inside an event', () => {
    const events = anthropicStream({ model: 'm', blocks: [{ type: 'text', text: 'x' }] });
    const { items, cut } = decode([
      events.slice(0, 3).join('') + 'event: content_block_delta\ndata: {"ty',
    ]);
    expect(cut).toBe(true);
    expect(items.some((i) => i.kind === 'done')).toBe(false);
  });

  it('gives a tool call parsable arguments when no input_json_delta follows', () => {
    const [start, , stop] = anthropicStream({
      model: 'm',
      blocks: [{ type: 'tool_use', id: 't', name: 'f', input: [] }],
    }).slice(0, 3);
    const given = (input: object) =>
      start +
      `event: content_block_start\ndata: ${JSON.stringify({
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 't', name: 'f', input },
      })}\n\n` +
      stop;
    const args = (input: object) =>
      deltas(decode([given(input)]).items)
        .flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])
        .map((t: any) => t.function.arguments)
        .join('');
    expect(args({})).toBe('{}');
    expect(args({ a: 1 })).toBe('{"a":1}');
  });

  it('ignores event types it does not know', () => {
    const events = anthropicStream({ model: 'm', blocks: [{ type: 'text', text: 'x' }] });
    const extra = 'event: something_new\ndata: {"type":"something_new","x":1}\n\n';
    expect(decode([events[0], extra, ...events.slice(1)]).items).toEqual(decode(events).items);
  });
});
