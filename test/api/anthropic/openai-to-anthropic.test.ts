import { describe, expect, it } from 'vitest';
import { anthropicErrorType } from '../../../sidecar/api/anthropic/error-envelope.js';
import { openaiToAnthropic } from '../../../sidecar/api/anthropic/openai-to-anthropic.js';
import { stopOf } from '../../../sidecar/api/anthropic/stop-reason.js';
import { toAnthropic } from '../../../sidecar/api/anthropic/usage.js';
import type { Usage } from '../../../sidecar/providers/adapter.js';

const ctx = { model: 'asked', stopSequences: ['END'], usage: undefined, requestId: 'r1' };

function completion(message: object, finish = 'stop', usage?: object) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
    usage: usage ?? { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 },
  };
}

describe('openaiToAnthropic', () => {
  it('puts thinking first, then text, then tool_use blocks', () => {
    const out = openaiToAnthropic(
      completion(
        {
          content: 'Checking.',
          reasoning_content: 'hmm',
          thinking_blocks: [{ type: 'thinking', thinking: 'hmm', signature: 'sig_abc' }],
          tool_calls: [
            {
              id: 'toolu_A',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        'tool_calls',
      ),
      ctx,
    );
    expect(out).toEqual({
      message: {
        id: 'msg_chatcmpl-1',
        type: 'message',
        role: 'assistant',
        model: 'gpt-4o',
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 'sig_abc' },
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: { city: 'Paris' } },
        ],
        stop_reason: 'tool_use',
        stop_sequence: null,
        usage: {
          input_tokens: 20,
          output_tokens: 5,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      },
    });
  });

  it('exposes an OpenAI-protocol model’s reasoning text as an unsigned thinking block', () => {
    const out = openaiToAnthropic(completion({ content: '4', reasoning_content: '2+2' }), ctx);
    expect(out).toMatchObject({
      message: {
        content: [
          { type: 'thinking', thinking: '2+2', signature: '' },
          { type: 'text', text: '4' },
        ],
      },
    });
  });

  it('answers a refusal as text with stop_reason refusal', () => {
    const out = openaiToAnthropic(completion({ content: null, refusal: 'I can’t help.' }), ctx);
    expect(out).toMatchObject({
      message: { content: [{ type: 'text', text: 'I can’t help.' }], stop_reason: 'refusal' },
    });
  });

  it('takes cache writes from the metered usage, which OpenAI JSON cannot carry', () => {
    const metered: Usage = {
      promptTokens: 3000,
      completionTokens: 9,
      totalTokens: 3009,
      cachedTokens: 1000,
      cacheWriteTokens: 1500,
      cacheWrite1hTokens: 400,
    };
    const body = completion({ content: 'ok' }, 'stop', {
      prompt_tokens: 3000,
      completion_tokens: 9,
      prompt_tokens_details: { cached_tokens: 1000 },
    });
    const out = openaiToAnthropic(body, { ...ctx, usage: metered });
    expect(out).toMatchObject({
      message: {
        usage: {
          input_tokens: 100,
          output_tokens: 9,
          cache_creation_input_tokens: 1900,
          cache_read_input_tokens: 1000,
        },
      },
    });
  });

  it('fails, rather than invent an input, when a tool call’s arguments are not an object', () => {
    const body = completion(
      {
        content: null,
        tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":' } }],
      },
      'tool_calls',
    );
    expect(openaiToAnthropic(body, ctx)).toMatchObject({
      failure: { code: 'GW_ERR_UPSTREAM_BAD_RESPONSE', status: 502 },
    });
    expect(openaiToAnthropic({ choices: [] }, ctx)).toHaveProperty('failure');
  });
});

describe('stopOf', () => {
  const stop = (finishReason: unknown, matched: unknown = null, refused = false) =>
    stopOf({ finishReason, matched, refused, stopSequences: ['END'], calledTools: false });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['function_call', 'tool_use'],
    ['content_filter', 'refusal'],
    [null, 'end_turn'],
  ])('maps finish_reason %s to %s', (finish, reason) => {
    expect(stop(finish).stop_reason).toBe(reason);
  });

  it('reports stop_sequence only for a sequence the client asked for', () => {
    expect(stop('stop', 'END')).toEqual({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
    expect(stop('stop', 'OTHER')).toEqual({ stop_reason: 'end_turn', stop_sequence: null });
    expect(stop('stop', 128009)).toEqual({ stop_reason: 'end_turn', stop_sequence: null });
  });
});

describe('usage and errors in Anthropic terms', () => {
  it('never reports a negative input count', () => {
    const odd: Usage = { promptTokens: 5, completionTokens: 1, totalTokens: 6, cachedTokens: 9 };
    expect(toAnthropic(odd).input_tokens).toBe(0);
  });

  it.each([
    [400, 'invalid_request_error'],
    [405, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [503, 'overloaded_error'],
    [529, 'overloaded_error'],
    [504, 'timeout_error'],
  ])('maps HTTP %i to %s', (status, type) => {
    expect(anthropicErrorType(status)).toBe(type);
  });
});
