// Builds the upstream body from the client's bytes. Most requests need only the model
// swapped (and, for streams, usage switched on), so those edits are made in the original
// bytes; anything unusual falls back to one JSON.stringify of the parsed body.

import type { JsonObject } from '../adapter.js';

const MODEL_KEY = Buffer.from('"model"');
/** How a key could spell one of the letters of "model" (m o d e l are U+006D, 6F, 64, 65, 6C). */
const ESCAPED_LETTER = Buffer.from('\\u006');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const INCLUDE_USAGE = Buffer.from('"stream_options":{"include_usage":true},');

export interface BodyEdit {
  target: string;
  /** Ask for the final usage chunk so every stream can be metered. */
  includeUsage: boolean;
}

export function upstreamBody(raw: Buffer, body: JsonObject, edit: BodyEdit): Buffer | string {
  const options = body.stream_options as { include_usage?: unknown } | undefined | null;
  const needsUsage = edit.includeUsage && options?.include_usage !== true;
  const modelAt = modelValue(raw, body.model as string);
  // The bytes name the model more than once, or spell its key with escapes: a provider
  // might read another model than the one routed and priced; one reserialized key it is.
  if (modelAt === undefined) return reserialize(body, edit, needsUsage);
  const sameModel = body.model === edit.target;
  if (sameModel && !needsUsage) return raw;
  if (needsUsage && 'stream_options' in body) return reserialize(body, edit, needsUsage);

  const parts: Buffer[] = [];
  let from = 0;
  if (needsUsage) {
    const open = raw.indexOf(0x7b); // the body's opening brace
    parts.push(raw.subarray(0, open + 1), INCLUDE_USAGE);
    from = open + 1;
  }
  if (!sameModel) {
    parts.push(raw.subarray(from, modelAt.start), Buffer.from(JSON.stringify(edit.target)));
    from = modelAt.end;
  }
  parts.push(raw.subarray(from));
  return Buffer.concat(parts);
}

function reserialize(body: JsonObject, edit: BodyEdit, needsUsage: boolean): string {
  const copy: JsonObject = { ...body, model: edit.target };
  if (needsUsage) {
    const prior = (body.stream_options ?? {}) as JsonObject;
    copy.stream_options = { ...prior, include_usage: true };
  }
  return JSON.stringify(copy);
}

/**
 * The byte range of the top-level model value, when the body names the model exactly once,
 * under a plain `"model"` key, with the value spelled as JSON.stringify spells it;
 * undefined otherwise. An unescaped `"model"` outside a key can only end a string that
 * holds `\"model`, and a key can spell its letters only as `\u006x`: when neither can be
 * about (one occurrence, no such escape) that occurrence is the key, with no scan.
 */
function modelValue(raw: Buffer, model: string): { start: number; end: number } | undefined {
  const first = raw.indexOf(MODEL_KEY);
  if (first === -1) return undefined;
  const plain = first === raw.lastIndexOf(MODEL_KEY) && raw.indexOf(ESCAPED_LETTER) === -1;
  const key = plain ? first : onlyTopLevelModelKey(raw);
  if (key === undefined) return undefined;
  let i = skipSpace(raw, key + MODEL_KEY.length);
  if (raw[i] !== COLON) return undefined;
  i = skipSpace(raw, i + 1);
  const literal = Buffer.from(JSON.stringify(model));
  return raw.subarray(i, i + literal.length).equals(literal)
    ? { start: i, end: i + literal.length }
    : undefined;
}

/**
 * Where the one top-level `"model"` key starts, walking the members of the body's object
 * (it parsed, so it is well-formed JSON); undefined when there are several keys that read
 * as "model", or the one there is spelled with escapes.
 */
function onlyTopLevelModelKey(raw: Buffer): number | undefined {
  let found: number | undefined;
  let count = 0;
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === QUOTE) {
      const end = stringEnd(raw, i);
      if (depth === 1 && expectKey) {
        expectKey = false;
        const token = raw.subarray(i, end);
        const plain = token.equals(MODEL_KEY);
        if (plain || (token.includes(BACKSLASH) && JSON.parse(token.toString()) === 'model')) {
          count++;
          found = plain ? i : undefined;
        }
      }
      i = end - 1;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth === 1) expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === COMMA && depth === 1) {
      expectKey = true;
    }
  }
  return count === 1 ? found : undefined;
}

/** Just past the closing quote of the string whose opening quote is at `at`. */
function stringEnd(raw: Buffer, at: number): number {
  let next = at + 1;
  for (;;) {
    const quote = raw.indexOf(QUOTE, next);
    if (quote === -1) return raw.length;
    let backslashes = 0;
    while (raw[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    next = quote + 1;
  }
}

function skipSpace(raw: Buffer, i: number): number {
  while (
    i < raw.length &&
    (raw[i] === 0x20 || raw[i] === 0x0a || raw[i] === 0x0d || raw[i] === 0x09)
  )
    i++;
  return i;
}
