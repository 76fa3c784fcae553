// Translates an OpenAI chat request (already checked by api/chat-request.ts) into a Cohere
// chat v2 body. Field rules follow Cohere's published v2 spec (cohere-openapi.yaml,
// POST /v2/chat) and https://docs.cohere.com/reference/chat. Anything Cohere cannot honour is
// refused here with a 400 naming the parameter, before any upstream call: a silently dropped
// parameter would change the answer without telling anyone.

import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';
import { cohereMessages } from './openai-to-cohere-messages.js';

/** Cohere's documented ranges, where they are narrower than OpenAI's. */
const TEMPERATURE_MAX = 1;
const P_MIN = 0.01;
const P_MAX = 0.99;
const PENALTY_MAX = 1;

// Fields that change what the model produces but that Cohere v2 has no counterpart for.
const UNSUPPORTED = [
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'audio',
  'modalities',
  'prediction',
  'functions',
  'function_call',
  'web_search_options',
] as const;

export function cohereBody(body: JsonObject, target: string, stream: boolean): JsonObject {
  for (const key of UNSUPPORTED) {
    const value = body[key];
    if (value !== undefined && value !== null && value !== false) unsupported(key);
  }
  if (typeof body.n === 'number' && body.n > 1) {
    unsupported('n', "'n' above 1 is not supported by Cohere, which returns one answer.");
  }

  const out: JsonObject = { model: target, messages: cohereMessages(body.messages as unknown[]) };
  Object.assign(out, toolFields(body));

  const format = responseFormat(body.response_format);
  if (format !== undefined) out.response_format = format;

  // max_completion_tokens is OpenAI's newer name and wins when both are given.
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') out.max_tokens = maxTokens;

  const stop = body.stop;
  if (typeof stop === 'string') out.stop_sequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) out.stop_sequences = stop;

  Object.assign(out, sampling(body));

  const thinking = thinkingFor(body.reasoning_effort);
  if (thinking !== undefined) out.thinking = thinking;
  out.stream = stream;
  return out;
}

function sampling(body: JsonObject): JsonObject {
  const out: JsonObject = {};
  const temperature = body.temperature;
  if (typeof temperature === 'number') {
    if (temperature > TEMPERATURE_MAX) {
      unsupported('temperature', "Cohere accepts 'temperature' from 0 to 1.");
    }
    out.temperature = temperature;
  }

  // OpenAI's top_p runs 0..1 with 1 meaning "no nucleus cut"; Cohere's p runs 0.01..0.99.
  // The nearest allowed value keeps the intent (1 becomes 0.99, the loosest cut Cohere has).
  const topP = body.top_p;
  if (typeof topP === 'number') out.p = Math.min(P_MAX, Math.max(P_MIN, topP));

  const seed = body.seed;
  if (typeof seed === 'number') {
    if (seed < 0) unsupported('seed', "Cohere accepts only a non-negative 'seed'.");
    out.seed = seed;
  }

  for (const key of ['frequency_penalty', 'presence_penalty'] as const) {
    const value = body[key];
    if (typeof value !== 'number') continue;
    if (value < 0 || value > PENALTY_MAX) unsupported(key, `Cohere accepts '${key}' from 0 to 1.`);
    out[key] = value;
  }
  return out;
}

/** tools, tool_choice and strict_tools; a named tool_choice narrows the tool list to it. */
function toolFields(body: JsonObject): JsonObject {
  const tools = Array.isArray(body.tools) ? (body.tools as JsonObject[]) : [];
  if (tools.length === 0) return {};

  let cohereTools = tools.map((tool, i) => {
    if (tool.type !== 'function') {
      unsupported(`tools[${i}].type`, "Cohere supports only tools of type 'function'.");
    }
    const fn = tool.function as JsonObject;
    const out: JsonObject = { name: fn.name };
    if (typeof fn.description === 'string') out.description = fn.description;
    // Cohere requires parameters; a function without any takes an empty object.
    out.parameters = fn.parameters ?? { type: 'object', properties: {} };
    return { type: 'function', function: out, strict: fn.strict === true };
  });

  // Cohere cannot forbid parallel calls; saying nothing would let the model make them.
  if (body.parallel_tool_calls === false) {
    unsupported(
      'parallel_tool_calls',
      "Cohere cannot be told to avoid parallel tool calls ('parallel_tool_calls': false).",
    );
  }

  const out: JsonObject = {};
  const choice = body.tool_choice;
  if (choice === 'none') out.tool_choice = 'NONE';
  else if (choice === 'required') out.tool_choice = 'REQUIRED';
  else if (typeof choice === 'object' && choice !== null) {
    const type = (choice as JsonObject).type;
    if (type !== 'function') {
      unsupported(
        'tool_choice.type',
        `Cohere cannot honour a '${String(type)}' tool_choice; use auto, none, required or a function.`,
      );
    }
    // Cohere has no "call this one": REQUIRED over a list holding only that tool is the same.
    const name = ((choice as JsonObject).function as JsonObject | undefined)?.name;
    cohereTools = cohereTools.filter((t) => (t.function as JsonObject).name === name);
    if (cohereTools.length === 0) {
      throw new GatewayError(
        'GW_ERR_REQ_INVALID_FIELD',
        `'tool_choice' names the function '${String(name)}', which is not in 'tools'.`,
        { param: 'tool_choice' },
      );
    }
    out.tool_choice = 'REQUIRED';
  }

  // Cohere's strict mode is one switch for every tool: on only when every tool asked for it.
  const strict = cohereTools.every((t) => t.strict);
  out.tools = cohereTools.map(({ type, function: fn }) => ({ type, function: fn }));
  if (strict) out.strict_tools = true;
  return out;
}

function responseFormat(format: unknown): JsonObject | undefined {
  if (typeof format !== 'object' || format === null) return undefined;
  const f = format as JsonObject;
  if (f.type === 'json_object') return { type: 'json_object' };
  if (f.type !== 'json_schema') return undefined;

  // Cohere's JSON mode takes the schema itself; OpenAI's name/strict wrapper has no place.
  const schema = (f.json_schema as JsonObject).schema;
  return schema === undefined
    ? { type: 'json_object' }
    : { type: 'json_object', json_schema: schema };
}

/** Cohere reasons by default on models that can; only "off" has a direct counterpart. */
function thinkingFor(effort: unknown): JsonObject | undefined {
  if (effort === 'none') return { type: 'disabled' };
  if (typeof effort === 'string') return { type: 'enabled' };
  return undefined;
}

function unsupported(param: string, message?: string): never {
  throw new GatewayError(
    'GW_ERR_REQ_UNSUPPORTED_PARAM',
    message ?? `'${param}' is not supported by Cohere chat.`,
    { param },
  );
}
