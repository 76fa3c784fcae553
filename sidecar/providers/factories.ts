// One factory per native protocol. Adding a provider that speaks a known protocol is a
// catalog entry (providers/catalog.ts); a new protocol is a folder here plus one line below.

import { Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import type { AdapterFactory } from './adapter.js';
import { createAnthropicAdapter } from './anthropic/index.js';
import { vendorOf } from './catalog.js';
import { createBedrockAdapter } from './bedrock/index.js';
import { createCohereAdapter } from './cohere/index.js';
import { createGeminiAdapter } from './gemini/index.js';
import { createOpenAIAdapter } from './openai/adapter.js';
import { createVertexAdapter } from './vertex/index.js';

const openai: AdapterFactory = (init) =>
  createOpenAIAdapter({
    providerId: init.provider.id,
    baseUrl: init.baseUrl,
    apiKey: init.apiKey,
    headers: init.provider.headers,
    streamUsageUnasked: vendorOf(init.provider, init.baseUrl)?.streamUsageUnasked === true,
    maxStreamEventBytes: init.maxStreamEventBytes,
    sseScan: init.sseScan,
  });

const azure: AdapterFactory = (init) =>
  createOpenAIAdapter({
    providerId: init.provider.id,
    baseUrl: init.baseUrl,
    apiKey: init.apiKey,
    headers: init.provider.headers,
    azure: { apiVersion: init.provider.apiVersion },
    maxStreamEventBytes: init.maxStreamEventBytes,
    sseScan: init.sseScan,
  });

export const ADAPTER_FACTORIES: ReadonlyMap<Protocol, AdapterFactory> = new Map([
  [Protocol.OPENAI, openai],
  [Protocol.DEMO, openai],
  [Protocol.AZURE_OPENAI, azure],
  [Protocol.ANTHROPIC, createAnthropicAdapter],
  [Protocol.GEMINI, createGeminiAdapter],
  [Protocol.VERTEX, createVertexAdapter],
  [Protocol.BEDROCK, createBedrockAdapter],
  [Protocol.COHERE, createCohereAdapter],
]);

/** Where a protocol's provider lives when the policy gives no base_url. */
export function defaultBaseUrl(protocol: Protocol, region: string): string {
  switch (protocol) {
    case Protocol.OPENAI:
      return 'https://api.openai.com/v1';
    case Protocol.DEMO:
      return 'http://demo.modelgate.invalid/v1';
    case Protocol.ANTHROPIC:
      return 'https://api.anthropic.com';
    case Protocol.GEMINI:
      return 'https://generativelanguage.googleapis.com';
    case Protocol.VERTEX:
      return region === 'global' || region === ''
        ? 'https://aiplatform.googleapis.com'
        : `https://${region}-aiplatform.googleapis.com`;
    case Protocol.BEDROCK:
      return `https://bedrock-runtime.${region || 'us-east-1'}.amazonaws.com`;
    case Protocol.COHERE:
      return 'https://api.cohere.com';
    default:
      return '';
  }
}
