import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';

// reasoning_effort as Anthropic extended thinking
// (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking). A budget must
// be at least 1024 tokens and below max_tokens, and it is spent out of max_tokens, which
// matches OpenAI, where max_completion_tokens also covers reasoning.

/** Budgets per effort: the API minimum, then doubling steps up to a long deliberation. */
export const THINKING_BUDGET_TOKENS: Readonly<Record<string, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 32768,
};

const MIN_BUDGET_TOKENS = 1024;

export interface Thinking {
  config: JsonObject;
  /** Tokens reserved for thinking, added to the default max_tokens. */
  budget: number;
}

export function thinkingFor(body: JsonObject, maxTokens: number | undefined): Thinking | undefined {
  const thinking = fromBody(body, maxTokens);
  if (thinking === undefined) return undefined;

  // Anthropic refuses these beside thinking; saying so here names the OpenAI field.
  if (typeof body.temperature === 'number' && body.temperature !== 1) {
    throw conflict('temperature', 'temperature cannot be set with reasoning on Anthropic models.');
  }
  if (typeof body.top_k === 'number') {
    throw conflict('top_k', 'top_k cannot be set with reasoning on Anthropic models.');
  }
  const choice = body.tool_choice;
  if (choice === 'required' || (typeof choice === 'object' && choice !== null)) {
    throw conflict(
      'tool_choice',
      'Anthropic models cannot be forced to call a tool while reasoning; use auto or none.',
    );
  }
  return thinking;
}

function fromBody(body: JsonObject, maxTokens: number | undefined): Thinking | undefined {
  // Clients that know Anthropic may send its own `thinking` object; it is taken as given.
  const own = body.thinking as JsonObject | undefined | null;
  if (typeof own === 'object' && own !== null) {
    if (own.type === 'disabled') return undefined;
    return { config: own, budget: typeof own.budget_tokens === 'number' ? own.budget_tokens : 0 };
  }

  const effort = body.reasoning_effort;
  if (effort === undefined || effort === null || effort === 'none') return undefined;
  let budget = THINKING_BUDGET_TOKENS[String(effort)];
  if (budget === undefined) {
    throw new GatewayError(
      'GW_ERR_REQ_INVALID_FIELD',
      `'reasoning_effort' must be one of none, ${Object.keys(THINKING_BUDGET_TOKENS).join(', ')}.`,
      { param: 'reasoning_effort' },
    );
  }
  if (maxTokens !== undefined) {
    // The client's cap covers thinking and answer together; the budget yields to it.
    budget = Math.min(budget, maxTokens - 1);
    if (budget < MIN_BUDGET_TOKENS) {
      throw conflict(
        'max_completion_tokens',
        `Reasoning on Anthropic models needs more than ${MIN_BUDGET_TOKENS} output tokens.`,
      );
    }
  }
  return { config: { type: 'enabled', budget_tokens: budget }, budget };
}

function conflict(param: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_UNSUPPORTED_PARAM', message, { param });
}
