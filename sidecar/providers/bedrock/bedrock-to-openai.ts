import type { JsonObject, UpstreamFailure, Usage } from '../adapter.js';
import { badResponse } from '../failures.js';
import { openaiUsageJson } from '../anthropic/anthropic-usage.js';
import { finishReason } from './stop-reason.js';
import { readBedrockUsage } from './usage.js';

// A Converse response to an OpenAI `chat.completion`. Text blocks join into `content`,
// toolUse blocks become `tool_calls` (their JSON input re-serialised as the arguments text),
// and reasoning text, when a model returns some, goes to `reasoning_content`.

export interface CompletionMeta {
  id: string;
  /** Seconds since the epoch. */
  created: number;
  model: string;
}

interface ContentBlock {
  text?: unknown;
  toolUse?: { toolUseId?: unknown; name?: unknown; input?: unknown };
  reasoningContent?: { reasoningText?: { text?: unknown } };
}

export function toChatCompletion(
  body: Buffer,
  meta: CompletionMeta,
  providerId: string,
): { bytes: Uint8Array; usage?: Usage } | UpstreamFailure {
  let parsed: JsonObject;
  try {
    parsed = JSON.parse(body.toString()) as JsonObject;
  } catch {
    return badResponse(providerId, 'a body that is not JSON');
  }
  const message = (parsed?.output as JsonObject | undefined)?.message as JsonObject | undefined;
  if (!Array.isArray(message?.content)) {
    return badResponse(providerId, 'a Converse response without output.message.content');
  }

  let text = '';
  let reasoning = '';
  const toolCalls: JsonObject[] = [];
  for (const block of message.content as ContentBlock[]) {
    if (typeof block.text === 'string') text += block.text;
    const thought = block.reasoningContent?.reasoningText?.text;
    if (typeof thought === 'string') reasoning += thought;
    if (block.toolUse !== undefined) {
      toolCalls.push({
        id: block.toolUse.toolUseId,
        type: 'function',
        function: {
          name: block.toolUse.name,
          arguments: JSON.stringify(block.toolUse.input ?? {}),
        },
      });
    }
  }

  const out: JsonObject = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (toolCalls.length > 0) out.tool_calls = toolCalls;
  if (reasoning !== '') out.reasoning_content = reasoning;

  const usage = readBedrockUsage(parsed.usage);
  const completion: JsonObject = {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [
      { index: 0, message: out, logprobs: null, finish_reason: finishReason(parsed.stopReason) },
    ],
  };
  if (usage !== undefined) completion.usage = openaiUsageJson(usage);
  return { bytes: Buffer.from(JSON.stringify(completion)), usage };
}
