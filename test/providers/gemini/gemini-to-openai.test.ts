import { describe, expect, it } from 'vitest';
import { toOpenAICompletion } from '../../../sidecar/providers/gemini/gemini-to-openai.js';
import { geminiResponse } from '../../support/mock-gemini.js';
import { itConforms, recordConformance } from '../../support/conformance.js';

const ctx = { providerId: 'gem', secrets: [], nowSeconds: () => 1700000000 };

function parse(body: unknown) {
  const out = toOpenAICompletion(Buffer.from(JSON.stringify(body)), ctx);
  if ('code' in out) throw new Error(`unexpected failure ${out.code}`);
  const json = JSON.parse(Buffer.from(out.bytes).toString()) as Record<string, any>;
  recordConformance('CreateChatCompletionResponse', json);
  return { json, usage: out.usage };
}

describe('toOpenAICompletion', () => {
  itConforms('maps text, thoughts and usage (G32, non-stream)', () => {
    const { json, usage } = parse(
      geminiResponse({
        candidates: [
          {
            parts: [{ text: 'Thinking...', thought: true }, { text: 'Par' }, { text: 'is.' }],
            finishReason: 'STOP',
          },
        ],
        usage: {
          promptTokenCount: 20,
          candidatesTokenCount: 151,
          thoughtsTokenCount: 382,
          cachedContentTokenCount: 8,
        },
        modelVersion: 'gemini-2.5-pro',
        responseId: 'r1',
      }),
    );
    expect(json).toEqual({
      id: 'chatcmpl-r1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'gemini-2.5-pro',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Paris.',
            refusal: null,
            reasoning_content: 'Thinking...',
          },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 20,
        completion_tokens: 533,
        total_tokens: 553,
        prompt_tokens_details: { cached_tokens: 8 },
        completion_tokens_details: { reasoning_tokens: 382 },
      },
    });
    expect(usage).toEqual({
      promptTokens: 20,
      completionTokens: 533,
      totalTokens: 553,
      cachedTokens: 8,
      reasoningTokens: 382,
    });
  });

  itConforms(
    'G01 Gemini (non-stream): parallel function calls with distinct ids and finish tool_calls',
    () => {
      const { json } = parse(
        geminiResponse({
          candidates: [
            {
              parts: [
                {
                  functionCall: { name: 'get_weather', args: { city: 'Paris' } },
                  thoughtSignature: 'U0lH',
                },
                { functionCall: { name: 'get_weather', args: { city: 'Tokyo' } } },
              ],
              finishReason: 'STOP',
            },
          ],
        }),
      );
      const message = json.choices[0].message;
      expect(message.content).toBeNull();
      expect(message.tool_calls).toHaveLength(2);
      expect(message.tool_calls[0]).toMatchObject({
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
        extra_content: { google: { thought_signature: 'U0lH' } },
      });
      expect(message.tool_calls[1].function.arguments).toBe('{"city":"Tokyo"}');
      expect(message.tool_calls[0].id).not.toBe(message.tool_calls[1].id);
      expect(json.choices[0].finish_reason).toBe('tool_calls');
    },
  );

  itConforms(
    'maps several candidates to several choices, and a safety stop to content_filter',
    () => {
      const { json } = parse(
        geminiResponse({
          candidates: [
            { parts: [{ text: 'A' }], finishReason: 'STOP' },
            { parts: [], finishReason: 'SAFETY', index: 1 },
          ],
        }),
      );
      expect(json.choices.map((c: any) => [c.index, c.message.content, c.finish_reason])).toEqual([
        [0, 'A', 'stop'],
        [1, '', 'content_filter'],
      ]);
    },
  );

  it("names the call's target as the model when Gemini gives no modelVersion", () => {
    const { modelVersion: _omitted, ...res } = geminiResponse({
      candidates: [{ parts: [{ text: 'x' }], finishReason: 'STOP' }],
    });
    const out = toOpenAICompletion(Buffer.from(JSON.stringify(res)), ctx, 'gemini-x');
    if ('code' in out) throw new Error(out.code);
    expect(JSON.parse(Buffer.from(out.bytes).toString()).model).toBe('gemini-x');
  });

  it('answers a blocked prompt with a 400 and a body without candidates with a 502', () => {
    const blocked = toOpenAICompletion(
      Buffer.from(JSON.stringify({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } })),
      ctx,
    );
    expect(blocked).toMatchObject({ code: 'GW_ERR_UPSTREAM_BAD_REQUEST', status: 400 });
    expect(toOpenAICompletion(Buffer.from('{}'), ctx)).toMatchObject({
      code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
      status: 502,
    });
    expect(toOpenAICompletion(Buffer.from('<html>'), ctx)).toMatchObject({ status: 502 });
  });
});
