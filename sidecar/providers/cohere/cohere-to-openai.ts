// A non-streamed Cohere v2 chat response into an OpenAI `chat.completion`.

import type { Usage, UpstreamFailure } from '../adapter.js';
import { badResponse } from '../failures.js';
import { failedGeneration, type CohereErrorContext } from './classify-error.js';
import { openAIUsage, readCohereUsage } from './usage.js';

type Json = Record<string, unknown>;

/** Cohere's finish reasons that end an answer normally, and OpenAI's names for them. */
export const FINISH_REASONS: Readonly<Record<string, string>> = {
  COMPLETE: 'stop',
  STOP_SEQUENCE: 'stop',
  MAX_TOKENS: 'length',
  TOOL_CALL: 'tool_calls',
};

export interface CompletionMeta {
  /** The model name to report; Cohere's response does not carry one. */
  model: string;
  createdS: number;
}

export function cohereToOpenAI(
  body: Buffer,
  meta: CompletionMeta,
  ctx: CohereErrorContext,
): { bytes: Uint8Array; usage?: Usage } | UpstreamFailure {
  let parsed: Json;
  try {
    parsed = JSON.parse(body.toString()) as Json;
  } catch {
    return badResponse(ctx.providerId, 'a body that is not JSON');
  }
  const message = parsed?.message as Json | undefined;
  if (typeof message !== 'object' || message === null) {
    return badResponse(ctx.providerId, 'a chat response without a message');
  }

  const reason = String(parsed.finish_reason ?? '');
  if (reason === 'ERROR' || reason === 'TIMEOUT') {
    return failedGeneration(reason, '', ctx, false);
  }

  const { text, reasoning } = contentOf(message.content);
  const toolCalls = toolCallsOf(message.tool_calls);
  // The tool plan is what the model said before calling tools: OpenAI's content beside them.
  const plan = typeof message.tool_plan === 'string' ? message.tool_plan : '';
  const said = plan + text;

  const out: Json = {
    role: 'assistant',
    content: said !== '' ? said : toolCalls ? null : '',
    refusal: null,
  };
  if (reasoning !== '') out.reasoning_content = reasoning;
  if (toolCalls) out.tool_calls = toolCalls;

  const usage = readCohereUsage(parsed.usage);
  const completion: Json = {
    id: typeof parsed.id === 'string' ? parsed.id : '',
    object: 'chat.completion',
    created: meta.createdS,
    model: meta.model,
    choices: [
      {
        index: 0,
        message: out,
        logprobs: null,
        finish_reason: FINISH_REASONS[reason] ?? 'stop',
      },
    ],
  };
  if (usage) completion.usage = openAIUsage(usage);
  return { bytes: Buffer.from(JSON.stringify(completion)), usage };
}

function contentOf(content: unknown): { text: string; reasoning: string } {
  let text = '';
  let reasoning = '';
  if (typeof content === 'string') return { text: content, reasoning };
  if (!Array.isArray(content)) return { text, reasoning };
  for (const item of content as Json[]) {
    if (item?.type === 'text' && typeof item.text === 'string') text += item.text;
    if (item?.type === 'thinking' && typeof item.thinking === 'string') reasoning += item.thinking;
  }
  return { text, reasoning };
}

function toolCallsOf(calls: unknown): Json[] | undefined {
  if (!Array.isArray(calls) || calls.length === 0) return undefined;
  return (calls as Json[]).map((call) => {
    const fn = (call.function ?? {}) as Json;
    // A call without arguments is an empty object, which is what clients will JSON.parse.
    const args = typeof fn.arguments === 'string' && fn.arguments !== '' ? fn.arguments : '{}';
    return {
      id: String(call.id ?? ''),
      type: 'function',
      function: { name: String(fn.name ?? ''), arguments: args },
    };
  });
}
