// The Gemini chat adapter, shared by Google AI Studio and Vertex AI: the two speak the same
// request and response bodies and differ in URL and credential, which the caller supplies.

import type { ChatAdapter, ChatCall, UpstreamRequest } from '../adapter.js';
import { EVENT_STREAM } from '../stream-content-type.js';
import { classifyGoogleError, type ClassifyContext } from './classify-error.js';
import { GeminiStreamDecoder } from './gemini-stream.js';
import { toOpenAICompletion, type ResponseContext } from './gemini-to-openai.js';
import { toGeminiRequest } from './openai-to-gemini.js';
import { upstreamRequest, type RequestTarget } from './upstream-request.js';

export interface GeminiAdapterOptions extends RequestTarget {
  providerId: string;
  /** The path of generateContent (or streamGenerateContent) for a model. */
  path(target: string, stream: boolean): string;
  secrets: readonly string[];
  maxStreamEventBytes?: number;
  clock: () => number;
  /** Called when the provider refused the credential (Vertex drops its cached token). */
  onAuthRejected?: () => void;
}

export const USER_AGENT = 'modelgate/0.1';

export function createGeminiChatAdapter(opts: GeminiAdapterOptions): ChatAdapter {
  const ctx: ResponseContext = {
    providerId: opts.providerId,
    secrets: opts.secrets,
    nowSeconds: () => Math.floor(opts.clock() / 1000),
  };

  return {
    buildChat(call: ChatCall): UpstreamRequest | Promise<UpstreamRequest> {
      // Translated first: a request Gemini cannot take fails before a token is minted.
      const body = JSON.stringify(toGeminiRequest(call.body));
      return upstreamRequest(opts, call, opts.path(call.target, call.stream), body);
    },

    parseChat: (body, call) => toOpenAICompletion(body, ctx, call?.target),

    openStream: (call) => new GeminiStreamDecoder(ctx, opts.maxStreamEventBytes, call?.target),

    classifyError(status, headers, body) {
      const failure = classifyGoogleError(status, headers, body, ctx as ClassifyContext);
      if (failure.code === 'GW_ERR_UPSTREAM_AUTH') opts.onAuthRejected?.();
      return failure;
    },

    // streamGenerateContent with alt=sse; without it Google sends one JSON array.
    streamContentType: EVENT_STREAM,
  };
}
