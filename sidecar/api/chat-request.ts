// Checks a chat request just enough to fail fast with a precise `param`, the way OpenAI
// itself would; unknown fields pass through untouched (providers add fields faster than
// gateways release).

import { GatewayError } from '../errors.js';
import { parseJsonBody, scanJsonBody, topLevelNumberText } from '../json-body.js';
import { modelNameProblem } from '../model-name.js';
import type { JsonObject } from '../providers/adapter.js';

export interface ChatRequest {
  readonly body: JsonObject;
  readonly model: string;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly n: number;
  /** Where the body's bytes hold its one top-level `"model"` key, or -1 (see scanJsonBody). */
  readonly modelKeyAt: number;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);
const PART_TYPES = new Set(['text', 'image_url', 'input_audio', 'file', 'refusal']);
const TOOL_CHOICES = new Set(['none', 'auto', 'required']);
const FORMATS = new Set(['text', 'json_object', 'json_schema']);
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function parseChatRequest(raw: Buffer): ChatRequest {
  const modelKeyAt = scanJsonBody(raw);
  const body = parseJsonBody(raw);
  if (!isObject(body)) throw invalid(null, 'The request body must be a JSON object.');

  const model = body.model;
  if (model === undefined || model === null) throw missing('model');
  if (typeof model !== 'string' || model.length === 0) {
    throw invalid('model', "'model' must be a non-empty string.");
  }
  checkModelName(model);
  checkMessages(body.messages);

  const stream = optional(body, 'stream', 'boolean') ?? false;
  const options = body.stream_options;
  if (options !== undefined && options !== null) {
    if (!stream) {
      throw invalid('stream_options', "'stream_options' is only allowed when 'stream' is true.");
    }
    if (!isObject(options)) throw invalid('stream_options', "'stream_options' must be an object.");
    optional(options, 'include_usage', 'boolean', 'stream_options.');
  }

  const n = integer(body, 'n', 1, 128) ?? 1;
  // Translators write these back from doubles, which hold every integer only up to 2^53.
  integer(body, 'max_tokens', 1, Number.MAX_SAFE_INTEGER);
  integer(body, 'max_completion_tokens', 1, Number.MAX_SAFE_INTEGER);
  checkSeed(body.seed, raw);
  integer(body, 'top_logprobs', 0, 20);
  range(body, 'temperature', 0, 2);
  range(body, 'top_p', 0, 1);
  range(body, 'presence_penalty', -2, 2);
  range(body, 'frequency_penalty', -2, 2);
  optional(body, 'logprobs', 'boolean');
  optional(body, 'parallel_tool_calls', 'boolean');
  optional(body, 'user', 'string');
  checkStop(body.stop);
  checkTools(body.tools);
  checkToolChoice(body.tool_choice);
  checkResponseFormat(body.response_format);

  const includeUsage = isObject(options) && options.include_usage === true;
  return { body, model, stream, includeUsage, n, modelKeyAt };
}

/** Throws GW_ERR_REQ_INVALID_FIELD (param `model`) unless `model` is a sane model name. */
export function checkModelName(model: string): void {
  const problem = modelNameProblem(model);
  if (problem !== undefined) throw invalid('model', `'model' ${problem}.`);
}

function checkMessages(messages: unknown): void {
  if (messages === undefined || messages === null) throw missing('messages');
  if (!Array.isArray(messages)) throw invalid('messages', "'messages' must be an array.");
  if (messages.length === 0) throw invalid('messages', "'messages' must not be empty.");

  messages.forEach((m: unknown, i) => {
    const at = `messages[${i}]`;
    if (!isObject(m)) throw invalid(at, `'${at}' must be an object.`);
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) {
      throw invalid(`${at}.role`, `'${at}.role' must be one of ${[...ROLES].join(', ')}.`);
    }
    const content = m.content;
    const mayBeEmpty = m.role === 'assistant' || m.role === 'function';
    if ((content === undefined || content === null) && !mayBeEmpty) {
      throw missing(`${at}.content`);
    }
    if (Array.isArray(content)) {
      content.forEach((part: unknown, j) => {
        const p = `${at}.content[${j}]`;
        if (!isObject(part) || typeof part.type !== 'string' || !PART_TYPES.has(part.type)) {
          throw invalid(`${p}.type`, `'${p}.type' must be one of ${[...PART_TYPES].join(', ')}.`);
        }
        if (part.type === 'text' || part.type === 'refusal') checkString(part, part.type, p);
        if (part.type === 'image_url') {
          if (!isObject(part.image_url)) {
            throw invalid(`${p}.image_url`, `'${p}.image_url' must be an object with a url.`);
          }
          checkString(part.image_url, 'url', `${p}.image_url`);
        }
      });
    } else if (content !== undefined && content !== null && typeof content !== 'string') {
      throw invalid(`${at}.content`, `'${at}.content' must be a string or an array of parts.`);
    }
    if (m.role === 'tool' && typeof m.tool_call_id !== 'string') {
      throw missing(`${at}.tool_call_id`);
    }
    if (m.tool_calls !== undefined && m.tool_calls !== null) {
      if (!Array.isArray(m.tool_calls)) {
        throw invalid(`${at}.tool_calls`, `'${at}.tool_calls' must be an array.`);
      }
      m.tool_calls.forEach((call: unknown, j) => checkToolCall(call, `${at}.tool_calls[${j}]`));
    }
  });
}

/**
 * An assistant message's tool call, as OpenAI requires it: an object with an id and, for a
 * function call, the function's name. The translators to other protocols read these fields.
 */
function checkToolCall(call: unknown, at: string): void {
  if (!isObject(call)) throw invalid(at, `'${at}' must be an object.`);
  checkString(call, 'id', at);
  // A call without a type is taken as a function call, as the translators take it.
  if (call.type !== undefined && typeof call.type !== 'string') {
    throw invalid(`${at}.type`, `'${at}.type' must be a string.`);
  }
  if (call.type !== undefined && call.type !== 'function') return;
  if (!isObject(call.function)) throw missing(`${at}.function`);
  checkString(call.function, 'name', `${at}.function`);
  // The arguments are each protocol's to judge: some OpenAI-protocol servers (Ollama) take
  // them as an object, and every translator refuses what it cannot read with a 400.
}

/** `obj[key]` must be a string: missing when absent or null, invalid when another type. */
function checkString(obj: JsonObject, key: string, at: string): void {
  const value = obj[key];
  if (value === undefined || value === null) throw missing(`${at}.${key}`);
  if (typeof value !== 'string') throw invalid(`${at}.${key}`, `'${at}.${key}' must be a string.`);
}

function checkStop(stop: unknown): void {
  if (stop === undefined || stop === null || typeof stop === 'string') return;
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string')) {
    throw invalid('stop', "'stop' must be a string or an array of strings.");
  }
  if (stop.length > 4) throw invalid('stop', "'stop' takes at most 4 sequences.");
}

function checkTools(tools: unknown): void {
  if (tools === undefined || tools === null) return;
  if (!Array.isArray(tools)) throw invalid('tools', "'tools' must be an array.");
  tools.forEach((t: unknown, i) => {
    const at = `tools[${i}]`;
    if (!isObject(t) || typeof t.type !== 'string') throw missing(`${at}.type`);
    if (t.type !== 'function') return;
    const fn = t.function;
    if (!isObject(fn)) throw missing(`${at}.function`);
    if (typeof fn.name !== 'string' || !FUNCTION_NAME.test(fn.name)) {
      throw invalid(
        `${at}.function.name`,
        `'${at}.function.name' must be 1-64 letters, digits, underscores or dashes.`,
      );
    }
    if (fn.parameters !== undefined && !isObject(fn.parameters)) {
      throw invalid(`${at}.function.parameters`, `'${at}.function.parameters' must be an object.`);
    }
  });
}

function checkToolChoice(choice: unknown): void {
  if (choice === undefined || choice === null) return;
  if (typeof choice === 'string') {
    if (TOOL_CHOICES.has(choice)) return;
    throw invalid('tool_choice', "'tool_choice' must be none, auto, required or an object.");
  }
  if (!isObject(choice) || typeof choice.type !== 'string') {
    throw invalid('tool_choice', "'tool_choice' must be none, auto, required or an object.");
  }
  if (choice.type === 'function') {
    const fn = choice.function;
    if (!isObject(fn) || typeof fn.name !== 'string') throw missing('tool_choice.function.name');
  }
}

function checkResponseFormat(format: unknown): void {
  if (format === undefined || format === null) return;
  if (!isObject(format) || typeof format.type !== 'string' || !FORMATS.has(format.type)) {
    throw invalid(
      'response_format.type',
      "'response_format.type' must be text, json_object or json_schema.",
    );
  }
  if (format.type !== 'json_schema') return;
  const schema = format.json_schema;
  if (!isObject(schema)) throw missing('response_format.json_schema');
  if (typeof schema.name !== 'string' || !FUNCTION_NAME.test(schema.name)) {
    throw invalid(
      'response_format.json_schema.name',
      "'response_format.json_schema.name' must be 1-64 letters, digits, underscores or dashes.",
    );
  }
}

function optional<T extends 'boolean' | 'string'>(
  obj: JsonObject,
  key: string,
  type: T,
  prefix = '',
): (T extends 'boolean' ? boolean : string) | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type) throw invalid(prefix + key, `'${prefix + key}' must be a ${type}.`);
  return value as T extends 'boolean' ? boolean : string;
}

function integer(obj: JsonObject, key: string, min: number, max: number) {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(key, `'${key}' must be an integer from ${min} to ${max}.`);
  }
  return value;
}

/** OpenAI's seed is an int64 (its OpenAPI document gives the bounds). */
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function checkSeed(seed: unknown, raw: Buffer): void {
  if (seed === undefined || seed === null || Number.isSafeInteger(seed)) return;
  // Past 2^53 a double no longer tells neighbouring integers apart (2^63 - 1 and 2^63 read
  // as one), so the digits as sent decide; they are also what a passed-through body forwards.
  if (typeof seed === 'number' && isInt64Literal(topLevelNumberText(raw, 'seed') ?? '')) return;
  throw invalid('seed', `'seed' must be an integer from ${INT64_MIN} to ${INT64_MAX}.`);
}

const NUMBER_LITERAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** Whether a JSON number literal denotes, exactly, an integer in the int64 range. */
function isInt64Literal(literal: string): boolean {
  const parts = NUMBER_LITERAL.exec(literal);
  if (parts === null) return false;
  const [, sign, whole, fraction = '', exponent = '0'] = parts;
  let digits = (whole + fraction).replace(/^0+/, '');
  const shift = Number(exponent) - fraction.length;

  // The digits the exponent leaves after the point must all be zeros.
  if (shift < 0) {
    if (/[^0]/.test(digits.slice(shift))) return false;
    digits = digits.slice(0, shift);
  }
  if (digits === '') return true;
  // 20 digits are at least 10^19, past 2^63; checked before any BigInt is made of them.
  if (digits.length + Math.max(shift, 0) > 19) return false;

  const magnitude = BigInt(digits) * 10n ** BigInt(Math.max(shift, 0));
  const value = sign === '-' ? -magnitude : magnitude;
  return value >= INT64_MIN && value <= INT64_MAX;
}

function range(obj: JsonObject, key: string, min: number, max: number): void {
  const value = obj[key];
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    throw invalid(key, `'${key}' must be a number from ${min} to ${max}.`);
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(param: string | null, message: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_INVALID_FIELD', message, { param });
}

function missing(param: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_MISSING_FIELD', `'${param}' is required.`, { param });
}
