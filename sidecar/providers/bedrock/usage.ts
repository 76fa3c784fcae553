import type { JsonObject, Usage } from '../adapter.js';

// Converse TokenUsage to OpenAI semantics. Bedrock reports inputTokens apart from the cache
// reads and writes (as Anthropic does), so the prompt is their sum; each token is counted
// once, and the detail fields say how many of the prompt came from or went to the cache.

export function readBedrockUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Record<string, unknown>;
  const input = count(u.inputTokens);
  const output = count(u.outputTokens);
  if (input === undefined && output === undefined) return undefined;

  const cacheRead = count(u.cacheReadInputTokens);
  const cacheWrite = count(u.cacheWriteInputTokens);
  const prompt = (input ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0);
  const usage: Usage = {
    promptTokens: prompt,
    completionTokens: output ?? 0,
    totalTokens: prompt + (output ?? 0),
  };
  if (cacheRead !== undefined) usage.cachedTokens = cacheRead;
  if (cacheWrite !== undefined) usage.cacheWriteTokens = cacheWrite;
  return usage;
}

/** The `usage` object of an OpenAI completion or final chunk. */
export function openaiUsage(usage: Usage): JsonObject {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
  };
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
