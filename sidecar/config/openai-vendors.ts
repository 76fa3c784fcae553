/** A hosted service that speaks the OpenAI protocol and is enabled by setting its key. */
export interface OpenAIVendor {
  /** Provider id, and the prefix of its model pattern (`groq/*`). */
  readonly id: string;
  readonly baseUrl: string;
  /** The environment variable holding the key; setting it enables the vendor. */
  readonly apiKeyEnv: string;
  /** An environment variable that, when set, replaces baseUrl. */
  readonly baseUrlEnv?: string;
  /** Bare model-name patterns routed here besides `<id>/*`, each mapping to itself. */
  readonly barePatterns?: readonly string[];
}

// Base URLs are each vendor's documented OpenAI-compatible endpoint, up to the /v1 segment
// (or its equivalent) so that `/chat/completions` appends directly.
export const OPENAI_VENDORS: readonly OpenAIVendor[] = [
  {
    id: 'openai',
    baseUrl: 'https://api.openai.com/v1',
    apiKeyEnv: 'OPENAI_API_KEY',
    baseUrlEnv: 'OPENAI_BASE_URL',
    barePatterns: ['gpt-*', 'o1*', 'o3*', 'o4*', 'chatgpt-*'],
  },
  { id: 'groq', baseUrl: 'https://api.groq.com/openai/v1', apiKeyEnv: 'GROQ_API_KEY' },
  { id: 'mistral', baseUrl: 'https://api.mistral.ai/v1', apiKeyEnv: 'MISTRAL_API_KEY' },
  { id: 'deepseek', baseUrl: 'https://api.deepseek.com/v1', apiKeyEnv: 'DEEPSEEK_API_KEY' },
  { id: 'together', baseUrl: 'https://api.together.xyz/v1', apiKeyEnv: 'TOGETHER_API_KEY' },
  {
    id: 'fireworks',
    baseUrl: 'https://api.fireworks.ai/inference/v1',
    apiKeyEnv: 'FIREWORKS_API_KEY',
  },
  { id: 'openrouter', baseUrl: 'https://openrouter.ai/api/v1', apiKeyEnv: 'OPENROUTER_API_KEY' },
  { id: 'xai', baseUrl: 'https://api.x.ai/v1', apiKeyEnv: 'XAI_API_KEY' },
  { id: 'perplexity', baseUrl: 'https://api.perplexity.ai', apiKeyEnv: 'PERPLEXITY_API_KEY' },
];
