import type { Usage } from '../adapter.js';
import { tokenCount } from '../token-count.js';

/** Reads an OpenAI `usage` object; undefined when absent or not shaped like one. */
export function readOpenAIUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Record<string, unknown>;
  return usageOf(
    tokenCount(u.prompt_tokens),
    tokenCount(u.completion_tokens),
    tokenCount(u.total_tokens),
    tokenCount((u.prompt_tokens_details as Record<string, unknown> | null)?.cached_tokens),
    tokenCount((u.completion_tokens_details as Record<string, unknown> | null)?.reasoning_tokens),
  );
}

/** Usage from its five figures; undefined when neither prompt nor completion is known. */
export function usageOf(
  prompt: number | undefined,
  completion: number | undefined,
  total: number | undefined,
  cached: number | undefined,
  reasoning: number | undefined,
): Usage | undefined {
  if (prompt === undefined && completion === undefined) return undefined;
  const usage: Usage = {
    promptTokens: prompt ?? 0,
    completionTokens: completion ?? 0,
    totalTokens: total ?? (prompt ?? 0) + (completion ?? 0),
  };
  if (cached !== undefined) usage.cachedTokens = cached;
  if (reasoning !== undefined) usage.reasoningTokens = reasoning;
  return usage;
}

/** What a byte scan of an answer returns when the answer needs JSON.parse to be read. */
export const UNSCANNED = Symbol('unscanned');
