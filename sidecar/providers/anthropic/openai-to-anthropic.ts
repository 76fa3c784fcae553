import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';
import { messagesToAnthropic } from './messages-to-anthropic.js';
import { thinkingFor } from './thinking.js';
import { toolChoiceToAnthropic, toolsToAnthropic } from './tools-to-anthropic.js';

// An OpenAI chat body (already checked by api/chat-request.ts) into an Anthropic Messages
// body (https://docs.anthropic.com/en/api/messages). Anthropic refuses fields it does not
// know, so nothing passes through unmapped: each OpenAI field is translated, dropped with a
// reason below, or refused with a 400 naming it.

/**
 * Anthropic requires max_tokens; OpenAI clients usually omit it. 4096 is the largest output
 * every Claude model accepts (the Claude 3 models stop there), so it is valid everywhere.
 */
export const DEFAULT_MAX_TOKENS = 4096;

export interface AnthropicBodyOptions {
  stream: boolean;
}

export function openaiToAnthropic(
  body: JsonObject,
  target: string,
  opts: AnthropicBodyOptions,
): JsonObject {
  refuseUnsupported(body);
  const { system, messages } = messagesToAnthropic(body.messages as JsonObject[]);

  // max_completion_tokens is the newer name and wins when both are given (G14).
  const requested = num(body.max_completion_tokens) ?? num(body.max_tokens);
  const thinking = thinkingFor(body, requested);
  const out: JsonObject = {
    model: target,
    max_tokens: requested ?? DEFAULT_MAX_TOKENS + (thinking?.budget ?? 0),
  };
  if (system.length > 0) out.system = system;
  out.messages = messages;

  const tools = toolsToAnthropic(body.tools);
  if (tools !== undefined) {
    out.tools = tools;
    const choice = toolChoiceToAnthropic(body.tool_choice, body.parallel_tool_calls);
    if (choice !== undefined) out.tool_choice = choice;
  }

  const stop = stopSequences(body.stop);
  if (stop !== undefined) out.stop_sequences = stop;
  if (body.temperature !== undefined && body.temperature !== null) {
    out.temperature = body.temperature;
  }
  if (body.top_p !== undefined && body.top_p !== null) out.top_p = body.top_p;
  // Not OpenAI's, but sent by clients written against OpenAI-compatible servers.
  if (typeof body.top_k === 'number') out.top_k = body.top_k;
  if (thinking !== undefined) out.thinking = thinking.config;

  const format = outputFormat(body.response_format);
  if (format !== undefined) out.output_config = { format };
  if (typeof body.user === 'string' && body.user !== '') out.metadata = { user_id: body.user };
  if (opts.stream) out.stream = true;

  // Dropped on purpose: `seed` (best effort in OpenAI, no Anthropic equivalent),
  // `stream_options` (Anthropic streams always carry usage), `store`, `metadata` and
  // `service_tier` (OpenAI account features), `parallel_tool_calls: true` (the default).
  return out;
}

/**
 * Anthropic refuses empty and whitespace-only stop sequences with a 400 (G15). They are
 * dropped rather than failing the request; when none is left the field is left out.
 */
function stopSequences(stop: unknown): string[] | undefined {
  const list = typeof stop === 'string' ? [stop] : Array.isArray(stop) ? (stop as string[]) : [];
  const usable = list.filter((s) => s.trim() !== '');
  return usable.length > 0 ? usable : undefined;
}

/**
 * json_schema maps to Anthropic's structured outputs (`output_config.format`), which
 * constrains the reply itself, so the answer comes back as ordinary text content.
 */
function outputFormat(format: unknown): JsonObject | undefined {
  const f = format as JsonObject | undefined | null;
  if (f === undefined || f === null || f.type !== 'json_schema') return undefined;
  const spec = f.json_schema as JsonObject;
  return { type: 'json_schema', schema: spec.schema ?? { type: 'object' } };
}

/** OpenAI features Anthropic has no form for: refused before any upstream call. */
function refuseUnsupported(body: JsonObject): void {
  if (num(body.n) !== undefined && (body.n as number) > 1) {
    throw unsupported('n', 'Anthropic models return one choice per request; n must be 1.');
  }
  if (body.logprobs === true || num(body.top_logprobs) !== undefined) {
    throw unsupported('logprobs', 'Anthropic models do not return log probabilities.');
  }
  if (num(body.temperature) !== undefined && (body.temperature as number) > 1) {
    throw unsupported('temperature', 'Anthropic models take a temperature from 0 to 1.');
  }
  for (const key of ['frequency_penalty', 'presence_penalty'] as const) {
    if (num(body[key]) !== undefined && body[key] !== 0) {
      throw unsupported(key, `Anthropic models have no ${key.replace('_', ' ')}.`);
    }
  }
  const bias = body.logit_bias as JsonObject | undefined | null;
  if (bias && Object.keys(bias).length > 0) {
    throw unsupported('logit_bias', 'Anthropic models do not take a logit bias.');
  }
  const format = body.response_format as JsonObject | undefined | null;
  if (format?.type === 'json_object') {
    throw unsupported(
      'response_format.type',
      'Anthropic models have no JSON mode; use response_format json_schema instead.',
    );
  }
  if (body.audio !== undefined && body.audio !== null) {
    throw unsupported('audio', 'Anthropic models do not produce audio.');
  }
  if (Array.isArray(body.functions) || body.function_call !== undefined) {
    throw unsupported('functions', 'Send tools and tool_choice for Anthropic models.');
  }
}

function unsupported(param: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_UNSUPPORTED_PARAM', message, { param });
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}
