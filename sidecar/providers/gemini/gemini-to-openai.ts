// A Gemini GenerateContentResponse as an OpenAI chat.completion.

import type { JsonObject, UpstreamFailure, Usage } from '../adapter.js';
import { badResponse as sharedBadResponse, scrubMessage } from '../failures.js';
import { classifyStreamError, readGoogleError, type ClassifyContext } from './classify-error.js';
import { finishReason, piecesOf, randomId, type GeminiCandidate } from './gemini-parts.js';
import { readGeminiUsage, usageJson } from './gemini-usage.js';

export interface ResponseContext extends ClassifyContext {
  /** Seconds since the epoch, for `created`. */
  nowSeconds(): number;
}

/** `model` names the answer when Gemini's modelVersion does not (the call's target). */
export function toOpenAICompletion(
  body: Buffer,
  ctx: ResponseContext,
  model = '',
): { bytes: Uint8Array; usage?: Usage } | UpstreamFailure {
  let res: JsonObject;
  try {
    res = JSON.parse(body.toString()) as JsonObject;
  } catch {
    return badResponse(ctx, 'a body that is not JSON');
  }
  if (typeof res !== 'object' || res === null) return badResponse(ctx, 'a body that is not JSON');
  if (res.error !== undefined) return classifyStreamError(readGoogleError(body), ctx);

  const blocked = promptBlocked(res, ctx);
  if (blocked) return blocked;
  if (!Array.isArray(res.candidates) || res.candidates.length === 0) {
    return badResponse(ctx, 'a response without candidates');
  }

  const usage = readGeminiUsage(res.usageMetadata);
  const completion: JsonObject = {
    id: completionId(res),
    object: 'chat.completion',
    created: ctx.nowSeconds(),
    model: typeof res.modelVersion === 'string' ? res.modelVersion : model,
    choices: (res.candidates as GeminiCandidate[]).map(toChoice),
  };
  if (usage) completion.usage = usageJson(usage);
  return { bytes: Buffer.from(JSON.stringify(completion)), usage };
}

function toChoice(candidate: GeminiCandidate, position: number): JsonObject {
  let calls = 0;
  const pieces = piecesOf(candidate, () => calls++);
  let text = '';
  let reasoning = '';
  const toolCalls: JsonObject[] = [];
  for (const piece of pieces) {
    if (piece.kind === 'text') text += piece.text;
    else if (piece.kind === 'reasoning') reasoning += piece.text;
    else {
      const { index: _index, ...call } = piece.call;
      toolCalls.push(call);
    }
  }

  const message: JsonObject = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (reasoning !== '') message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    index: typeof candidate.index === 'number' ? candidate.index : position,
    message,
    logprobs: null,
    finish_reason: finishReason(candidate.finishReason, toolCalls.length > 0) ?? 'stop',
  };
}

/**
 * A prompt Gemini refused to answer (promptFeedback.blockReason, no candidates) is a 400:
 * the same request will be refused again, so no retry and no other endpoint should try it,
 * and Azure OpenAI answers a filtered prompt the same way.
 */
export function promptBlocked(res: JsonObject, ctx: ClassifyContext): UpstreamFailure | undefined {
  const reason = (res.promptFeedback as JsonObject | undefined)?.blockReason;
  if (typeof reason !== 'string') return undefined;
  if (Array.isArray(res.candidates) && res.candidates.length > 0) return undefined;
  const shown = scrubMessage(reason, ctx.secrets);
  return {
    code: 'GW_ERR_UPSTREAM_BAD_REQUEST',
    status: 400,
    message: `Provider "${ctx.providerId}" blocked the prompt (blockReason ${shown}).`,
    detail: `prompt_blocked:${reason}`,
  };
}

export function completionId(res: JsonObject): string {
  return typeof res.responseId === 'string' && res.responseId !== ''
    ? `chatcmpl-${res.responseId}`
    : randomId('chatcmpl-', 29);
}

export function badResponse(ctx: ClassifyContext, what: string): UpstreamFailure {
  return sharedBadResponse(ctx.providerId, what);
}
