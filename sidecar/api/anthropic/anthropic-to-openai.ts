// An Anthropic Messages request (https://docs.anthropic.com/en/api/messages) as the canonical
// OpenAI chat body, so that it can take the same path as every chat request: routing,
// failover, metering. Fields with no OpenAI form are dropped where that is harmless and
// refused where the answer would silently differ (server tools, file sources).

import { assertJsonDepth, parseJsonBody } from '../../json-body.js';
import type { JsonObject } from '../../providers/adapter.js';
import { invalid, isObject, missing, numberIn, text, unsupported } from './check.js';
import { messagesToOpenAI, systemToOpenAI } from './messages-to-openai.js';

export interface TranslatedRequest {
  readonly body: JsonObject;
  readonly model: string;
  readonly stream: boolean;
  /** What the client asked to stop at, to tell `stop_sequence` from `end_turn`. */
  readonly stopSequences: readonly string[];
}

/** OpenAI's limit on `stop`, enforced by the canonical pipeline. */
const MAX_STOP_SEQUENCES = 4;
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function anthropicToOpenAI(raw: Buffer): TranslatedRequest {
  assertJsonDepth(raw);
  const req = parseJsonBody(raw);
  if (!isObject(req)) throw invalid(null, 'The request body must be a JSON object.');

  const model = req.model;
  if (model === undefined || model === null) throw missing('model');
  if (typeof model !== 'string' || model === '') {
    throw invalid('model', "'model' must be a non-empty string.");
  }
  // Anthropic requires max_tokens; so does this ingress, for the same answers everywhere.
  const maxTokens = req.max_tokens;
  if (maxTokens === undefined || maxTokens === null) throw missing('max_tokens');
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) {
    throw invalid('max_tokens', "'max_tokens' must be an integer of at least 1.");
  }

  const system = systemToOpenAI(req.system);
  const messages = messagesToOpenAI(req.messages);
  const body: JsonObject = {
    model,
    messages: system === undefined ? messages : [system, ...messages],
    max_tokens: maxTokens,
  };

  const temperature = numberIn(req, 'temperature', 0, 1);
  if (temperature !== undefined) body.temperature = temperature;
  const topP = numberIn(req, 'top_p', 0, 1);
  if (topP !== undefined) body.top_p = topP;
  // top_k has no OpenAI equivalent, and OpenAI refuses unknown fields: it is checked, then
  // dropped. Sampling then uses the model's full distribution cut only by top_p.
  numberIn(req, 'top_k', 0, Number.MAX_SAFE_INTEGER);

  const stopSequences = stopSequencesOf(req.stop_sequences);
  if (stopSequences.length > 0) body.stop = stopSequences;
  const user = userOf(req.metadata);
  if (user !== undefined) body.user = user;
  const effort = reasoningEffort(req.thinking, maxTokens);
  if (effort !== undefined) body.reasoning_effort = effort;

  const tools = toolsToOpenAI(req.tools);
  if (tools.length > 0) {
    body.tools = tools;
    Object.assign(body, toolChoiceToOpenAI(req.tool_choice));
  }

  const stream = req.stream === true;
  if (req.stream !== undefined && req.stream !== null && typeof req.stream !== 'boolean') {
    throw invalid('stream', "'stream' must be a boolean.");
  }
  if (stream) {
    // Always: OpenAI streams report usage only when asked, and only in their last chunk (G10).
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return { body, model, stream, stopSequences };
}

function stopSequencesOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) {
    throw invalid('stop_sequences', "'stop_sequences' must be an array of strings.");
  }
  if (value.length > MAX_STOP_SEQUENCES) {
    throw invalid(
      'stop_sequences',
      `'stop_sequences' takes at most ${MAX_STOP_SEQUENCES} sequences on this gateway.`,
    );
  }
  return value as string[];
}

function userOf(metadata: unknown): string | undefined {
  if (metadata === undefined || metadata === null) return undefined;
  if (!isObject(metadata)) throw invalid('metadata', "'metadata' must be an object.");
  const id = metadata.user_id;
  if (id === undefined || id === null) return undefined;
  if (typeof id !== 'string')
    throw invalid('metadata.user_id', "'metadata.user_id' must be a string.");
  return id;
}

/**
 * Extended thinking as OpenAI's reasoning_effort. The thresholds put the Anthropic adapter's
 * own budgets (2048, 8192, 16384: sidecar/providers/anthropic/thinking.ts) on the effort
 * they came from, so a Claude model behind this ingress gets about the budget asked for.
 */
function reasoningEffort(thinking: unknown, maxTokens: number): string | undefined {
  if (thinking === undefined || thinking === null) return undefined;
  if (!isObject(thinking)) throw invalid('thinking', "'thinking' must be an object.");
  if (thinking.type === 'disabled' || thinking.type === 'adaptive') return undefined;
  if (thinking.type !== 'enabled') {
    throw invalid('thinking.type', "'thinking.type' must be enabled, adaptive or disabled.");
  }
  const budget = thinking.budget_tokens;
  if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1024) {
    throw invalid('thinking.budget_tokens', "'thinking.budget_tokens' must be an integer >= 1024.");
  }
  if (budget >= maxTokens) {
    throw invalid('thinking.budget_tokens', "'thinking.budget_tokens' must be below max_tokens.");
  }
  return budget < 4096 ? 'low' : budget < 16384 ? 'medium' : 'high';
}

function toolsToOpenAI(tools: unknown): JsonObject[] {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw invalid('tools', "'tools' must be an array.");
  return tools.map((tool: unknown, i) => {
    const at = `tools[${i}]`;
    if (!isObject(tool)) throw invalid(at, `'${at}' must be an object.`);
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
      throw unsupported(
        `${at}.type`,
        `'${at}.type' ${JSON.stringify(tool.type)} is an Anthropic server tool; only custom ` +
          'tools (name, description, input_schema) can be offered to every model.',
      );
    }
    const name = text(tool, 'name', at);
    if (!TOOL_NAME.test(name)) {
      throw invalid(
        `${at}.name`,
        `'${at}.name' must be 1-64 letters, digits, underscores or dashes.`,
      );
    }
    const schema = tool.input_schema;
    if (schema === undefined || schema === null) throw missing(`${at}.input_schema`);
    if (!isObject(schema)) {
      throw invalid(`${at}.input_schema`, `'${at}.input_schema' must be a JSON Schema object.`);
    }
    const fn: JsonObject = { name, parameters: schema };
    if (typeof tool.description === 'string') fn.description = tool.description;
    return { type: 'function', function: fn };
  });
}

function toolChoiceToOpenAI(choice: unknown): JsonObject {
  if (choice === undefined || choice === null) return {};
  if (!isObject(choice)) throw invalid('tool_choice', "'tool_choice' must be an object.");

  const out: JsonObject = {};
  switch (choice.type) {
    case 'auto':
      out.tool_choice = 'auto';
      break;
    case 'any':
      out.tool_choice = 'required';
      break;
    case 'none':
      return { tool_choice: 'none' };
    case 'tool':
      out.tool_choice = {
        type: 'function',
        function: { name: text(choice, 'name', 'tool_choice') },
      };
      break;
    default:
      throw invalid('tool_choice.type', "'tool_choice.type' must be auto, any, tool or none.");
  }
  if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  return out;
}
