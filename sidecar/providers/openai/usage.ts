import type { Usage } from '../adapter.js';
import { NameTable, skipSpace } from '../../bytes.js';

/** Reads an OpenAI `usage` object; undefined when absent or not shaped like one. */
export function readOpenAIUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Record<string, unknown>;
  return usageOf(
    num(u.prompt_tokens),
    num(u.completion_tokens),
    num(u.total_tokens),
    num((u.prompt_tokens_details as Record<string, unknown> | null)?.cached_tokens),
    num((u.completion_tokens_details as Record<string, unknown> | null)?.reasoning_tokens),
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

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** What {@link scanOpenAIUsage} returns when the object needs JSON.parse to be read. */
export const UNSCANNED = Symbol('unscanned');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const ZERO = 0x30;
const NINE = 0x39;

const enum Key {
  Other,
  Prompt,
  Completion,
  Total,
  PromptDetails,
  CompletionDetails,
  Cached,
  Reasoning,
}

const KEYS = new NameTable<Key>([
  ['prompt_tokens', Key.Prompt],
  ['completion_tokens', Key.Completion],
  ['total_tokens', Key.Total],
  ['prompt_tokens_details', Key.PromptDetails],
  ['completion_tokens_details', Key.CompletionDetails],
  ['cached_tokens', Key.Cached],
  ['reasoning_tokens', Key.Reasoning],
]);

/**
 * readOpenAIUsage(JSON.parse(the object)) for the usage object whose `{` is at `open`, read
 * from its bytes without building the object (a parse of this small object cost more than
 * the rest of reading a completion). It reads what providers write: keys without escapes,
 * whole numbers, null, and objects one level down. Anything else, valid JSON or not, returns
 * UNSCANNED for the caller to parse.
 */
export function scanOpenAIUsage(b: Uint8Array, open: number): Usage | undefined | typeof UNSCANNED {
  let prompt: number | undefined;
  let completion: number | undefined;
  let total: number | undefined;
  let cached: number | undefined;
  let reasoning: number | undefined;
  // Inside a nested object, the key that holds it.
  let nested = false;
  let parent = Key.Other;
  if (b[open] !== OPEN_OBJECT) return UNSCANNED;
  let i = skipSpace(b, open + 1);
  if (b[i] === CLOSE_OBJECT) return undefined; // {}
  for (;;) {
    if (b[i] !== QUOTE) return UNSCANNED;
    const keyStart = i + 1;
    for (i = keyStart; i < b.length && b[i] !== QUOTE; i++) {
      if (b[i] === BACKSLASH || b[i] < 0x20) return UNSCANNED;
    }
    if (i >= b.length) return UNSCANNED;
    const key = KEYS.find(b, keyStart, i) ?? Key.Other;
    i = skipSpace(b, i + 1);
    if (b[i] !== COLON) return UNSCANNED;
    i = skipSpace(b, i + 1);

    const c = b[i];
    if (c === OPEN_OBJECT && !nested) {
      // An object replaces whatever an earlier key of the same name held.
      if (key === Key.Prompt) prompt = undefined;
      else if (key === Key.Completion) completion = undefined;
      else if (key === Key.Total) total = undefined;
      else if (key === Key.PromptDetails) cached = undefined;
      else if (key === Key.CompletionDetails) reasoning = undefined;
      nested = true;
      parent = key;
      i = skipSpace(b, i + 1);
      if (b[i] !== CLOSE_OBJECT) continue;
    } else {
      let value: number | undefined;
      if (c >= ZERO && c <= NINE) {
        // A whole number of at most 15 digits: exact as a double, as JSON.parse reads it.
        const start = i;
        value = 0;
        for (; b[i] >= ZERO && b[i] <= NINE; i++) value = value * 10 + (b[i] - ZERO);
        if (i - start > 15 || (c === ZERO && i - start > 1)) return UNSCANNED;
        if (b[i] === 0x2e || b[i] === 0x65 || b[i] === 0x45) return UNSCANNED; // . e E
      } else if (c === 0x6e && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c) {
        i += 4; // null
      } else {
        return UNSCANNED;
      }
      if (!nested) {
        if (key === Key.Prompt) prompt = value;
        else if (key === Key.Completion) completion = value;
        else if (key === Key.Total) total = value;
        // A number or null where a details object goes: no details.
        else if (key === Key.PromptDetails) cached = undefined;
        else if (key === Key.CompletionDetails) reasoning = undefined;
      } else if (parent === Key.PromptDetails && key === Key.Cached) {
        cached = value;
      } else if (parent === Key.CompletionDetails && key === Key.Reasoning) {
        reasoning = value;
      }
      i = skipSpace(b, i);
      if (b[i] === COMMA) {
        i = skipSpace(b, i + 1);
        continue;
      }
      if (b[i] !== CLOSE_OBJECT) return UNSCANNED;
      if (!nested) return usageOf(prompt, completion, total, cached, reasoning);
    }
    // The nested object closed at i.
    nested = false;
    i = skipSpace(b, i + 1);
    if (b[i] === COMMA) {
      i = skipSpace(b, i + 1);
      continue;
    }
    if (b[i] !== CLOSE_OBJECT) return UNSCANNED;
    return usageOf(prompt, completion, total, cached, reasoning);
  }
}
