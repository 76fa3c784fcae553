import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';

// OpenAI `tools` and `tool_choice` to Converse `toolConfig` (API reference, ToolConfiguration,
// ToolSpecification, ToolChoice). Converse's choices are auto (its default), any and tool;
// there is no "none" and no switch for parallel calls.

interface FunctionTool {
  type?: unknown;
  function?: { name?: unknown; description?: unknown; parameters?: unknown; strict?: unknown };
}

/**
 * - `auto` and no tool_choice send no toolChoice: auto is Converse's default, and some models
 *   on Bedrock take no toolChoice at all.
 * - `none` sends no tools, so none can be called. Converse refuses toolUse/toolResult blocks
 *   without toolConfig, though, so when the conversation holds tool turns the tools are kept
 *   (without a toolChoice) and the model may still call one.
 * - `parallel_tool_calls` has no Converse equivalent and is not forwarded.
 */
export function toToolConfig(body: JsonObject, hasToolBlocks: boolean): JsonObject | undefined {
  const tools = Array.isArray(body.tools) ? (body.tools as FunctionTool[]) : [];
  const choice = body.tool_choice;

  if (tools.length === 0) {
    if (hasToolBlocks) {
      throw new GatewayError(
        'GW_ERR_REQ_MISSING_FIELD',
        "Bedrock Converse needs the tool definitions ('tools') whenever the conversation " +
          'holds tool calls or tool results.',
        { param: 'tools' },
      );
    }
    if (choice === 'required' || (typeof choice === 'object' && choice !== null)) {
      throw invalid('tool_choice', "'tool_choice' needs 'tools' to choose from.");
    }
    return undefined;
  }
  if (choice === 'none' && !hasToolBlocks) return undefined;

  const config: JsonObject = { tools: tools.map(toolSpec) };
  const toolChoice = toToolChoice(choice, tools);
  if (toolChoice !== undefined) config.toolChoice = toolChoice;
  return config;
}

function toolSpec(tool: FunctionTool, i: number): JsonObject {
  if (tool.type !== 'function' || typeof tool.function?.name !== 'string') {
    throw new GatewayError(
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      'Bedrock Converse takes only function tools.',
      { param: `tools[${i}].type` },
    );
  }
  const fn = tool.function;
  const spec: JsonObject = {
    name: fn.name,
    // A function without parameters still needs an object schema in Converse.
    inputSchema: { json: fn.parameters ?? { type: 'object', properties: {} } },
  };
  if (typeof fn.description === 'string' && fn.description !== '') {
    spec.description = fn.description;
  }
  if (fn.strict === true) spec.strict = true;
  return { toolSpec: spec };
}

function toToolChoice(choice: unknown, tools: FunctionTool[]): JsonObject | undefined {
  if (choice === undefined || choice === null || choice === 'auto' || choice === 'none') {
    return undefined;
  }
  if (choice === 'required') return { any: {} };

  const named = choice as { type?: unknown; function?: { name?: unknown } };
  if (named.type !== 'function') {
    throw new GatewayError(
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      `Bedrock Converse cannot honour a '${String(named.type)}' tool_choice.`,
      { param: 'tool_choice.type' },
    );
  }
  const name = named.function?.name;
  if (!tools.some((t) => t.function?.name === name)) {
    throw invalid('tool_choice.function.name', `No tool named '${String(name)}' was given.`);
  }
  return { tool: { name } };
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_INVALID_FIELD', message, { param });
}
