// The Gemini chat adapter, shared by Google AI Studio and Vertex AI: the two speak the same
// request and response bodies and differ in URL and credential, which the caller supplies.

import type { ChatAdapter, ChatCall, UpstreamRequest } from '../adapter.js';
import { classifyGoogleError, type ClassifyContext } from './classify-error.js';
import { GeminiStreamDecoder } from './gemini-stream.js';
import { toOpenAICompletion, type ResponseContext } from './gemini-to-openai.js';
import { toGeminiRequest } from './openai-to-gemini.js';

export interface GeminiAdapterOptions {
  providerId: string;
  origin: string;
  /** The path of generateContent (or streamGenerateContent) for a model. */
  path(target: string, stream: boolean): string;
  /** Static headers: content type, policy headers, and the credential when it is static. */
  headers: Record<string, string>;
  /** Headers minted per request (a Vertex access token); absent for a static key. */
  credential?: () => Promise<Record<string, string>>;
  /** Credential header names that a client's own `x-pass-` credential replaces. */
  credentialHeaders: readonly string[];
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
      // Translate first: a request Gemini cannot take fails before a token is minted.
      const body = JSON.stringify(toGeminiRequest(call.body));
      const path = opts.path(call.target, call.stream);
      const passesCredential = call.passHeaders.some(([name]) =>
        opts.credentialHeaders.includes(name),
      );
      const request = (minted: Record<string, string>): UpstreamRequest => ({
        origin: opts.origin,
        path,
        headers: withPassHeaders(
          { ...opts.headers, ...minted },
          call.passHeaders,
          passesCredential,
          opts.credentialHeaders,
        ),
        body,
      });
      if (opts.credential === undefined || passesCredential) return request({});
      return opts.credential().then(request);
    },

    parseChat: (body) => toOpenAICompletion(body, ctx),

    openStream: () => new GeminiStreamDecoder(ctx, opts.maxStreamEventBytes),

    classifyError(status, headers, body) {
      const failure = classifyGoogleError(status, headers, body, ctx as ClassifyContext);
      if (failure.code === 'GW_ERR_UPSTREAM_AUTH') opts.onAuthRejected?.();
      return failure;
    },
  };
}

/** Forwarded client headers win; a client credential replaces the configured one. */
function withPassHeaders(
  headers: Record<string, string>,
  passHeaders: ChatCall['passHeaders'],
  dropCredential: boolean,
  credentialHeaders: readonly string[],
): Record<string, string> {
  if (dropCredential) for (const name of credentialHeaders) delete headers[name];
  for (const [name, value] of passHeaders) headers[name] = value;
  return headers;
}
