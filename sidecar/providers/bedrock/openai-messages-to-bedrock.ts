import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';
import { toImageBlock } from './image-block.js';

// OpenAI `messages` to Converse `system` + `messages`. Converse rules (API reference,
// Message and ToolResultBlock): roles are only user and assistant and must alternate, the
// conversation opens with a user turn, and every toolResult answering an assistant turn sits
// in the very next user message. So system and developer messages, wherever they stand, become
// `system` text blocks in order (G12); tool results become toolResult blocks of a user turn;
// and consecutive same-role turns are merged into one (G17).

export interface BedrockMessage {
  role: 'user' | 'assistant';
  content: JsonObject[];
}

export interface ConverseMessages {
  system: JsonObject[];
  messages: BedrockMessage[];
  /** Converse refuses toolUse/toolResult blocks unless toolConfig is sent too. */
  hasToolBlocks: boolean;
}

interface ChatMessage {
  role?: unknown;
  content?: unknown;
  tool_calls?: unknown;
  tool_call_id?: unknown;
}

export function toConverseMessages(messages: readonly unknown[]): ConverseMessages {
  const out: ConverseMessages = { system: [], messages: [], hasToolBlocks: false };

  messages.forEach((raw, i) => {
    const m = raw as ChatMessage;
    const at = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        out.system.push(...textBlocks(m.content, `${at}.content`));
        return;
      case 'user':
        return append(out, 'user', userBlocks(m.content, at));
      case 'assistant':
        return append(out, 'assistant', assistantBlocks(m, at));
      case 'tool':
        out.hasToolBlocks = true;
        return append(out, 'user', [toolResult(m, at)]);
      default:
        throw unsupported(
          `${at}.role`,
          `Bedrock Converse does not take '${String(m.role)}' messages; use 'tool' messages.`,
        );
    }
  });

  for (const message of out.messages) {
    if (message.role === 'user') toolResultsFirst(message);
    if (message.role === 'assistant' && message.content.some((b) => 'toolUse' in b)) {
      out.hasToolBlocks = true;
    }
  }
  return out;
}

/** Merges a turn into the previous one when the role repeats; skips empty turns. */
function append(out: ConverseMessages, role: BedrockMessage['role'], blocks: JsonObject[]): void {
  if (blocks.length === 0) return;
  const last = out.messages.at(-1);
  if (last?.role === role) last.content.push(...blocks);
  else out.messages.push({ role, content: blocks });
}

/**
 * Results answer the calls of the turn before, so they lead the merged user turn; a user
 * text that arrived between the calls and their results follows them.
 */
function toolResultsFirst(message: BedrockMessage): void {
  const results = message.content.filter((b) => 'toolResult' in b);
  if (results.length === 0 || results.length === message.content.length) return;
  message.content = [...results, ...message.content.filter((b) => !('toolResult' in b))];
}

/** Text of a string or of text parts; blank ones dropped (Converse rejects blank text). */
function textBlocks(content: unknown, at: string, allowRefusal = false): JsonObject[] {
  if (typeof content === 'string') return isBlank(content) ? [] : [{ text: content }];
  if (!Array.isArray(content)) return [];
  const blocks: JsonObject[] = [];
  content.forEach((part: JsonObject, j) => {
    const text = part.type === 'refusal' && allowRefusal ? part.refusal : part.text;
    if (part.type !== 'text' && !(part.type === 'refusal' && allowRefusal)) {
      throw unsupported(`${at}[${j}].type`, `A '${String(part.type)}' part cannot go here.`);
    }
    if (typeof text === 'string' && !isBlank(text)) blocks.push({ text });
  });
  return blocks;
}

function userBlocks(content: unknown, at: string): JsonObject[] {
  if (!Array.isArray(content)) return textBlocks(content, `${at}.content`);
  const blocks: JsonObject[] = [];
  content.forEach((part: JsonObject, j) => {
    const p = `${at}.content[${j}]`;
    if (part.type === 'text') {
      if (typeof part.text === 'string' && !isBlank(part.text)) blocks.push({ text: part.text });
    } else if (part.type === 'image_url') {
      const url = (part.image_url as JsonObject).url;
      if (typeof url !== 'string') throw invalid(`${p}.image_url.url`, 'An image needs a url.');
      blocks.push(toImageBlock(url, `${p}.image_url.url`));
    } else {
      throw unsupported(
        `${p}.type`,
        `Bedrock Converse does not take '${String(part.type)}' parts.`,
      );
    }
  });
  return blocks;
}

function assistantBlocks(m: ChatMessage, at: string): JsonObject[] {
  const blocks = textBlocks(m.content, `${at}.content`, true);
  if (!Array.isArray(m.tool_calls)) return blocks;

  m.tool_calls.forEach((call: JsonObject, j) => {
    const p = `${at}.tool_calls[${j}]`;
    const fn = call.function as JsonObject | undefined;
    if (call.type !== 'function' || typeof fn?.name !== 'string' || typeof call.id !== 'string') {
      throw invalid(p, 'A tool call needs an id, type "function" and a function name.');
    }
    blocks.push({
      toolUse: { toolUseId: call.id, name: fn.name, input: parseArguments(fn.arguments, p) },
    });
  });
  return blocks;
}

/** Converse carries tool input as JSON, not as the JSON text OpenAI uses. */
function parseArguments(args: unknown, at: string): unknown {
  if (args === undefined || args === null || args === '') return {};
  if (typeof args !== 'string') throw invalid(`${at}.function.arguments`, 'Must be a string.');
  try {
    return JSON.parse(args);
  } catch {
    throw invalid(`${at}.function.arguments`, 'The tool call arguments are not valid JSON.');
  }
}

/**
 * A tool that returned nothing gets an empty content list, which Converse takes; a blank text
 * block in it is refused (ValidationException), so no placeholder text is invented either.
 */
function toolResult(m: ChatMessage, at: string): JsonObject {
  const content = textBlocks(m.content, `${at}.content`);
  return { toolResult: { toolUseId: m.tool_call_id, content } };
}

function isBlank(text: string): boolean {
  return text.trim() === '';
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_INVALID_FIELD', message, { param });
}

function unsupported(param: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_UNSUPPORTED_PARAM', message, { param });
}
