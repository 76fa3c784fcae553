import type { Usage } from '../adapter.js';
import { tokenCount } from '../token-count.js';

// Converse TokenUsage to OpenAI semantics. Bedrock reports inputTokens apart from the cache
// reads and writes (as Anthropic does), so the prompt is their sum; each token is counted
// once, and the detail fields say how many of the prompt came from or went to the cache.
// The OpenAI `usage` JSON is written by the shared openaiUsageJson (anthropic-usage.ts);
// readBedrockUsage never sets reasoningTokens, so no completion_tokens_details appears.

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

function count(value: unknown): number | undefined {
  return tokenCount(value);
}
