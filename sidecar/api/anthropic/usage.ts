// Usage in Anthropic's semantics. OpenAI's prompt_tokens includes cached tokens; Anthropic's
// input_tokens excludes cache reads and writes, which are reported beside it
// (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching), so that
// input + cache_read + cache_creation is the whole prompt.

import type { Usage } from '../../providers/adapter.js';
import { readOpenAIUsage } from '../../providers/openai/usage.js';

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** What is known before an OpenAI upstream's usage arrives, or when it never does. */
export const NO_USAGE: Readonly<AnthropicUsage> = Object.freeze({
  input_tokens: 0,
  output_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
});

/**
 * The usage of one answer, from its OpenAI `usage` JSON. The adapter's own reading of the
 * same answer (`known`, the request's metered usage) is preferred when it agrees: it alone
 * carries cache writes, which OpenAI's JSON has no field for.
 */
export function anthropicUsage(
  json: unknown,
  known: Usage | undefined,
): AnthropicUsage | undefined {
  const read = readOpenAIUsage(json);
  if (read === undefined) return undefined;
  const same =
    known !== undefined &&
    known.promptTokens === read.promptTokens &&
    known.completionTokens === read.completionTokens;
  return toAnthropic(same ? known : read);
}

export function toAnthropic(usage: Usage): AnthropicUsage {
  const cacheRead = usage.cachedTokens ?? 0;
  const cacheWrite = (usage.cacheWriteTokens ?? 0) + (usage.cacheWrite1hTokens ?? 0);
  return {
    input_tokens: Math.max(0, usage.promptTokens - cacheRead - cacheWrite),
    output_tokens: usage.completionTokens,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
  };
}
