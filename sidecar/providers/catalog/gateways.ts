// Routers and gateways in front of many model vendors, each documenting an OpenAI-compatible
// endpoint: one key, many models.

import { caps, openaiCompatible, type CatalogEntry } from './types.js';

export const GATEWAYS: readonly CatalogEntry[] = [
  openaiCompatible({
    id: 'openrouter',
    name: 'OpenRouter',
    baseUrl: 'https://openrouter.ai/api/v1',
    apiKeyEnv: ['OPENROUTER_API_KEY'],
    capabilities: caps('streaming', 'tools', 'vision', 'json_schema'),
    docs: 'https://openrouter.ai/docs/api-reference/overview',
  }),
  openaiCompatible({
    id: 'vercel-ai-gateway',
    name: 'Vercel AI Gateway',
    baseUrl: 'https://ai-gateway.vercel.sh/v1',
    apiKeyEnv: ['AI_GATEWAY_API_KEY'],
    capabilities: caps('streaming', 'tools', 'vision', 'json_schema', 'embeddings'),
    docs: 'https://vercel.com/docs/ai-gateway/openai-compat',
  }),
  openaiCompatible({
    id: 'requesty',
    name: 'Requesty',
    baseUrl: 'https://router.requesty.ai/v1',
    apiKeyEnv: ['REQUESTY_API_KEY'],
    capabilities: caps('streaming', 'tools', 'vision', 'json_schema'),
    docs: 'https://docs.requesty.ai/',
  }),
  openaiCompatible({
    id: 'poe',
    name: 'Poe',
    baseUrl: 'https://api.poe.com/v1',
    apiKeyEnv: ['POE_API_KEY'],
    capabilities: caps('streaming', 'tools', 'vision'),
    docs: 'https://creator.poe.com/docs/external-applications/openai-compatible-api',
  }),
  openaiCompatible({
    id: 'aimlapi',
    name: 'AI/ML API',
    baseUrl: 'https://api.aimlapi.com/v1',
    apiKeyEnv: ['AIML_API_KEY'],
    capabilities: caps('streaming', 'tools', 'vision', 'embeddings', 'images'),
    docs: 'https://docs.aimlapi.com/',
  }),
  openaiCompatible({
    id: 'nano-gpt',
    name: 'NanoGPT',
    baseUrl: 'https://nano-gpt.com/api/v1',
    apiKeyEnv: ['NANOGPT_API_KEY'],
    capabilities: caps('streaming'),
    docs: 'https://docs.nano-gpt.com/',
  }),
  openaiCompatible({
    id: 'publicai',
    name: 'Public AI',
    baseUrl: 'https://api.publicai.co/v1',
    apiKeyEnv: ['PUBLICAI_API_KEY'],
    capabilities: caps('streaming'),
    docs: 'https://platform.publicai.co/docs',
  }),
  openaiCompatible({
    id: 'aihubmix',
    name: 'AIHubMix',
    baseUrl: 'https://aihubmix.com/v1',
    apiKeyEnv: ['AIHUBMIX_API_KEY'],
    capabilities: caps('streaming', 'tools', 'vision'),
    docs: 'https://docs.aihubmix.com/',
  }),
];
