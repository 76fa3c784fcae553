// OpenAI messages to Cohere v2 messages. The roles mostly line up; the differences are
// where system text may go, which content parts each role takes, and where an assistant's
// words before its tool calls live (Cohere's `tool_plan`).

import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';

type Message = JsonObject & { role: string; content?: unknown };

export function cohereMessages(messages: readonly unknown[]): JsonObject[] {
  const system: string[] = [];
  const turns: JsonObject[] = [];

  messages.forEach((raw, i) => {
    const m = raw as Message;
    switch (m.role) {
      case 'system':
      case 'developer':
        // Cohere wants system turns first; instructions given mid-conversation are moved up
        // rather than lost, keeping their order (OpenAI's `developer` is the newer `system`).
        system.push(plainText(m.content, i));
        break;
      case 'user':
        turns.push({ role: 'user', content: userContent(m.content, i) });
        break;
      case 'assistant':
        turns.push(assistantTurn(m, i));
        break;
      case 'tool':
        turns.push({ role: 'tool', tool_call_id: m.tool_call_id, content: toolContent(m, i) });
        break;
      default:
        unsupported(`messages[${i}].role`, `Cohere has no '${m.role}' role; use 'tool'.`);
    }
  });

  if (system.length === 0) return turns;
  return [{ role: 'system', content: system.join('\n\n') }, ...turns];
}

function userContent(content: unknown, i: number): unknown {
  if (!Array.isArray(content)) return content;
  return content.map((part: JsonObject, j) => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    if (part.type === 'image_url') {
      // Cohere takes OpenAI's image part as is: an https URL or a data URI, and `detail`.
      const image = part.image_url as JsonObject;
      const out: JsonObject = { url: image.url };
      if (typeof image.detail === 'string') out.detail = image.detail;
      return { type: 'image_url', image_url: out };
    }
    return unsupported(
      `messages[${i}].content[${j}].type`,
      `Cohere does not accept '${String(part.type)}' content parts.`,
    );
  });
}

function assistantTurn(m: Message, i: number): JsonObject {
  const out: JsonObject = { role: 'assistant' };
  const text = m.content === undefined || m.content === null ? '' : plainText(m.content, i);
  const calls = Array.isArray(m.tool_calls) ? (m.tool_calls as JsonObject[]) : [];
  const reasoning = typeof m.reasoning_content === 'string' ? m.reasoning_content : '';

  if (calls.length > 0) {
    out.tool_calls = calls.map((call, j) => {
      if (call.type !== undefined && call.type !== 'function') {
        unsupported(`messages[${i}].tool_calls[${j}].type`, 'Cohere supports function calls only.');
      }
      const fn = (call.function ?? {}) as JsonObject;
      return {
        id: call.id,
        type: 'function',
        function: { name: fn.name, arguments: fn.arguments ?? '' },
      };
    });
    // What the assistant said before calling tools is its plan, which Cohere keeps apart.
    if (text !== '') out.tool_plan = text;
    if (reasoning !== '') out.content = [{ type: 'thinking', thinking: reasoning }];
    return out;
  }

  if (reasoning !== '') {
    const thinking = { type: 'thinking', thinking: reasoning };
    out.content = text === '' ? [thinking] : [thinking, { type: 'text', text }];
  } else {
    out.content = text;
  }
  return out;
}

function toolContent(m: Message, i: number): unknown {
  if (!Array.isArray(m.content)) return m.content;
  return m.content.map((part: JsonObject, j) => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    return unsupported(
      `messages[${i}].content[${j}].type`,
      'Cohere tool results take text parts only.',
    );
  });
}

/** The text of a string or of text/refusal parts; anything else cannot be said as text. */
function plainText(content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: JsonObject, j) => {
      if (part.type === 'text') return String(part.text ?? '');
      if (part.type === 'refusal') return String(part.refusal ?? '');
      return unsupported(
        `messages[${i}].content[${j}].type`,
        `Cohere takes only text in this message, not '${String(part.type)}'.`,
      );
    })
    .join('\n');
}

function unsupported(param: string, message: string): never {
  throw new GatewayError('GW_ERR_REQ_UNSUPPORTED_PARAM', message, { param });
}
