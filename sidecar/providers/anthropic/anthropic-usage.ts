import type { JsonObject, Usage } from '../adapter.js';
import { tokenCount } from '../token-count.js';

// Anthropic's usage in OpenAI's semantics. Anthropic's `input_tokens` excludes cache reads
// and writes (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching), while
// OpenAI's prompt_tokens includes cached tokens, so prompt = input + reads + writes, and
// the detail fields say how many were which: each token is then priced once (G30, G31).

/** Merges usage objects in arrival order; later non-null counts replace earlier ones. */
export function mergeAnthropicUsage(...parts: ReadonlyArray<unknown>): JsonObject {
  const merged: JsonObject = {};
  for (const part of parts) {
    if (typeof part !== 'object' || part === null) continue;
    for (const [key, value] of Object.entries(part as JsonObject)) {
      if (value !== null && value !== undefined) merged[key] = value;
    }
  }
  return merged;
}

export function usageFromAnthropic(u: JsonObject): Usage {
  const input = count(u.input_tokens);
  const cacheRead = count(u.cache_read_input_tokens);
  const cacheWrite = count(u.cache_creation_input_tokens);
  const output = count(u.output_tokens);

  const usage: Usage = {
    promptTokens: input + cacheRead + cacheWrite,
    completionTokens: output,
    totalTokens: input + cacheRead + cacheWrite + output,
  };
  if (cacheRead > 0) usage.cachedTokens = cacheRead;

  // cache_creation splits the writes by TTL (1-hour writes cost 2x input, 5-minute 1.25x).
  const byTtl = u.cache_creation as JsonObject | undefined;
  const oneHour = Math.min(count(byTtl?.ephemeral_1h_input_tokens), cacheWrite);
  if (cacheWrite - oneHour > 0) usage.cacheWriteTokens = cacheWrite - oneHour;
  if (oneHour > 0) usage.cacheWrite1hTokens = oneHour;

  const details = u.output_tokens_details as JsonObject | undefined;
  const thinking = tokenCount(details?.thinking_tokens);
  if (thinking !== undefined) usage.reasoningTokens = thinking;
  return usage;
}

/** The `usage` object of an OpenAI completion or final chunk. */
export function openaiUsageJson(usage: Usage): JsonObject {
  const out: JsonObject = {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
  };
  if (usage.reasoningTokens !== undefined) {
    out.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  }
  return out;
}

/** Anthropic's stop_reason as an OpenAI finish_reason. */
export function finishReason(stopReason: unknown): string {
  switch (stopReason) {
    case 'tool_use':
      return 'tool_calls';
    // A limit reached inside a tool_use block is still a cut answer, not a call (G09).
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, and pause_turn (only server tools pause; none are sent).
      return 'stop';
  }
}

function count(value: unknown): number {
  return tokenCount(value) ?? 0;
}
