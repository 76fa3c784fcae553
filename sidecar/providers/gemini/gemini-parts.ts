// What the response translators share: a candidate's parts sorted into answer text,
// thought text and function calls, and Gemini finish reasons in OpenAI's words.

import { randomBytes } from 'node:crypto';
import type { JsonObject } from '../adapter.js';

export interface GeminiPart {
  text?: unknown;
  thought?: unknown;
  thoughtSignature?: unknown;
  functionCall?: { id?: unknown; name?: unknown; args?: unknown };
}

export interface GeminiCandidate {
  index?: unknown;
  content?: { parts?: unknown };
  finishReason?: unknown;
}

/** One step of a candidate's output, in the order Gemini produced it. */
export type Piece =
  | { kind: 'text'; text: string }
  | { kind: 'reasoning'; text: string }
  | { kind: 'call'; call: JsonObject };

// FinishReason values (ai.google.dev/api/generate-content#FinishReason) that mean the
// answer was withheld or cut by a filter.
const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
]);

/**
 * OpenAI's finish_reason for a Gemini one, or null while the candidate goes on. Gemini
 * says STOP after function calls too; OpenAI clients look for tool_calls.
 */
export function finishReason(reason: unknown, madeCalls: boolean): string | null {
  if (typeof reason !== 'string' || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(reason)) return 'content_filter';
  return madeCalls ? 'tool_calls' : 'stop';
}

/** The candidate's parts as pieces; `nextIndex` numbers its tool calls across chunks. */
export function piecesOf(candidate: GeminiCandidate, nextIndex: () => number): Piece[] {
  const parts = candidate.content?.parts;
  if (!Array.isArray(parts)) return [];
  const pieces: Piece[] = [];

  for (const part of parts as GeminiPart[]) {
    if (part.functionCall !== undefined) {
      pieces.push({ kind: 'call', call: toolCall(part, nextIndex()) });
      continue;
    }
    if (typeof part.text !== 'string' || part.text === '') continue;
    const kind = part.thought === true ? 'reasoning' : 'text';
    const last = pieces.at(-1);
    // Adjacent text parts are one delta: fewer chunks, same text.
    if (last?.kind === kind) last.text += part.text;
    else pieces.push({ kind, text: part.text });
  }
  return pieces;
}

/**
 * A functionCall part as an OpenAI tool call with its index. Gemini sends whole calls
 * (never argument fragments). Its thought signature travels the way Google's own
 * OpenAI-compatible endpoint carries it, so a client that keeps it can send it back.
 */
function toolCall(part: GeminiPart, index: number): JsonObject {
  const fc = part.functionCall!;
  const call: JsonObject = {
    index,
    id: typeof fc.id === 'string' && fc.id !== '' ? fc.id : newCallId(),
    type: 'function',
    function: {
      name: typeof fc.name === 'string' ? fc.name : '',
      arguments: JSON.stringify(fc.args ?? {}),
    },
  };
  if (typeof part.thoughtSignature === 'string') {
    call.extra_content = { google: { thought_signature: part.thoughtSignature } };
  }
  return call;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `call_` and 24 random characters, shaped like OpenAI's own ids. */
export function newCallId(): string {
  return randomId('call_', 24);
}

export function randomId(prefix: string, length: number): string {
  let id = prefix;
  for (const byte of randomBytes(length)) id += ALPHANUMERIC[byte % ALPHANUMERIC.length];
  return id;
}
