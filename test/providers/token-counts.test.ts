// Every protocol's usage reader takes token counts by one rule (sidecar/providers/
// token-count.ts): a figure no model could have counted is no figure, so it cannot bill a
// negative, fractional or absurd cost.

import { describe, expect, it } from 'vitest';
import type { Usage } from '../../sidecar/providers/adapter.js';
import { usageFromAnthropic } from '../../sidecar/providers/anthropic/anthropic-usage.js';
import { readBedrockUsage } from '../../sidecar/providers/bedrock/usage.js';
import { readCohereUsage } from '../../sidecar/providers/cohere/usage.js';
import { readGeminiUsage } from '../../sidecar/providers/gemini/gemini-usage.js';
import { readOpenAIUsage } from '../../sidecar/providers/openai/usage.js';
import { tokenCount } from '../../sidecar/providers/token-count.js';

const NONSENSE = [-5, 1.5, 1e30, Number.MAX_SAFE_INTEGER + 2, NaN];

/** Every figure of a usage is a whole number from 0 up, exact as a double. */
function sound(usage: Usage | undefined): void {
  for (const value of Object.values(usage ?? {})) {
    expect(Number.isSafeInteger(value) && value >= 0, String(value)).toBe(true);
  }
}

describe('token counts, in every protocol', () => {
  it('takes whole numbers from zero up, exact as doubles', () => {
    for (const n of [0, 1, 4096, Number.MAX_SAFE_INTEGER]) expect(tokenCount(n)).toBe(n);
  });

  it('refuses negatives, fractions, numbers past exact, and anything not a number', () => {
    for (const bad of [-5, -1, 1.5, 1e30, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity, '7', null])
      expect(tokenCount(bad), String(bad)).toBeUndefined();
  });

  it.each(NONSENSE)('never takes %s as a count', (bad) => {
    sound(readOpenAIUsage({ prompt_tokens: bad, completion_tokens: 3, total_tokens: bad }));
    sound(
      readGeminiUsage({ promptTokenCount: bad, candidatesTokenCount: 3, thoughtsTokenCount: bad }),
    );
    sound(
      usageFromAnthropic({
        input_tokens: bad,
        output_tokens: 3,
        cache_read_input_tokens: bad,
        output_tokens_details: { thinking_tokens: bad },
      }),
    );
    sound(readBedrockUsage({ inputTokens: bad, outputTokens: 3, cacheReadInputTokens: bad }));
    sound(readCohereUsage({ tokens: { input_tokens: bad, output_tokens: 3 }, cached_tokens: bad }));
  });

  it('keeps the sound figures beside a nonsense one', () => {
    expect(
      readOpenAIUsage({ prompt_tokens: -5, completion_tokens: 1e30, total_tokens: 'x' }),
    ).toBeUndefined();
    expect(readOpenAIUsage({ prompt_tokens: 9, completion_tokens: -1, total_tokens: 8 })).toEqual({
      promptTokens: 9,
      completionTokens: 0,
      totalTokens: 8,
    });
    expect(readGeminiUsage({ promptTokenCount: 1e30, candidatesTokenCount: 3 })).toMatchObject({
      promptTokens: 0,
      completionTokens: 3,
    });
    expect(usageFromAnthropic({ input_tokens: 10, output_tokens: -2 })).toMatchObject({
      promptTokens: 10,
      completionTokens: 0,
    });
    expect(readBedrockUsage({ inputTokens: 10, outputTokens: 1.5 })).toMatchObject({
      promptTokens: 10,
      completionTokens: 0,
    });
  });
});
