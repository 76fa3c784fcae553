// An OpenAI chat request body as a Gemini GenerateContentRequest
// (ai.google.dev/api/generate-content#request-body). The body was validated by
// api/chat-request.ts; what is checked here is only what Gemini cannot take, refused with a
// 400 before any upstream call rather than dropped in silence.
//
// Dropped on purpose (no Gemini equivalent, and no effect on the answer's meaning):
// parallel_tool_calls (Gemini decides itself), user, metadata, store, service_tier.

import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';
import { toGeminiSchema } from './json-schema-to-gemini.js';
import { toGeminiConversation } from './openai-messages-to-gemini.js';

/** Gemini's limit on stopSequences (GenerationConfig, "up to 5"). */
export const MAX_STOP_SEQUENCES = 5;

// reasoning_effort as a thinking budget in tokens, as Google's own OpenAI-compatible
// endpoint maps it (ai.google.dev/gemini-api/docs/openai#thinking).
const THINKING_BUDGET: Record<string, number> = {
  none: 0,
  minimal: 0,
  low: 1024,
  medium: 8192,
  high: 24576,
};

const SAMPLING: ReadonlyArray<readonly [string, string]> = [
  ['temperature', 'temperature'],
  ['top_p', 'topP'],
  ['top_k', 'topK'],
  ['seed', 'seed'],
  ['presence_penalty', 'presencePenalty'],
  ['frequency_penalty', 'frequencyPenalty'],
  ['n', 'candidateCount'],
];

export function toGeminiRequest(body: JsonObject): JsonObject {
  refuseUnsupported(body);
  const { contents, systemInstruction } = toGeminiConversation(body.messages as JsonObject[]);
  const request: JsonObject = { contents };
  if (systemInstruction) request.systemInstruction = systemInstruction;

  const tools = functionDeclarations(body.tools);
  if (tools.length > 0) {
    request.tools = [{ functionDeclarations: tools }];
    const toolConfig = functionCallingConfig(body.tool_choice);
    if (toolConfig) request.toolConfig = toolConfig;
  }

  const config = generationConfig(body);
  if (Object.keys(config).length > 0) request.generationConfig = config;
  return request;
}

function refuseUnsupported(body: JsonObject): void {
  const refuse = (param: string, why: string) => {
    throw new GatewayError('GW_ERR_REQ_UNSUPPORTED_PARAM', `'${param}' ${why}`, { param });
  };
  if (body.logprobs === true || typeof body.top_logprobs === 'number') {
    refuse('logprobs', 'is not supported by the Gemini adapter.');
  }
  if (body.functions !== undefined || body.function_call !== undefined) {
    refuse(body.functions !== undefined ? 'functions' : 'function_call', 'is legacy; use tools.');
  }
  if (body.audio !== undefined && body.audio !== null) {
    refuse('audio', 'output is not supported by the Gemini adapter.');
  }
  // GenerationConfig has no token bias; an empty map asks for nothing and passes.
  const bias = body.logit_bias;
  if (typeof bias === 'object' && bias !== null && Object.keys(bias).length > 0) {
    refuse('logit_bias', 'is not supported by Gemini, which takes no token bias.');
  }
  // GenerationConfig.seed is an int32: Google refuses a larger one with its own 400.
  const seed = body.seed;
  if (typeof seed === 'number' && !(seed >= INT32_MIN && seed <= INT32_MAX)) {
    refuse(
      'seed',
      `must be from ${INT32_MIN} to ${INT32_MAX} for Gemini, which takes a 32-bit seed.`,
    );
  }
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function generationConfig(body: JsonObject): JsonObject {
  const config: JsonObject = {};
  const stops = stopSequences(body.stop);
  if (stops) config.stopSequences = stops;

  // max_completion_tokens is the newer name and wins when both are given.
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') config.maxOutputTokens = maxTokens;
  for (const [from, to] of SAMPLING) {
    if (typeof body[from] === 'number') config[to] = body[from];
  }

  const format = body.response_format as JsonObject | undefined | null;
  if (format?.type === 'json_object') config.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    const schema = (format.json_schema as JsonObject).schema;
    if (isObject(schema)) {
      config.responseSchema = toGeminiSchema(schema, 'response_format.json_schema.schema');
    }
  }

  const effort = body.reasoning_effort;
  if (typeof effort === 'string' && effort in THINKING_BUDGET) {
    config.thinkingConfig = { thinkingBudget: THINKING_BUDGET[effort] };
  }
  return config;
}

/** Empty strings match nothing and Gemini refuses them; more than it takes is a 400. */
function stopSequences(stop: unknown): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  const list = (typeof stop === 'string' ? [stop] : (stop as string[])).filter((s) => s !== '');
  if (list.length > MAX_STOP_SEQUENCES) {
    throw new GatewayError(
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      `'stop' has ${list.length} sequences; Gemini takes at most ${MAX_STOP_SEQUENCES}.`,
      { param: 'stop' },
    );
  }
  return list.length > 0 ? list : undefined;
}

function functionDeclarations(tools: unknown): JsonObject[] {
  if (!Array.isArray(tools)) return [];
  return (tools as JsonObject[]).map((tool, i) => {
    if (tool.type !== 'function') {
      throw new GatewayError(
        'GW_ERR_REQ_UNSUPPORTED_PARAM',
        `'tools[${i}].type' ${String(tool.type)} cannot be sent to Gemini; only function tools.`,
        { param: `tools[${i}].type` },
      );
    }
    const fn = tool.function as JsonObject;
    const declaration: JsonObject = { name: fn.name };
    if (typeof fn.description === 'string') declaration.description = fn.description;
    if (isObject(fn.parameters)) {
      const parameters = toGeminiSchema(fn.parameters, `tools[${i}].function.parameters`);
      // A function without arguments: Gemini refuses an object schema with no properties.
      if (parameters.properties !== undefined) declaration.parameters = parameters;
    }
    return declaration;
  });
}

function functionCallingConfig(choice: unknown): JsonObject | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (typeof choice === 'string') {
    const mode = { auto: 'AUTO', none: 'NONE', required: 'ANY' }[choice];
    return mode ? { functionCallingConfig: { mode } } : undefined;
  }
  const name = ((choice as JsonObject).function as JsonObject | undefined)?.name;
  if (typeof name !== 'string') {
    throw new GatewayError(
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      "'tool_choice' of this type cannot be sent to Gemini; use auto, none, required or a function.",
      { param: 'tool_choice' },
    );
  }
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
