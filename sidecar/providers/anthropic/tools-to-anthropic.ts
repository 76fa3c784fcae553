import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';

// OpenAI function tools and tool_choice in Anthropic's form
// (https://docs.anthropic.com/en/docs/build-with-claude/tool-use). Anthropic's tool_choice
// types are auto, any, tool and none; the first three take `disable_parallel_tool_use`,
// which is how `parallel_tool_calls: false` is said (G19).

export function toolsToAnthropic(tools: unknown): JsonObject[] | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  return (tools as JsonObject[]).map((tool, i) => {
    if (tool.type !== 'function') {
      throw new GatewayError(
        'GW_ERR_REQ_UNSUPPORTED_PARAM',
        `'tools[${i}].type' ${String(tool.type)} is not supported for Anthropic models.`,
        { param: `tools[${i}].type` },
      );
    }
    const fn = tool.function as JsonObject;
    const out: JsonObject = { name: fn.name };
    if (typeof fn.description === 'string') out.description = fn.description;
    // Anthropic requires an object schema; OpenAI allows a tool without parameters.
    out.input_schema = fn.parameters ?? { type: 'object', properties: {} };
    if (fn.strict === true) out.strict = true;
    return out;
  });
}

/** Undefined leaves Anthropic's default (auto, parallel calls allowed). */
export function toolChoiceToAnthropic(choice: unknown, parallel: unknown): JsonObject | undefined {
  let out: JsonObject;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'required') out = { type: 'any' };
  else if (typeof choice === 'object' && choice !== null) out = namedTool(choice as JsonObject);
  else if (parallel === false) out = { type: 'auto' };
  else return undefined;

  if (parallel === false) out.disable_parallel_tool_use = true;
  return out;
}

function namedTool(choice: JsonObject): JsonObject {
  if (choice.type !== 'function') {
    throw new GatewayError(
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      `'tool_choice.type' ${String(choice.type)} is not supported for Anthropic models.`,
      { param: 'tool_choice.type' },
    );
  }
  return { type: 'tool', name: (choice.function as JsonObject).name };
}
