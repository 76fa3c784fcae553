// One pass over a JSON request body's bytes, before it is parsed. It measures the nesting
// depth: deeply nested JSON is cheap to send and expensive to walk (the translators
// recurse, and a few thousand levels overflow the stack). On the way it notes where the
// top-level `"model"` key is, so that the OpenAI adapter can swap the model in the bytes
// without searching them again. The parse itself is here too (UTF-8 checked first), and a
// second pass that only a rare request pays for: reading a number's digits as sent.

import { isUtf8 } from 'node:buffer';
import { GatewayError } from './errors.js';

/** No real request nests this deep; tool schemas stay well under it. */
export const MAX_JSON_DEPTH = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
/** RFC 8259 section 2: space, tab, line feed, carriage return. */
const JSON_SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER_BYTES = new Set([...'-+.0123456789eE'].map((ch) => ch.charCodeAt(0)));

/**
 * The body as JSON.parse reads it, or a GW_ERR_REQ_INVALID_JSON. JSON between systems is
 * UTF-8 (RFC 8259 section 8.1), and decoding would quietly turn a stray byte into U+FFFD:
 * the model routed and the prompt sent would not be what the client wrote. isUtf8 is
 * simdutf's validator, a small share of what the parse itself costs.
 */
export function parseJsonBody(raw: Buffer): unknown {
  if (!isUtf8(raw)) {
    throw new GatewayError(
      'GW_ERR_REQ_INVALID_JSON',
      'The request body is not valid UTF-8, which JSON must be (RFC 8259).',
    );
  }
  try {
    return JSON.parse(raw.toString());
  } catch (err) {
    throw new GatewayError(
      'GW_ERR_REQ_INVALID_JSON',
      `The request body is not valid JSON (${(err as Error).message}).`,
    );
  }
}

/** Throws GW_ERR_REQ_INVALID_FIELD when the body nests deeper than `max`. */
export function assertJsonDepth(raw: Buffer, max = MAX_JSON_DEPTH): void {
  scanJsonBody(raw, max);
}

/**
 * Checks the depth as assertJsonDepth does, and returns the byte offset of the opening
 * quote of the top-level `"model"` key: -1 when no key of the top-level object reads as
 * "model", when several do (JSON.parse keeps the last one), or when the one that does is
 * spelled with escapes. What it returns holds for a body that then parses; for one that
 * does not it means nothing.
 */
export function scanJsonBody(raw: Buffer, max = MAX_JSON_DEPTH): number {
  const found = findTopLevelKey(raw, MODEL, max);
  return found.count === 1 && !found.escaped ? found.start : -1;
}

/**
 * The text of the number under the top-level `key` of a body that parsed as an object (the
 * last such key, as JSON.parse keeps), '' when that value is not a number, or undefined
 * when there is no such key. A second pass over the bytes, for the rare number whose digits
 * a double cannot hold: an int64 seed past 2^53.
 */
export function topLevelNumberText(raw: Buffer, key: string): string | undefined {
  const found = findTopLevelKey(raw, Buffer.from(key), Infinity);
  return found.count === 0 ? undefined : numberAfter(raw, found.end);
}

const MODEL = Buffer.from('model');

/**
 * What findTopLevelKey saw: how many top-level keys read as the key, and where the last
 * one's string is, [start, end), and whether it is spelled with escapes. One object, reused:
 * the walk is synchronous and its caller reads the result at once, so a request's scan
 * allocates nothing.
 */
const found = { count: 0, start: -1, end: -1, escaped: false };

/** One walk of the bytes: the top-level keys that read as `key`, and the nesting depth. */
function findTopLevelKey(raw: Buffer, key: Buffer, max: number): typeof found {
  found.count = 0;
  found.start = found.end = -1;
  found.escaped = false;
  let depth = 0;
  // The next string at depth 1 is a key: right after the top-level `{`, or after a comma.
  let expectKey = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; i < raw.length; i++) {
        const s = raw[i];
        if (s === QUOTE) break;
        if (s === BACKSLASH) {
          escaped = true;
          i++;
        }
      }
      if (depth === 1 && expectKey) {
        expectKey = false;
        const plain = !escaped && i - start - 1 === key.length && spells(raw, start + 1, key);
        if (plain || (escaped && reads(raw, start, i + 1, key.toString()))) {
          found.count++;
          found.start = start;
          found.end = i + 1;
          found.escaped = escaped;
        }
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) {
        throw new GatewayError(
          'GW_ERR_REQ_INVALID_FIELD',
          `The request body nests deeper than ${max} levels.`,
        );
      }
      if (depth === 1) expectKey = c === OPEN_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    } else if (c === COMMA && depth === 1) {
      expectKey = true;
    }
  }
  return found;
}

/** `word`'s bytes at `at`. */
function spells(raw: Buffer, at: number, word: Buffer): boolean {
  for (let k = 0; k < word.length; k++) if (raw[at + k] !== word[k]) return false;
  return true;
}

/** The number literal after the colon that follows a key ending at `from`. */
function numberAfter(raw: Buffer, from: number): string {
  let start = raw.indexOf(COLON, from) + 1;
  while (JSON_SPACE.has(raw[start])) start++;
  let end = start;
  while (end < raw.length && NUMBER_BYTES.has(raw[end])) end++;
  return raw.toString('latin1', start, end);
}

/** Whether the string token [start, end) reads as `word`; a bad one does not. */
function reads(raw: Buffer, start: number, end: number, word: string): boolean {
  try {
    return JSON.parse(raw.toString('utf8', start, end)) === word;
  } catch {
    return false;
  }
}
