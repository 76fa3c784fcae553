import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';
import { imageSource } from './image-source.js';

// OpenAI's message list into Anthropic's `system` + `messages`
// (https://docs.anthropic.com/en/api/messages). Anthropic has one top-level system prompt
// and only user/assistant turns; tool results are `tool_result` blocks in the user turn
// that follows the `tool_use` turn (G17), and with extended thinking the assistant turn of
// a tool loop must start with its signed thinking blocks, unmodified (G11).

type Block = JsonObject;

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: string | Block[];
}

export interface TranslatedMessages {
  /** Every system and developer message, in order, one text block each (G12). */
  system: Block[];
  messages: AnthropicMessage[];
}

interface Turn {
  role: 'user' | 'assistant';
  blocks: Block[];
}

export function messagesToAnthropic(messages: readonly JsonObject[]): TranslatedMessages {
  const system: Block[] = [];
  const turns: Turn[] = [];

  // Consecutive same-role turns become one: Anthropic would merge them anyway, and all the
  // results answering one assistant turn must share the next user turn.
  const push = (role: Turn['role'], blocks: Block[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last?.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  };

  messages.forEach((m, i) => {
    const at = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        // A system message in mid-conversation still reaches the model (G12): Anthropic has
        // nowhere else to put it than the top-level prompt.
        system.push(...textBlocks(m.content, at, false));
        return;
      case 'user':
        return push('user', userBlocks(m.content, at));
      case 'assistant':
        // A turn with neither text nor tool calls carries nothing, and Anthropic refuses
        // empty turns.
        return push('assistant', assistantBlocks(m, at));
      case 'tool':
        return push('user', [toolResult(m, at)]);
      default:
        throw new GatewayError(
          'GW_ERR_REQ_UNSUPPORTED_PARAM',
          `'${at}.role' ${String(m.role)} is not supported for Anthropic models; ` +
            'use tool_calls and tool messages.',
          { param: `${at}.role` },
        );
    }
  });

  return { system, messages: turns.map(compact) };
}

/** A lone plain text block is sent as a string, the shorter form Anthropic documents. */
function compact(turn: Turn): AnthropicMessage {
  const [only] = turn.blocks;
  if (turn.blocks.length === 1 && only.type === 'text' && only.cache_control === undefined) {
    return { role: turn.role, content: only.text as string };
  }
  return { role: turn.role, content: turn.blocks };
}

function userBlocks(content: unknown, at: string): Block[] {
  if (!Array.isArray(content)) return textBlocks(content, at, true);
  return content.map((part: JsonObject, j) => {
    const p = `${at}.content[${j}]`;
    if (part.type === 'text') return withCache({ type: 'text', text: String(part.text) }, part);
    if (part.type === 'image_url') {
      const image = part.image_url as JsonObject;
      const source = imageSource(String(image.url ?? ''), `${p}.image_url.url`);
      return withCache({ type: 'image', source }, part);
    }
    throw unsupportedPart(part, p);
  });
}

/** Text for system and assistant turns: a string or text parts; empty text is dropped. */
function textBlocks(content: unknown, at: string, keepEmpty: boolean): Block[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') {
    return content === '' && !keepEmpty ? [] : [{ type: 'text', text: content }];
  }
  const blocks: Block[] = [];
  (content as JsonObject[]).forEach((part, j) => {
    const text = part.type === 'refusal' ? part.refusal : part.text;
    if (part.type !== 'text' && part.type !== 'refusal') {
      throw unsupportedPart(part, `${at}.content[${j}]`);
    }
    if (typeof text === 'string' && text !== '') {
      blocks.push(withCache({ type: 'text', text }, part));
    }
  });
  return blocks;
}

function assistantBlocks(m: JsonObject, at: string): Block[] {
  const blocks = [...thinkingBlocks(m.thinking_blocks), ...textBlocks(m.content, at, false)];
  const calls = Array.isArray(m.tool_calls) ? (m.tool_calls as JsonObject[]) : [];
  calls.forEach((call, j) => {
    const fn = (call.function ?? {}) as JsonObject;
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: fn.name,
      input: toolInput(fn.arguments, `${at}.tool_calls[${j}].function.arguments`),
    });
  });
  if (m.function_call !== undefined && m.function_call !== null) {
    throw new GatewayError(
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      `'${at}.function_call' is the deprecated form; send tool_calls for Anthropic models.`,
      { param: `${at}.function_call` },
    );
  }
  return blocks;
}

/**
 * The thinking blocks this gateway returned (message.thinking_blocks), sent back first and
 * unmodified: Anthropic checks each signature against its text.
 */
function thinkingBlocks(value: unknown): Block[] {
  if (!Array.isArray(value)) return [];
  const blocks: Block[] = [];
  for (const b of value as JsonObject[]) {
    if (b?.type === 'thinking' && typeof b.thinking === 'string') {
      blocks.push({ type: 'thinking', thinking: b.thinking, signature: b.signature });
    } else if (b?.type === 'redacted_thinking' && typeof b.data === 'string') {
      blocks.push({ type: 'redacted_thinking', data: b.data });
    }
  }
  return blocks;
}

/** Tool arguments are a JSON text in OpenAI and an object in Anthropic. */
function toolInput(args: unknown, param: string): unknown {
  if (args === undefined || args === null || args === '') return {};
  let input: unknown;
  try {
    input = JSON.parse(String(args));
  } catch {
    input = undefined;
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new GatewayError(
      'GW_ERR_REQ_INVALID_FIELD',
      `'${param}' must be a JSON object for Anthropic models.`,
      { param },
    );
  }
  return input;
}

function toolResult(m: JsonObject, at: string): Block {
  const block: Block = { type: 'tool_result', tool_use_id: m.tool_call_id };
  if (typeof m.content === 'string') {
    // `content` is optional in a tool_result, and Anthropic refuses empty text.
    if (m.content !== '') block.content = m.content;
  } else if (Array.isArray(m.content)) {
    const parts = userBlocks(m.content, at).filter((b) => b.type !== 'text' || b.text !== '');
    if (parts.length > 0) block.content = parts;
  }
  return block;
}

function withCache(block: Block, part: JsonObject): Block {
  // Prompt caching is asked for per block; clients that know Anthropic set it on parts.
  if (typeof part.cache_control === 'object' && part.cache_control !== null) {
    block.cache_control = part.cache_control;
  }
  return block;
}

function unsupportedPart(part: JsonObject, at: string): GatewayError {
  return new GatewayError(
    'GW_ERR_REQ_UNSUPPORTED_PARAM',
    `'${at}.type' ${String(part.type)} is not supported here for Anthropic models.`,
    { param: `${at}.type` },
  );
}
