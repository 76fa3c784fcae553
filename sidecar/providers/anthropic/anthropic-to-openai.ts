import type { JsonObject, Usage } from '../adapter.js';
import { finishReason, openaiUsageJson, usageFromAnthropic } from './anthropic-usage.js';

// A non-streamed Anthropic Message (https://docs.anthropic.com/en/api/messages) as an
// OpenAI `chat.completion`. Text blocks join into `content`, tool_use blocks become
// `tool_calls` in order, and thinking is exposed twice: its text as `reasoning_content`,
// and each block whole, signature included, as `thinking_blocks`, which a client returns
// unchanged on its next turn so that a tool loop with thinking stays valid (G11).

export interface CompletionInit {
  /** Seconds since the epoch for `created`. */
  created: number;
}

export function anthropicToOpenAI(
  msg: JsonObject,
  init: CompletionInit,
): { completion: JsonObject; usage: Usage } {
  let text = '';
  let reasoning = '';
  const toolCalls: JsonObject[] = [];
  const thinkingBlocks: JsonObject[] = [];

  for (const block of (msg.content ?? []) as JsonObject[]) {
    switch (block.type) {
      case 'text':
        text += String(block.text ?? '');
        break;
      case 'tool_use':
        toolCalls.push({
          id: block.id,
          type: 'function',
          function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
        });
        break;
      case 'thinking':
        reasoning += String(block.thinking ?? '');
        thinkingBlocks.push({
          type: 'thinking',
          thinking: block.thinking,
          signature: block.signature,
        });
        break;
      case 'redacted_thinking':
        thinkingBlocks.push({ type: 'redacted_thinking', data: block.data });
        break;
      // Server-tool and other block types have no OpenAI form.
    }
  }

  const message: JsonObject = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (thinkingBlocks.length > 0) {
    message.reasoning_content = reasoning;
    message.thinking_blocks = thinkingBlocks;
  }

  const usage = usageFromAnthropic((msg.usage ?? {}) as JsonObject);
  const completion = {
    id: msg.id,
    object: 'chat.completion',
    created: init.created,
    model: msg.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(msg.stop_reason) }],
    usage: openaiUsageJson(usage),
  };
  return { completion, usage };
}
