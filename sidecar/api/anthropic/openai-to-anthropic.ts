// A canonical OpenAI `chat.completion` as an Anthropic Message
// (https://docs.anthropic.com/en/api/messages): thinking first, then text, then tool_use
// blocks, which is the order Claude itself answers in.

import type { JsonObject, Usage, UpstreamFailure } from '../../providers/adapter.js';
import { isObject } from './check.js';
import { stopOf } from './stop-reason.js';
import { anthropicUsage, NO_USAGE } from './usage.js';

export interface AnswerContext {
  /** The model the client asked for, when the answer names none. */
  model: string;
  stopSequences: readonly string[];
  /** The usage the adapter read from this answer (the request's metered usage). */
  usage: Usage | undefined;
  requestId: string;
}

export type Translated = { message: JsonObject } | { failure: UpstreamFailure };

export function openaiToAnthropic(completion: unknown, ctx: AnswerContext): Translated {
  if (!isObject(completion) || !Array.isArray(completion.choices)) {
    return bad('a completion without choices');
  }
  const choice: unknown = completion.choices[0];
  if (!isObject(choice) || !isObject(choice.message)) return bad('a completion without a message');
  const message = choice.message;

  const content: JsonObject[] = [...thinkingBlocks(message)];
  for (const piece of textsOf(message.content)) content.push({ type: 'text', text: piece });
  const refusal = typeof message.refusal === 'string' && message.refusal !== '';
  if (refusal) content.push({ type: 'text', text: message.refusal });

  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  const truncated = choice.finish_reason === 'length';
  for (const call of calls as JsonObject[]) {
    const fn = (isObject(call) ? call.function : undefined) as JsonObject | undefined;
    const input = parseArguments(fn?.arguments);
    if (typeof fn?.name !== 'string') return bad('a tool call without a name');
    // Anthropic clients type `input` as an object; a model's broken JSON cannot become one.
    // A call cut off by max_tokens is no provider fault: Anthropic answers such a turn with
    // stop_reason max_tokens and an incomplete last block, and a 502 would be retried.
    if (input === undefined && !truncated) {
      return bad(`a call of '${fn.name}' whose arguments are not an object`);
    }
    content.push({ type: 'tool_use', id: call.id, name: fn.name, input: input ?? {} });
  }

  const stop = stopOf({
    finishReason: choice.finish_reason,
    refused: refusal,
    matched: choice.stop_reason,
    stopSequences: ctx.stopSequences,
    calledTools: calls.length > 0,
  });
  const usage = anthropicUsage(completion.usage, ctx.usage);
  const answer: JsonObject = {
    id: messageId(completion.id, ctx.requestId),
    type: 'message',
    role: 'assistant',
    model: typeof completion.model === 'string' && completion.model ? completion.model : ctx.model,
    content,
    ...stop,
    usage: usage ?? NO_USAGE,
  };
  return { message: answer };
}

/** Anthropic ids start with `msg_`; an upstream's own id is kept after it, for tracing. */
export function messageId(upstreamId: unknown, requestId: string): string {
  if (typeof upstreamId !== 'string' || upstreamId === '') return `msg_${requestId}`;
  return upstreamId.startsWith('msg_') ? upstreamId : `msg_${upstreamId}`;
}

/**
 * The blocks an Anthropic model returned whole, signature included (`thinking_blocks`), or
 * else an OpenAI-protocol model's reasoning text (DeepSeek, vLLM, OpenRouter), unsigned.
 */
function thinkingBlocks(message: JsonObject): JsonObject[] {
  if (Array.isArray(message.thinking_blocks) && message.thinking_blocks.length > 0) {
    return (message.thinking_blocks as unknown[])
      .filter(isObject)
      .map((b) =>
        b.type === 'redacted_thinking'
          ? { type: 'redacted_thinking', data: b.data }
          : { type: 'thinking', thinking: b.thinking ?? '', signature: b.signature ?? '' },
      );
  }
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning !== 'string' || reasoning === '') return [];
  return [{ type: 'thinking', thinking: reasoning, signature: '' }];
}

function textsOf(content: unknown): string[] {
  if (typeof content === 'string') return content === '' ? [] : [content];
  if (!Array.isArray(content)) return [];
  return content
    .filter((part): part is JsonObject => isObject(part) && typeof part.text === 'string')
    .map((part) => part.text as string)
    .filter((t) => t !== '');
}

function parseArguments(args: unknown): JsonObject | undefined {
  if (args === undefined || args === null || args === '') return {};
  if (typeof args !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(args);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function bad(what: string): Translated {
  const failure: UpstreamFailure = {
    code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    status: 502,
    message: `The provider answered with ${what}.`,
    detail: 'anthropic_ingress:bad_completion',
  };
  return { failure };
}
