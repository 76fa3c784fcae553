// Cohere chat v2 (POST /v2/chat, bearer key). The OpenAI request is rebuilt as a Cohere body,
// and Cohere's answers and event streams are rebuilt as OpenAI completions and chunks.

import {
  ACCEPT_ENCODING,
  type AdapterFactory,
  type ChatAdapter,
  type ChatCall,
  type UpstreamRequest,
} from '../adapter.js';
import { EVENT_STREAM } from '../stream-content-type.js';
import { classifyCohereError, type CohereErrorContext } from './classify-error.js';
import { CohereStreamDecoder } from './cohere-stream.js';
import { cohereToOpenAI, type CompletionMeta } from './cohere-to-openai.js';
import { cohereBody } from './openai-to-cohere.js';

const USER_AGENT = 'modelgate/0.1';

export const createCohereAdapter: AdapterFactory = (init): ChatAdapter => {
  const url = new URL(init.baseUrl);
  const origin = url.origin;
  // base_url is Cohere's origin (https://api.cohere.com); a trailing /v2 is tolerated.
  const basePath = url.pathname.replace(/\/+$/, '').replace(/\/v2$/, '');
  const ctx: CohereErrorContext = {
    providerId: init.provider.id,
    secrets: init.apiKey ? [init.apiKey] : [],
  };

  const fixedHeaders: Record<string, string> = {
    'content-type': 'application/json',
    'accept-encoding': ACCEPT_ENCODING,
    'user-agent': USER_AGENT,
    ...init.provider.headers,
  };
  if (init.apiKey) fixedHeaders.authorization = `Bearer ${init.apiKey}`;

  // Cohere's answers name no model: the provider's name for it comes from the call.
  const meta = (call: ChatCall | undefined): CompletionMeta => ({
    model: call?.target ?? '',
    createdS: Math.floor(init.clock() / 1000),
  });

  return {
    buildChat(call: ChatCall): UpstreamRequest {
      // Translation problems throw GatewayErrors (400) here, before any upstream call.
      const body = cohereBody(call.body, call.target, call.stream);
      // Not a spread: a copy that gains a property gets a hidden class of its own each time
      // (see revised() in ../failures.ts).
      const headers: Record<string, string> = Object.assign({}, fixedHeaders, {
        accept: call.stream ? EVENT_STREAM : 'application/json',
      });
      for (const [name, value] of call.passHeaders) headers[name] = value;
      return { origin, path: `${basePath}/v2/chat`, headers, body: JSON.stringify(body) };
    },

    parseChat: (body, call) => cohereToOpenAI(body, meta(call), ctx),

    openStream: (call) => new CohereStreamDecoder(meta(call), ctx, init.maxStreamEventBytes),

    classifyError: (status, headers, body) => classifyCohereError(status, headers, body, ctx),

    streamContentType: EVENT_STREAM,
  };
};
