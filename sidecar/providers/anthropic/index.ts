import type { AdapterFactory } from '../adapter.js';
import { createAnthropicChatAdapter } from './adapter.js';

// Anthropic's Messages API. The translators are exported one by one so that Anthropic
// models on Vertex AI, which take the same body (less `model`, plus `anthropic_version`)
// at another URL, reuse them rather than copy them.

export const createAnthropicAdapter: AdapterFactory = (init) =>
  createAnthropicChatAdapter({
    providerId: init.provider.id,
    baseUrl: init.baseUrl,
    apiKey: init.apiKey,
    headers: init.provider.headers,
    maxStreamEventBytes: init.maxStreamEventBytes,
    clock: init.clock,
  });

export { ANTHROPIC_VERSION, createAnthropicChatAdapter } from './adapter.js';
export type { AnthropicAdapterOptions } from './adapter.js';
export { AnthropicStreamDecoder } from './anthropic-stream.js';
export { anthropicToOpenAI } from './anthropic-to-openai.js';
export { finishReason, openaiUsageJson, usageFromAnthropic } from './anthropic-usage.js';
export {
  classifyAnthropicError,
  classifyAnthropicStreamError,
  type ClassifyContext,
} from './classify-error.js';
export { DEFAULT_MAX_TOKENS, openaiToAnthropic } from './openai-to-anthropic.js';
export { THINKING_BUDGET_TOKENS } from './thinking.js';
