// Well-known models, for proposing failover chains when the config names none. Prices are
// list prices in US dollars per million tokens as published by each vendor when this table
// was written; they only rank candidates here (billing uses the configured model prices).

export type Tier = 'frontier' | 'mid' | 'small';

export interface CatalogModel {
  /** The provider catalog id (providers/catalog.ts), matched against configured providers. */
  readonly provider: string;
  readonly model: string;
  readonly tier: Tier;
  readonly contextWindow: number;
  readonly inputPerMtok: number;
  readonly outputPerMtok: number;
  readonly tools: boolean;
  readonly vision: boolean;
  readonly reasoning: boolean;
}

const m = (
  provider: string,
  model: string,
  tier: Tier,
  contextWindow: number,
  price: [number, number],
  caps: { tools?: boolean; vision?: boolean; reasoning?: boolean } = {},
): CatalogModel => ({
  provider,
  model,
  tier,
  contextWindow,
  inputPerMtok: price[0],
  outputPerMtok: price[1],
  tools: caps.tools ?? true,
  vision: caps.vision ?? false,
  reasoning: caps.reasoning ?? false,
});

export const MODEL_CATALOG: readonly CatalogModel[] = [
  m('openai', 'gpt-4o', 'frontier', 128_000, [2.5, 10], { vision: true }),
  m('openai', 'gpt-4o-mini', 'small', 128_000, [0.15, 0.6], { vision: true }),
  m('openai', 'gpt-4.1', 'frontier', 1_047_576, [2, 8], { vision: true }),
  m('openai', 'gpt-4.1-mini', 'mid', 1_047_576, [0.4, 1.6], { vision: true }),
  m('openai', 'gpt-4.1-nano', 'small', 1_047_576, [0.1, 0.4], { vision: true }),
  m('openai', 'o3', 'frontier', 200_000, [2, 8], { vision: true, reasoning: true }),
  m('openai', 'o4-mini', 'mid', 200_000, [1.1, 4.4], { vision: true, reasoning: true }),
  m('openai', 'o3-mini', 'mid', 200_000, [1.1, 4.4], { reasoning: true }),
  m('anthropic', 'claude-opus-4-0', 'frontier', 200_000, [15, 75], {
    vision: true,
    reasoning: true,
  }),
  m('anthropic', 'claude-sonnet-4-0', 'frontier', 200_000, [3, 15], {
    vision: true,
    reasoning: true,
  }),
  m('anthropic', 'claude-3-7-sonnet-latest', 'frontier', 200_000, [3, 15], {
    vision: true,
    reasoning: true,
  }),
  m('anthropic', 'claude-3-5-haiku-latest', 'small', 200_000, [0.8, 4], { vision: true }),
  m('gemini', 'gemini-2.5-pro', 'frontier', 1_048_576, [1.25, 10], {
    vision: true,
    reasoning: true,
  }),
  m('gemini', 'gemini-2.5-flash', 'mid', 1_048_576, [0.3, 2.5], { vision: true, reasoning: true }),
  m('gemini', 'gemini-2.0-flash', 'small', 1_048_576, [0.1, 0.4], { vision: true }),
  m('gemini', 'gemini-2.0-flash-lite', 'small', 1_048_576, [0.075, 0.3], { vision: true }),
  m('mistral', 'mistral-large-latest', 'frontier', 128_000, [2, 6]),
  m('mistral', 'mistral-medium-latest', 'mid', 128_000, [0.4, 2], { vision: true }),
  m('mistral', 'mistral-small-latest', 'small', 128_000, [0.1, 0.3], { vision: true }),
  m('groq', 'llama-3.3-70b-versatile', 'mid', 131_072, [0.59, 0.79]),
  m('groq', 'llama-3.1-8b-instant', 'small', 131_072, [0.05, 0.08]),
  m('together', 'meta-llama/Llama-3.3-70B-Instruct-Turbo', 'mid', 131_072, [0.88, 0.88]),
  m('fireworks', 'accounts/fireworks/models/llama-v3p3-70b-instruct', 'mid', 131_072, [0.9, 0.9]),
  m('deepseek', 'deepseek-chat', 'mid', 65_536, [0.27, 1.1]),
  m('deepseek', 'deepseek-reasoner', 'mid', 65_536, [0.55, 2.19], {
    tools: false,
    reasoning: true,
  }),
  m('xai', 'grok-3', 'frontier', 131_072, [3, 15]),
  m('xai', 'grok-3-mini', 'small', 131_072, [0.3, 0.5], { reasoning: true }),
  m('cohere', 'command-r-plus', 'mid', 128_000, [2.5, 10]),
  m('cohere', 'command-r', 'small', 128_000, [0.15, 0.6]),
];
