import { describe, expect, it } from 'vitest';
import { cohereToOpenAI } from '../../../sidecar/providers/cohere/cohere-to-openai.js';
import { readCohereUsage } from '../../../sidecar/providers/cohere/usage.js';
import { cohereChat } from '../../support/mock-cohere.js';
import { itConforms, recordConformance } from '../../support/conformance.js';

const ctx = { providerId: 'co', secrets: [] };
const meta = { model: 'command-a-03-2025', createdS: 1_750_000_000 };

function parse(body: unknown) {
  const out = cohereToOpenAI(Buffer.from(JSON.stringify(body)), meta, ctx);
  if ('code' in out) throw new Error(`unexpected failure ${out.code}`);
  const json = JSON.parse(Buffer.from(out.bytes).toString()) as Record<string, any>;
  recordConformance('CreateChatCompletionResponse', json);
  return { json, usage: out.usage };
}

describe('cohereToOpenAI', () => {
  itConforms('builds a chat.completion from a text answer, with tokens as usage', () => {
    const { json, usage } = parse(
      cohereChat({
        id: 'c0ffee',
        text: 'Hi there',
        usage: { billed: { input: 5, output: 2 }, tokens: { input: 205, output: 4 } },
      }),
    );
    expect(json).toEqual({
      id: 'c0ffee',
      object: 'chat.completion',
      created: meta.createdS,
      model: meta.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi there', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 205, completion_tokens: 4, total_tokens: 209 },
    });
    expect(usage).toEqual({ promptTokens: 205, completionTokens: 4, totalTokens: 209 });
  });

  itConforms('maps tool calls, the tool plan as content, and TOOL_CALL to tool_calls', () => {
    const { json } = parse(
      cohereChat({
        toolPlan: 'I will check both.',
        toolCalls: [
          { id: 'a', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: 'b', name: 'get_weather', arguments: '' },
        ],
      }),
    );
    expect(json.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: 'I will check both.',
        refusal: null,
        tool_calls: [
          {
            id: 'a',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          { id: 'b', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
        ],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    });
  });

  itConforms('gives tool calls without a plan null content, as OpenAI does', () => {
    const { json } = parse(cohereChat({ toolCalls: [{ id: 'a', name: 'f', arguments: '{}' }] }));
    expect(json.choices[0].message.content).toBe(null);
  });

  itConforms('keeps thinking apart as reasoning_content', () => {
    const { json } = parse(cohereChat({ thinking: 'hmm', text: '42' }));
    expect(json.choices[0].message).toMatchObject({ content: '42', reasoning_content: 'hmm' });
  });

  itConforms.each([
    ['MAX_TOKENS', 'length'],
    ['STOP_SEQUENCE', 'stop'],
  ] as const)('maps %s to %s', (reason, expected) => {
    expect(
      parse(cohereChat({ text: 'x', finishReason: reason })).json.choices[0].finish_reason,
    ).toBe(expected);
  });

  it.each([
    ['ERROR', 'GW_ERR_UPSTREAM_ERROR', 502],
    ['TIMEOUT', 'GW_ERR_UPSTREAM_TIMEOUT', 504],
  ] as const)('turns finish reason %s into the failure %s', (reason, code, status) => {
    const out = cohereToOpenAI(
      Buffer.from(JSON.stringify(cohereChat({ text: 'x', finishReason: reason }))),
      meta,
      ctx,
    );
    expect(out).toMatchObject({ code, status });
  });

  it('refuses a body that is not a Cohere chat response', () => {
    expect(cohereToOpenAI(Buffer.from('{"choices":'), meta, ctx)).toMatchObject({
      code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    });
    expect(cohereToOpenAI(Buffer.from('{"id":"x"}'), meta, ctx)).toMatchObject({
      code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    });
  });
});

describe('readCohereUsage', () => {
  it('prefers tokens over billed_units and never mixes the two', () => {
    expect(
      readCohereUsage({
        billed_units: { input_tokens: 126, output_tokens: 84 },
        tokens: { input_tokens: 1589, output_tokens: 135 },
      }),
    ).toEqual({ promptTokens: 1589, completionTokens: 135, totalTokens: 1724 });
  });

  it('falls back to billed_units, and rounds the float counts Cohere may send', () => {
    expect(readCohereUsage({ billed_units: { input_tokens: 37.0, output_tokens: 28.4 } })).toEqual({
      promptTokens: 37,
      completionTokens: 28,
      totalTokens: 65,
    });
  });

  it('counts cached tokens inside the prompt, never more than it', () => {
    expect(
      readCohereUsage({ tokens: { input_tokens: 10, output_tokens: 1 }, cached_tokens: 50 }),
    ).toEqual({
      promptTokens: 10,
      completionTokens: 1,
      totalTokens: 11,
      cachedTokens: 10,
    });
  });

  it('is undefined when there is nothing to read', () => {
    expect(readCohereUsage(undefined)).toBe(undefined);
    expect(readCohereUsage({ billed_units: { search_units: 1 } })).toBe(undefined);
  });
});
