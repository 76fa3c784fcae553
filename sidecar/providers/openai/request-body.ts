// Builds the upstream body from the client's bytes. Most requests need only the model
// swapped (and, for streams, usage switched on), so those edits are made in the original
// bytes; anything unusual falls back to one JSON.stringify of the parsed body.

import { scanJsonBody, topLevelNumberText } from '../../json-body.js';
import { skipSpace } from '../../bytes.js';
import type { JsonObject } from '../adapter.js';

/** `"model"`, the key's bytes. */
const MODEL_KEY_BYTES = 7;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const INCLUDE_USAGE = Buffer.from('"stream_options":{"include_usage":true},');

export interface BodyEdit {
  target: string;
  /** Ask for the final usage chunk so every stream can be metered. */
  includeUsage: boolean;
  /** Send no `stream_options`, even the client's (a vendor that refuses the field). */
  dropStreamOptions?: boolean;
  /** Where `raw` holds its top-level `"model"` key, when the caller scanned it already. */
  modelKeyAt?: number;
}

export function upstreamBody(raw: Buffer, body: JsonObject, edit: BodyEdit): Buffer | string {
  const options = body.stream_options as { include_usage?: unknown } | undefined | null;
  const needsUsage = edit.includeUsage && options?.include_usage !== true;
  const modelAt = modelValue(raw, edit.modelKeyAt ?? scanJsonBody(raw));
  // The bytes name the model more than once, or spell its key with escapes: a provider
  // might read another model than the one routed and priced; one reserialized key it is.
  if (modelAt === undefined) return reserialize(raw, body, edit, needsUsage);
  if (edit.dropStreamOptions && 'stream_options' in body) {
    return reserialize(raw, body, edit, false);
  }
  const sameModel = body.model === edit.target;
  if (sameModel && !needsUsage) return raw;
  if (needsUsage && 'stream_options' in body) return reserialize(raw, body, edit, needsUsage);

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

function reserialize(raw: Buffer, body: JsonObject, edit: BodyEdit, needsUsage: boolean): string {
  const copy: JsonObject = { ...body, model: edit.target };
  if (edit.dropStreamOptions) delete copy.stream_options;
  if (needsUsage) {
    const prior = (body.stream_options ?? {}) as JsonObject;
    copy.stream_options = { ...prior, include_usage: true };
  }
  // A seed past 2^53 (the request accepts any int64) reached us as a double, which cannot
  // hold its digits: they go back as the client wrote them, first in the object.
  const seed = body.seed;
  const big = typeof seed === 'number' && !Number.isSafeInteger(seed);
  const digits = big ? topLevelNumberText(raw, 'seed') : undefined;
  if (!digits) return JSON.stringify(copy);
  delete copy.seed;
  const rest = JSON.stringify(copy);
  return `{"seed":${digits}${rest === '{}' ? '}' : `,${rest.slice(1)}`}`;
}

/**
 * The byte range of the top-level model value, when the body names the model exactly once,
 * under a plain `"model"` key (at `key`, found by scanJsonBody; -1 when there is no such
 * key); undefined otherwise. The value may be spelled with escapes (`"m\/ok"`, as PHP's
 * json_encode writes a slash): the body parsed, and its one model key holds a string, so
 * the string that starts after the colon is the model, however it is spelled.
 */
function modelValue(raw: Buffer, key: number): { start: number; end: number } | undefined {
  if (key === -1) return undefined;
  let i = skipSpace(raw, key + MODEL_KEY_BYTES);
  if (raw[i] !== COLON) return undefined;
  i = skipSpace(raw, i + 1);
  const end = stringEnd(raw, i);
  return end === -1 ? undefined : { start: i, end };
}

/** Where the JSON string that opens at `at` ends (past its closing quote); -1 if none. */
function stringEnd(raw: Buffer, at: number): number {
  if (raw[at] !== QUOTE) return -1;
  for (let j = at + 1; j < raw.length; j++) {
    const c = raw[j];
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) j++;
  }
  return -1;
}
