import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';
import { toConverseMessages } from './openai-messages-to-bedrock.js';
import { toToolConfig } from './openai-tools-to-bedrock.js';

// An OpenAI chat request (already validated by api/chat-request.ts) to a Converse request
// body. Fields with no Converse meaning are either refused with a 400 that names them (they
// would change the answer: n, logprobs, penalties, logit_bias, audio) or dropped when they are
// hints only (seed, user, metadata, store, service_tier, parallel_tool_calls).

export function toConverseBody(body: JsonObject): JsonObject {
  refuseUnsupported(body);
  const { system, messages, hasToolBlocks } = toConverseMessages(body.messages as unknown[]);

  const out: JsonObject = { messages };
  if (system.length > 0) out.system = system;
  const inference = inferenceConfig(body);
  if (inference !== undefined) out.inferenceConfig = inference;
  const tools = toToolConfig(body, hasToolBlocks);
  if (tools !== undefined) out.toolConfig = tools;
  const output = outputConfig(body.response_format as JsonObject | undefined);
  if (output !== undefined) out.outputConfig = output;
  return out;
}

function inferenceConfig(body: JsonObject): JsonObject | undefined {
  const config: JsonObject = {};
  // max_completion_tokens supersedes max_tokens in OpenAI's API, so it wins when both come.
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') config.maxTokens = maxTokens;
  if (typeof body.temperature === 'number') config.temperature = body.temperature;
  if (typeof body.top_p === 'number') config.topP = body.top_p;

  // Converse rejects empty stop strings; they stop nothing anyway.
  const stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (Array.isArray(stop)) {
    const sequences = stop.filter((s): s is string => typeof s === 'string' && s !== '');
    if (sequences.length > 0) config.stopSequences = sequences;
  }
  return Object.keys(config).length > 0 ? config : undefined;
}

/**
 * json_schema maps to Converse structured output, `outputConfig.textFormat` (user guide, "Get
 * validated JSON results from models"): the answer is then plain text holding the JSON, as
 * with OpenAI. Converse has no schema-less JSON mode, so json_object is refused.
 */
function outputConfig(format: JsonObject | undefined): JsonObject | undefined {
  if (format === undefined || format === null || format.type === 'text') return undefined;
  if (format.type === 'json_object') {
    throw unsupported(
      'response_format.type',
      "Bedrock Converse has no 'json_object' mode; use 'json_schema' with a schema.",
    );
  }
  const spec = format.json_schema as JsonObject;
  const jsonSchema: JsonObject = {
    // Converse takes the schema as a JSON string.
    schema: JSON.stringify(spec.schema ?? { type: 'object' }),
    name: spec.name,
  };
  if (typeof spec.description === 'string') jsonSchema.description = spec.description;
  return { textFormat: { type: 'json_schema', structure: { jsonSchema } } };
}

function refuseUnsupported(body: JsonObject): void {
  if (typeof body.n === 'number' && body.n > 1) {
    throw unsupported('n', "Bedrock Converse returns one choice: 'n' must be 1.");
  }
  if (body.logprobs === true || typeof body.top_logprobs === 'number') {
    throw unsupported(body.logprobs === true ? 'logprobs' : 'top_logprobs', noSupport('logprobs'));
  }
  for (const key of ['presence_penalty', 'frequency_penalty']) {
    if (typeof body[key] === 'number' && body[key] !== 0) throw unsupported(key, noSupport(key));
  }
  const bias = body.logit_bias;
  if (typeof bias === 'object' && bias !== null && Object.keys(bias).length > 0) {
    throw unsupported('logit_bias', noSupport('logit_bias'));
  }
  if (body.audio != null || (Array.isArray(body.modalities) && body.modalities.includes('audio'))) {
    throw unsupported(body.audio != null ? 'audio' : 'modalities', noSupport('audio output'));
  }
  if (body.functions != null || body.function_call != null) {
    const key = body.functions != null ? 'functions' : 'function_call';
    throw unsupported(key, `Bedrock Converse does not take the legacy '${key}'; use 'tools'.`);
  }
}

function noSupport(what: string): string {
  return `Bedrock Converse has no ${what}.`;
}

function unsupported(param: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_UNSUPPORTED_PARAM', message, { param });
}
