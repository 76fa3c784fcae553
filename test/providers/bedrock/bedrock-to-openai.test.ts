import { describe, expect, it } from 'vitest';
import { toChatCompletion } from '../../../sidecar/providers/bedrock/bedrock-to-openai.js';
import { finishReason } from '../../../sidecar/providers/bedrock/stop-reason.js';
import { converseResponse } from '../../support/mock-bedrock.js';
import { itConforms, recordConformance } from '../../support/conformance.js';

const META = { id: 'chatcmpl-x', created: 1_700_000_000, model: '' };

function parse(body: unknown) {
  const out = toChatCompletion(Buffer.from(JSON.stringify(body)), META, 'bedrock');
  if ('code' in out) throw new Error(out.message);
  const json = JSON.parse(Buffer.from(out.bytes).toString());
  recordConformance('CreateChatCompletionResponse', json);
  return { json, usage: out.usage };
}

describe('Converse response to chat.completion', () => {
  itConforms('maps text, stop reason and usage', () => {
    const { json, usage } = parse(
      converseResponse({ text: 'Hi!', usage: { inputTokens: 9, outputTokens: 2 } }),
    );
    expect(json).toEqual({
      id: 'chatcmpl-x',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: '',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi!', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 9,
        completion_tokens: 2,
        total_tokens: 11,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
    expect(usage).toEqual({ promptTokens: 9, completionTokens: 2, totalTokens: 11 });
  });

  itConforms('maps toolUse blocks to tool_calls with JSON text arguments, content null', () => {
    const { json } = parse(
      converseResponse({
        tools: [
          { id: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } },
          { id: 'tooluse_2', name: 'get_weather', input: { city: 'Tokyo' } },
        ],
      }),
    );
    expect(json.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          {
            id: 'tooluse_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          {
            id: 'tooluse_2',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' },
          },
        ],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    });
  });

  itConforms('keeps reasoning text apart from the answer', () => {
    const { json } = parse(converseResponse({ reasoning: 'Let me think.', text: '42' }));
    expect(json.choices[0].message).toMatchObject({
      content: '42',
      reasoning_content: 'Let me think.',
    });
  });

  itConforms('counts cache reads and writes into the prompt, once', () => {
    const { json, usage } = parse(
      converseResponse({
        text: 'x',
        usage: {
          inputTokens: 5,
          outputTokens: 1,
          cacheReadInputTokens: 1000,
          cacheWriteInputTokens: 200,
        },
      }),
    );
    expect(usage).toEqual({
      promptTokens: 1205,
      completionTokens: 1,
      totalTokens: 1206,
      cachedTokens: 1000,
      cacheWriteTokens: 200,
    });
    expect(json.usage).toEqual({
      prompt_tokens: 1205,
      completion_tokens: 1,
      total_tokens: 1206,
      prompt_tokens_details: { cached_tokens: 1000 },
    });
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['content_filtered', 'content_filter'],
    ['guardrail_intervened', 'content_filter'],
    ['malformed_model_output', 'stop'],
    [undefined, 'stop'],
  ])('stopReason %s finishes as %s', (reason, finish) => {
    expect(finishReason(reason)).toBe(finish);
  });

  it('answers 502 bad response for a body that is not a Converse response', () => {
    for (const body of ['not json', '{"output":{}}']) {
      const out = toChatCompletion(Buffer.from(body), META, 'bedrock');
      expect(out).toMatchObject({ code: 'GW_ERR_UPSTREAM_BAD_RESPONSE', status: 502 });
    }
  });
});
