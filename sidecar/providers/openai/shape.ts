import type { ChunkShape } from '../adapter.js';

interface Choice {
  index?: unknown;
  delta?: Record<string, unknown> | null;
  finish_reason?: unknown;
}

/**
 * A chunk commits the stream when a client would show something from it. Azure sends
 * `choices: []` prompt-filter chunks and delta-less annotation chunks: those are noise.
 */
export function shapeOf(chunk: Record<string, unknown>): {
  shape: ChunkShape;
  finished?: number[];
} {
  const choices = chunk.choices;
  if (!Array.isArray(choices) || choices.length === 0) {
    return { shape: chunk.usage ? 'usage' : 'noise' };
  }

  let shape: ChunkShape = 'noise';
  let finished: number[] | undefined;
  for (const choice of choices as (Choice | null)[]) {
    // Not a choice at all (`null`, a number): nothing a client could show.
    if (typeof choice !== 'object' || choice === null) continue;
    const delta = choice.delta;
    const finish = choice.finish_reason;
    if (typeof finish === 'string') {
      (finished ??= []).push(typeof choice.index === 'number' ? choice.index : 0);
      if (shape === 'noise') shape = 'lifecycle';
    }
    if (delta === undefined || delta === null) continue;
    if (bearsContent(delta)) shape = 'content';
    else if (shape === 'noise') shape = 'lifecycle';
  }
  return { shape, finished };
}

function bearsContent(delta: Record<string, unknown>): boolean {
  return (
    nonEmpty(delta.content) ||
    nonEmpty(delta.refusal) ||
    nonEmpty(delta.reasoning_content) ||
    nonEmpty(delta.reasoning) ||
    (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) ||
    (typeof delta.function_call === 'object' && delta.function_call !== null) ||
    (typeof delta.audio === 'object' && delta.audio !== null)
  );
}

function nonEmpty(value: unknown): boolean {
  return typeof value === 'string' ? value.length > 0 : Array.isArray(value) && value.length > 0;
}
