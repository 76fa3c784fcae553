// Cloud platforms that serve models the operator deployed or enabled, behind an
// OpenAI-compatible path that includes the operator's own account, workspace or endpoint:
// these always need an explicit base_url (the placeholder says which part).

import { caps, openaiCompatible, type CatalogEntry } from './types.js';

export const PLATFORMS: readonly CatalogEntry[] = [
  openaiCompatible({
    id: 'cloudflare-workers-ai',
    name: 'Cloudflare Workers AI',
    baseUrl: 'https://api.cloudflare.com/client/v4/accounts/{account}/ai/v1',
    apiKeyEnv: ['CLOUDFLARE_API_TOKEN'],
    capabilities: caps('streaming', 'tools', 'embeddings'),
    docs: 'https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/',
  }),
  openaiCompatible({
    id: 'databricks',
    name: 'Databricks Model Serving',
    baseUrl: 'https://{resource}.cloud.databricks.com/serving-endpoints',
    apiKeyEnv: ['DATABRICKS_TOKEN'],
    capabilities: caps('streaming', 'tools', 'vision', 'json_schema', 'embeddings'),
    docs: 'https://docs.databricks.com/aws/en/machine-learning/model-serving/score-foundation-models',
  }),
  openaiCompatible({
    id: 'snowflake-cortex',
    name: 'Snowflake Cortex REST API',
    baseUrl: 'https://{account}.snowflakecomputing.com/api/v2/cortex/v1',
    apiKeyEnv: ['SNOWFLAKE_PAT'],
    capabilities: caps('streaming', 'tools'),
    docs: 'https://docs.snowflake.com/en/user-guide/snowflake-cortex/open_ai_sdk',
  }),
  openaiCompatible({
    id: 'runpod',
    name: 'Runpod Serverless (vLLM worker)',
    baseUrl: 'https://api.runpod.ai/v2/{resource}/openai/v1',
    apiKeyEnv: ['RUNPOD_API_KEY'],
    capabilities: caps('streaming', 'tools'),
    docs: 'https://docs.runpod.io/serverless/vllm/openai-compatibility',
  }),
];
