import { describe, expect, it } from 'vitest';
import { anthropicToOpenAI } from '../../../sidecar/providers/anthropic/anthropic-to-openai.js';
import { usageFromAnthropic } from '../../../sidecar/providers/anthropic/anthropic-usage.js';
import { anthropicMessage } from '../../support/mock-anthropic.js';

describe('anthropicToOpenAI', () => {
  it('joins text, keeps tool calls in order and exposes thinking with its signature', () => {
    const msg = anthropicMessage({
      id: 'msg_1',
      model: 'claude-x',
      blocks: [
        { type: 'thinking', thinking: 'hmm', signature: 'sig_1' },
        { type: 'redacted_thinking', data: 'opaque' },
        { type: 'text', text: 'One ' },
        { type: 'text', text: 'two.' },
        { type: 'tool_use', id: 'toolu_1', name: 'f', input: '{"a":1}' },
      ],
    });
    const { completion } = anthropicToOpenAI(msg, { created: 5 });
    expect(completion).toEqual({
      id: 'msg_1',
      object: 'chat.completion',
      created: 5,
      model: 'claude-x',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'One two.',
            refusal: null,
            tool_calls: [
              { id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
            ],
            reasoning_content: 'hmm',
            thinking_blocks: [
              { type: 'thinking', thinking: 'hmm', signature: 'sig_1' },
              { type: 'redacted_thinking', data: 'opaque' },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 12,
        completion_tokens: 6,
        total_tokens: 18,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['model_context_window_exceeded', 'length'],
    ['pause_turn', 'stop'],
  ])('maps stop_reason %s to %s', (stop, finish) => {
    const msg = {
      ...anthropicMessage({ model: 'm', blocks: [{ type: 'text', text: 'x' }] }),
      stop_reason: stop,
    };
    expect(anthropicToOpenAI(msg, { created: 0 }).completion.choices).toMatchObject([
      { finish_reason: finish },
    ]);
  });

  it('gives content null when the answer is only tool calls', () => {
    const msg = anthropicMessage({
      model: 'm',
      blocks: [{ type: 'tool_use', id: 't', name: 'f', input: '{}' }],
    });
    expect(
      (anthropicToOpenAI(msg, { created: 0 }).completion.choices as any)[0].message.content,
    ).toBeNull();
  });
});

describe('usageFromAnthropic', () => {
  it('counts cache reads and writes into prompt tokens once, split by TTL', () => {
    expect(
      usageFromAnthropic({
        input_tokens: 10,
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 50,
        cache_creation: { ephemeral_5m_input_tokens: 20, ephemeral_1h_input_tokens: 30 },
        output_tokens: 7,
        output_tokens_details: { thinking_tokens: 4 },
      }),
    ).toEqual({
      promptTokens: 160,
      completionTokens: 7,
      totalTokens: 167,
      cachedTokens: 100,
      cacheWriteTokens: 20,
      cacheWrite1hTokens: 30,
      reasoningTokens: 4,
    });
  });

  it('treats null counts (older API versions) as zero', () => {
    expect(
      usageFromAnthropic({ input_tokens: 3, output_tokens: 1, cache_read_input_tokens: null }),
    ).toEqual({ promptTokens: 3, completionTokens: 1, totalTokens: 4 });
  });
});
