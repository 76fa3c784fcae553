// Token counts as the OpenAI usage reader takes them: a figure that no model could have
// counted is no figure, so that it cannot bill a negative or absurd cost.

import { describe, expect, it } from 'vitest';
import { tokenCount } from '../../../sidecar/providers/token-count.js';
import { readOpenAIUsage } from '../../../sidecar/providers/openai/usage.js';

describe('token counts', () => {
  it('takes whole numbers from zero up, exact as doubles', () => {
    for (const n of [0, 1, 4096, Number.MAX_SAFE_INTEGER]) expect(tokenCount(n)).toBe(n);
  });

  it('refuses negatives, fractions, numbers past exact, and anything not a number', () => {
    for (const bad of [-5, -1, 1.5, 1e30, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity, '7', null])
      expect(tokenCount(bad), String(bad)).toBeUndefined();
  });

  it('reads a usage whose figures are nonsense as no usage, or only its sound figures', () => {
    expect(
      readOpenAIUsage({ prompt_tokens: -5, completion_tokens: 1e30, total_tokens: 'x' }),
    ).toBeUndefined();
    expect(readOpenAIUsage({ prompt_tokens: 9, completion_tokens: -1, total_tokens: 8 })).toEqual({
      promptTokens: 9,
      completionTokens: 0,
      totalTokens: 8,
    });
  });
});
