// Builds the upstream body from the client's bytes. Most requests need only the model
// swapped (and, for streams, usage switched on), so those edits are made in the original
// bytes; anything unusual falls back to one JSON.stringify of the parsed body.

import type { JsonObject } from '../adapter.js';

const MODEL_KEY = Buffer.from('"model"');
const INCLUDE_USAGE = Buffer.from('"stream_options":{"include_usage":true},');

export interface BodyEdit {
  target: string;
  /** Ask for the final usage chunk so every stream can be metered. */
  includeUsage: boolean;
}

export function upstreamBody(raw: Buffer, body: JsonObject, edit: BodyEdit): Buffer | string {
  const options = body.stream_options as { include_usage?: unknown } | undefined | null;
  const needsUsage = edit.includeUsage && options?.include_usage !== true;
  const sameModel = body.model === edit.target;

  // One `"model"` in the bytes: nothing else could name another model to the provider.
  const oneModelKey = raw.indexOf(MODEL_KEY) === raw.lastIndexOf(MODEL_KEY);
  if (sameModel && !needsUsage && oneModelKey) return raw;
  const modelAt = sameModel ? undefined : findModelValue(raw, body.model as string);
  const patchable =
    ((sameModel && oneModelKey) || modelAt !== undefined) &&
    (!needsUsage || !('stream_options' in body));
  if (!patchable) return reserialize(body, edit, needsUsage);

  const parts: Buffer[] = [];
  let from = 0;
  if (needsUsage) {
    const open = raw.indexOf(0x7b); // the body's opening brace
    parts.push(raw.subarray(0, open + 1), INCLUDE_USAGE);
    from = open + 1;
  }
  if (modelAt !== undefined) {
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
 * Locates the byte range of the top-level model value. An unescaped `"model"` can only be
 * a key (quotes inside JSON strings are escaped), but nested objects may have one too, and
 * a client may write the key twice (JSON.parse keeps the last; a provider's parser might
 * keep the first, and run a model other than the one routed and priced). We patch only
 * when the body holds exactly one `"model"` key, with the requested name; else reserialize,
 * which also leaves one model key.
 */
function findModelValue(raw: Buffer, model: string): { start: number; end: number } | undefined {
  const literal = Buffer.from(JSON.stringify(model));
  let found: { start: number; end: number } | undefined;
  let at = raw.indexOf(MODEL_KEY);
  while (at !== -1) {
    let i = skipSpace(raw, at + MODEL_KEY.length);
    if (raw[i] === 0x3a) {
      if (found !== undefined) return undefined;
      i = skipSpace(raw, i + 1);
      if (!raw.subarray(i, i + literal.length).equals(literal)) return undefined;
      found = { start: i, end: i + literal.length };
    }
    at = raw.indexOf(MODEL_KEY, at + MODEL_KEY.length);
  }
  return found;
}

function skipSpace(raw: Buffer, i: number): number {
  while (
    i < raw.length &&
    (raw[i] === 0x20 || raw[i] === 0x0a || raw[i] === 0x0d || raw[i] === 0x09)
  )
    i++;
  return i;
}
