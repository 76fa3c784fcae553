// OpenAI chat messages as Gemini `contents` plus one `systemInstruction`.
//
// Gemini has two roles, user and model, and one system instruction for the whole
// conversation. So every system and developer message, wherever it stands, becomes one
// text part of systemInstruction, in order (a mid-conversation instruction moves up rather
// than being lost); tool results become functionResponse parts of a user turn, all the
// results of one round in the same turn, because Gemini wants as many responses right
// after a call turn as it had calls; and turns of the same role are merged.

import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';
import { audioPart, filePart, imagePart } from './media.js';

export interface GeminiContent {
  role: 'user' | 'model';
  parts: JsonObject[];
}

export interface GeminiConversation {
  contents: GeminiContent[];
  systemInstruction?: { parts: JsonObject[] };
}

/**
 * Gemini 3 refuses a function-call turn without the thought signature it produced; when
 * the client could not keep it (most SDKs drop unknown fields), Google documents this value
 * to skip the check (ai.google.dev/gemini-api/docs/thought-signatures).
 */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';

export function toGeminiConversation(messages: JsonObject[]): GeminiConversation {
  const system: JsonObject[] = [];
  const contents: GeminiContent[] = [];
  const callNames = new Map<string, string>();

  const push = (role: GeminiContent['role'], parts: JsonObject[]) => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  messages.forEach((m, i) => {
    const at = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(m.content, at));
        return;
      case 'user':
        push('user', userParts(m.content, at));
        return;
      case 'assistant':
        push('model', assistantParts(m, at, callNames));
        return;
      case 'tool':
        push('user', [toolResult(m, at, callNames)]);
        return;
      default:
        throw new GatewayError(
          'GW_ERR_REQ_UNSUPPORTED_PARAM',
          `'${at}.role' ${String(m.role)} is the legacy function-calling form; use tools.`,
          { param: `${at}.role` },
        );
    }
  });

  if (contents.length === 0) {
    throw new GatewayError(
      'GW_ERR_REQ_INVALID_FIELD',
      "'messages' must hold at least one user or assistant message for Gemini.",
      { param: 'messages' },
    );
  }
  return system.length > 0 ? { contents, systemInstruction: { parts: system } } : { contents };
}

/** Text of a system, developer or assistant message: a string or text/refusal parts. */
function textParts(content: unknown, at: string): JsonObject[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) return [];
  return (content as JsonObject[]).flatMap((part, j) => {
    const text = part.type === 'refusal' ? part.refusal : part.text;
    if (part.type !== 'text' && part.type !== 'refusal') {
      throw unsupportedPart(`${at}.content[${j}]`, String(part.type));
    }
    return typeof text === 'string' && text !== '' ? [{ text }] : [];
  });
}

function userParts(content: unknown, at: string): JsonObject[] {
  if (typeof content === 'string') return [{ text: content }];
  return (content as JsonObject[]).flatMap((part, j): JsonObject[] => {
    const param = `${at}.content[${j}]`;
    switch (part.type) {
      case 'text':
        return typeof part.text === 'string' && part.text !== '' ? [{ text: part.text }] : [];
      case 'image_url':
        return [imagePart(part.image_url as JsonObject, `${param}.image_url`)];
      case 'input_audio':
        return [audioPart((part.input_audio ?? {}) as JsonObject, `${param}.input_audio`)];
      case 'file':
        return [filePart((part.file ?? {}) as JsonObject, `${param}.file`)];
      default:
        throw unsupportedPart(param, String(part.type));
    }
  });
}

function assistantParts(m: JsonObject, at: string, callNames: Map<string, string>): JsonObject[] {
  const parts = textParts(m.content, at);
  const calls = Array.isArray(m.tool_calls) ? (m.tool_calls as JsonObject[]) : [];

  calls.forEach((call, j) => {
    const param = `${at}.tool_calls[${j}]`;
    const fn = (call.function ?? {}) as JsonObject;
    if (call.type !== undefined && call.type !== 'function') {
      throw new GatewayError(
        'GW_ERR_REQ_UNSUPPORTED_PARAM',
        `'${param}.type' ${String(call.type)} cannot be sent to Gemini.`,
        { param: `${param}.type` },
      );
    }
    if (typeof fn.name !== 'string') {
      throw new GatewayError('GW_ERR_REQ_MISSING_FIELD', `'${param}.function.name' is required.`, {
        param: `${param}.function.name`,
      });
    }
    if (typeof call.id === 'string') callNames.set(call.id, fn.name);

    const part: JsonObject = { functionCall: { name: fn.name, args: callArgs(fn, param) } };
    const signature = (call.extra_content as { google?: { thought_signature?: unknown } })?.google
      ?.thought_signature;
    if (typeof signature === 'string') part.thoughtSignature = signature;
    else if (j === 0) part.thoughtSignature = SKIP_SIGNATURE;
    parts.push(part);
  });
  return parts;
}

function callArgs(fn: JsonObject, param: string): JsonObject {
  const raw = fn.arguments;
  if (raw === undefined || raw === null || raw === '') return {};
  let args: unknown;
  try {
    args = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch {
    args = undefined;
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new GatewayError(
      'GW_ERR_REQ_INVALID_FIELD',
      `'${param}.function.arguments' must be a JSON object for Gemini.`,
      { param: `${param}.function.arguments` },
    );
  }
  return args as JsonObject;
}

/**
 * A tool message as a functionResponse. Gemini matches results by function name, so the
 * name comes from the assistant tool call with the same id. The result must be an object:
 * a JSON object passes as is, anything else goes under `output` (Google's convention).
 */
function toolResult(m: JsonObject, at: string, callNames: Map<string, string>): JsonObject {
  const name = callNames.get(m.tool_call_id as string);
  if (name === undefined) {
    throw new GatewayError(
      'GW_ERR_REQ_INVALID_FIELD',
      `'${at}.tool_call_id' matches no tool call of an earlier assistant message.`,
      { param: `${at}.tool_call_id` },
    );
  }
  const text = textParts(m.content, at)
    .map((p) => p.text as string)
    .join('');
  return { functionResponse: { name, response: resultObject(text) } };
}

function resultObject(text: string): JsonObject {
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        return parsed as JsonObject;
      }
    } catch {
      // Not JSON after all: sent as text below.
    }
  }
  return { output: text };
}

function unsupportedPart(param: string, type: string): GatewayError {
  return new GatewayError(
    'GW_ERR_REQ_UNSUPPORTED_PARAM',
    `'${param}' is a ${type} part, which this message role cannot carry to Gemini.`,
    { param: `${param}.type` },
  );
}
