import { describe, expect, it } from 'vitest';
import {
  OpenAIStreamToAnthropic,
  type StreamContext,
} from '../../../sidecar/api/anthropic/openai-stream-to-anthropic.js';
import type { ErrorCode } from '../../../sidecar/errors.js';
import type { Usage } from '../../../sidecar/providers/adapter.js';

const frame = (payload: unknown) =>
  `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
const chunk = (delta: object, finish: string | null = null) =>
  frame({
    id: 'chatcmpl-9',
    model: 'gpt-4o',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
const usageChunk = (usage: object) => frame({ id: 'chatcmpl-9', choices: [], usage });

function translator(over: Partial<StreamContext> = {}) {
  const failures: ErrorCode[] = [];
  const t = new OpenAIStreamToAnthropic({
    model: 'asked',
    stopSequences: [],
    usage: () => undefined,
    requestId: 'r1',
    onOwnFailure: (code) => failures.push(code),
    ...over,
  });
  return { t, failures };
}

/** Anthropic events as [event name, payload], checking that name and `type` agree. */
function events(text: string): [string, Record<string, unknown>][] {
  return text
    .split('\n\n')
    .filter((e) => e !== '')
    .map((e) => {
      const [eventLine, dataLine, ...rest] = e.split('\n');
      expect(rest).toEqual([]);
      const name = eventLine.replace(/^event: /, '');
      const data = JSON.parse(dataLine.replace(/^data: /, '')) as Record<string, unknown>;
      expect(data.type).toBe(name);
      return [name, data];
    });
}

describe('OpenAIStreamToAnthropic', () => {
  it('streams thinking, text and two tool calls as blocks 0-3, usage last', () => {
    const { t } = translator();
    const out = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ reasoning_content: 'Two ' }),
      chunk({ reasoning_content: 'cities.' }),
      chunk({
        thinking_blocks: [{ type: 'thinking', thinking: 'Two cities.', signature: 'sig_abc' }],
      }),
      chunk({ content: 'Checking' }),
      chunk({
        tool_calls: [
          { index: 0, id: 'call_A', type: 'function', function: { name: 'w', arguments: '' } },
        ],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }),
      chunk({
        tool_calls: [
          {
            index: 1,
            id: 'call_B',
            type: 'function',
            function: { name: 'w', arguments: '{"city":' },
          },
        ],
      }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '"Rome"}' } }] }),
      chunk({}, 'tool_calls'),
      usageChunk({ prompt_tokens: 30, completion_tokens: 12 }),
      frame('[DONE]'),
    ]
      .map((f) => t.push(Buffer.from(f)))
      .join('');

    const seq = events(out).map(([name, data]) => {
      const delta = data.delta as Record<string, unknown> | undefined;
      const block = data.content_block as Record<string, unknown> | undefined;
      return [name, data.index, block?.type ?? delta?.type]
        .filter((x) => x !== undefined)
        .join(' ');
    });
    expect(seq).toEqual([
      'message_start',
      'content_block_start 0 thinking',
      'content_block_delta 0 thinking_delta',
      'content_block_delta 0 thinking_delta',
      'content_block_delta 0 signature_delta',
      'content_block_stop 0',
      'content_block_start 1 text',
      'content_block_delta 1 text_delta',
      'content_block_stop 1',
      'content_block_start 2 tool_use',
      'content_block_delta 2 input_json_delta',
      'content_block_stop 2',
      'content_block_start 3 tool_use',
      'content_block_delta 3 input_json_delta',
      'content_block_delta 3 input_json_delta',
      'content_block_stop 3',
      'message_delta',
      'message_stop',
    ]);

    const all = events(out);
    expect(all[0][1].message).toMatchObject({ id: 'msg_chatcmpl-9', model: 'gpt-4o', content: [] });
    expect(all[9][1].content_block).toEqual({
      type: 'tool_use',
      id: 'call_A',
      name: 'w',
      input: {},
    });
    expect(all.at(-2)![1]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: {
        input_tokens: 30,
        output_tokens: 12,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
    expect(t.ended).toBe(true);
  });

  it('reassembles frames and characters split across writes', () => {
    const { t } = translator();
    const bytes = Buffer.from(
      chunk({ content: 'héllo wörld' }) + chunk({}, 'stop') + frame('[DONE]'),
    );
    let out = '';
    for (let i = 0; i < bytes.length; i += 7) out += t.push(bytes.subarray(i, i + 7));
    const text = events(out)
      .filter(([name]) => name === 'content_block_delta')
      .map(([, data]) => (data.delta as { text: string }).text)
      .join('');
    expect(text).toBe('héllo wörld');
    expect(events(out).at(-1)![0]).toBe('message_stop');
  });

  it('reports cache reads and writes from the metered usage in message_delta', () => {
    const metered: Usage = {
      promptTokens: 2000,
      completionTokens: 3,
      totalTokens: 2003,
      cachedTokens: 1500,
      cacheWriteTokens: 400,
    };
    const { t } = translator({ usage: () => metered });
    t.push(Buffer.from(chunk({ content: 'ok' }, 'stop')));
    t.push(Buffer.from(usageChunk({ prompt_tokens: 2000, completion_tokens: 3 })));
    const [delta] = events(t.push(Buffer.from(frame('[DONE]'))));
    expect(delta[1].usage).toEqual({
      input_tokens: 100,
      output_tokens: 3,
      cache_creation_input_tokens: 400,
      cache_read_input_tokens: 1500,
    });
  });

  it('answers an empty completion with a start, a stop reason and an end', () => {
    const { t } = translator();
    const out = t.push(
      Buffer.from(chunk({ role: 'assistant', content: '' }, 'length') + frame('[DONE]')),
    );
    expect(events(out).map(([name]) => name)).toEqual([
      'message_start',
      'message_delta',
      'message_stop',
    ]);
    expect(events(out)[1][1].delta).toEqual({ stop_reason: 'max_tokens', stop_sequence: null });
    expect(events(out)[1][1].usage).toEqual({ output_tokens: 0 });
  });

  it('turns the relay’s error event into Anthropic’s, with the type its code maps to', () => {
    const { t, failures } = translator();
    t.push(Buffer.from(chunk({ content: 'Once' })));
    const error = {
      error: {
        message: 'Slow down.',
        type: 'rate_limit_error',
        param: null,
        code: 'GW_ERR_UPSTREAM_RATE_LIMITED',
      },
    };
    expect(events(t.push(Buffer.from(frame(error))))).toEqual([
      [
        'error',
        {
          type: 'error',
          error: { type: 'rate_limit_error', message: 'Slow down.' },
          request_id: 'r1',
        },
      ],
    ]);
    expect(t.push(Buffer.from(frame('[DONE]')))).toBe('');
    expect(t.end()).toBe('');
    expect(failures).toEqual([]);
  });

  it('ends a stream that stopped without its finish with an error event of its own', () => {
    const { t, failures } = translator();
    t.push(Buffer.from(chunk({ content: 'Once' })));
    const out = events(t.end());
    expect(out.map(([name]) => name)).toEqual(['error']);
    expect(failures).toEqual(['GW_ERR_STREAM_INTERRUPTED']);
  });

  it('refuses a frame that is not JSON', () => {
    const { t, failures } = translator();
    const out = events(t.push(Buffer.from(chunk({ content: 'a' }) + frame('{"choices":[{'))));
    expect(out.at(-1)![1]).toMatchObject({ error: { type: 'api_error' } });
    expect(failures).toEqual(['GW_ERR_UPSTREAM_BAD_RESPONSE']);
  });

  it('sends a redacted thinking block whole, and a refusal as text', () => {
    const { t } = translator();
    const out = events(
      t.push(
        Buffer.from(
          chunk({ thinking_blocks: [{ type: 'redacted_thinking', data: 'EmwK' }] }) +
            chunk({ refusal: 'No.' }) +
            chunk({}, 'stop') +
            frame('[DONE]'),
        ),
      ),
    );
    expect(out[1][1].content_block).toEqual({ type: 'redacted_thinking', data: 'EmwK' });
    expect(out[2][0]).toBe('content_block_stop');
    expect(out.find(([name]) => name === 'message_delta')![1].delta).toEqual({
      stop_reason: 'refusal',
      stop_sequence: null,
    });
  });
});
