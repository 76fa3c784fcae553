// Gemini's usageMetadata in OpenAI's semantics (ai.google.dev/api/generate-content#UsageMetadata).
// Gemini counts thinking apart from the answer (thoughtsTokenCount beside
// candidatesTokenCount) and counts both in its total; OpenAI puts reasoning inside
// completion_tokens and says how much in completion_tokens_details. promptTokenCount
// already includes cached content, which becomes prompt_tokens_details.cached_tokens.

import type { JsonObject, Usage } from '../adapter.js';
import { tokenCount } from '../token-count.js';

export function readGeminiUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  // Tool-use prompts (search grounding, code execution) are input the model read.
  const prompt = count(m.promptTokenCount) + count(m.toolUsePromptTokenCount);
  const thoughts = count(m.thoughtsTokenCount);
  const completion = count(m.candidatesTokenCount) + thoughts;

  // The total is the sum of its parts, so that prompt + completion == total always holds
  // and nothing is priced twice or not at all.
  const usage: Usage = {
    promptTokens: prompt,
    completionTokens: completion,
    totalTokens: prompt + completion,
  };
  const cached = count(m.cachedContentTokenCount);
  if (cached > 0) usage.cachedTokens = cached;
  if (thoughts > 0) usage.reasoningTokens = thoughts;
  return usage;
}

/** The `usage` object of an OpenAI completion or final chunk. */
export function usageJson(usage: Usage): JsonObject {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
  };
}

function count(value: unknown): number {
  return tokenCount(value) ?? 0;
}
