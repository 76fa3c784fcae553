// One pass over a JSON request body's bytes, before it is parsed. It measures the nesting
// depth: deeply nested JSON is cheap to send and expensive to walk (the translators
// recurse, and a few thousand levels overflow the stack). On the way it notes where the
// top-level `"model"` key is, so that the OpenAI adapter can swap the model in the bytes
// without searching them again.

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
  let depth = 0;
  // The next string at depth 1 is a key: right after the top-level `{`, or after a comma.
  let expectKey = false;
  let modelKeys = 0;
  let modelKeyAt = -1;
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
        if (!escaped && i - start === 6 && isModel(raw, start + 1)) {
          modelKeys++;
          modelKeyAt = start;
        } else if (escaped && readsModel(raw, start, i + 1)) {
          modelKeys++;
          modelKeyAt = -1;
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
  return modelKeys === 1 ? modelKeyAt : -1;
}

/** `model` at `at`, byte by byte. */
function isModel(raw: Buffer, at: number): boolean {
  return (
    raw[at] === 0x6d &&
    raw[at + 1] === 0x6f &&
    raw[at + 2] === 0x64 &&
    raw[at + 3] === 0x65 &&
    raw[at + 4] === 0x6c
  );
}

/** Whether the escaped string token [start, end) reads as "model"; a bad one does not. */
function readsModel(raw: Buffer, start: number, end: number): boolean {
  try {
    return JSON.parse(raw.toString('utf8', start, end)) === 'model';
  } catch {
    return false;
  }
}
