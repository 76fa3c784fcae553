import type { Usage } from '../adapter.js';
import { tokenCount } from '../token-count.js';

/**
 * Reads Cohere's `usage`. It reports two counts: `tokens` (what the model read and wrote,
 * including the preamble Cohere adds to every prompt) and `billed_units` (what Cohere charges
 * for, without that preamble). We use `tokens` when present, else `billed_units`: the counts
 * describe the model's work the way OpenAI's `usage` does, so costs computed from them are an
 * upper bound of Cohere's invoice. The two objects are never mixed field by field.
 * `cached_tokens` are prompt tokens served from Cohere's cache, part of the input.
 */
export function readCohereUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Record<string, unknown>;
  const counts = pick(u.tokens) ?? pick(u.billed_units);
  if (counts === undefined) return undefined;

  const usage: Usage = {
    promptTokens: counts.input,
    completionTokens: counts.output,
    totalTokens: counts.input + counts.output,
  };
  const cached = whole(u.cached_tokens);
  if (cached !== undefined && cached > 0) usage.cachedTokens = Math.min(cached, counts.input);
  return usage;
}

/** The OpenAI `usage` object for a Usage, detail blocks only where there is something to say. */
export function openAIUsage(usage: Usage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
  };
  if (usage.cachedTokens !== undefined) {
    out.prompt_tokens_details = { cached_tokens: usage.cachedTokens };
  }
  return out;
}

function pick(value: unknown): { input: number; output: number } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const counts = value as Record<string, unknown>;
  const input = whole(counts.input_tokens);
  const output = whole(counts.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  return { input: input ?? 0, output: output ?? 0 };
}

/** Cohere's schema types counts as `number`; OpenAI's are integers. */
function whole(value: unknown): number | undefined {
  return typeof value === 'number' ? tokenCount(Math.round(value)) : undefined;
}
