import {
  ACCEPT_ENCODING,
  type ChatAdapter,
  type ChatCall,
  type JsonObject,
  type UpstreamRequest,
} from '../adapter.js';
import { badResponse } from '../failures.js';
import { EVENT_STREAM } from '../stream-content-type.js';
import { AnthropicStreamDecoder } from './anthropic-stream.js';
import { anthropicToOpenAI } from './anthropic-to-openai.js';
import {
  classifyAnthropicError,
  classifyAnthropicStreamError,
  type ClassifyContext,
} from './classify-error.js';
import { openaiToAnthropic } from './openai-to-anthropic.js';

/** The API version this adapter speaks; a provider's `headers` may pin another. */
export const ANTHROPIC_VERSION = '2023-06-01';

export interface AnthropicAdapterOptions {
  providerId: string;
  /** https://api.anthropic.com, with or without a trailing /v1. */
  baseUrl: string;
  apiKey?: string;
  /** Static headers from the policy (anthropic-version, anthropic-beta, ...). */
  headers?: Record<string, string>;
  maxStreamEventBytes?: number;
  /** Milliseconds since the epoch, for `created`. */
  clock: () => number;
}

const USER_AGENT = 'modelgate/0.1';

/** Anthropic's Messages API behind the OpenAI chat schema. */
export function createAnthropicChatAdapter(opts: AnthropicAdapterOptions): ChatAdapter {
  const url = new URL(opts.baseUrl);
  const base = url.pathname.replace(/\/+$/, '');
  const path = `${base.endsWith('/v1') ? base : `${base}/v1`}/messages`;
  const ctx: ClassifyContext = {
    providerId: opts.providerId,
    secrets: opts.apiKey ? [opts.apiKey] : [],
  };

  const fixedHeaders: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'accept-encoding': ACCEPT_ENCODING,
    'user-agent': USER_AGENT,
    'anthropic-version': ANTHROPIC_VERSION,
  };
  if (opts.apiKey) fixedHeaders['x-api-key'] = opts.apiKey;
  Object.assign(fixedHeaders, opts.headers);

  const seconds = () => Math.floor(opts.clock() / 1000);

  return {
    buildChat(call: ChatCall): UpstreamRequest {
      const body = openaiToAnthropic(call.body, call.target, { stream: call.stream });
      return {
        origin: url.origin,
        path,
        headers: withPassHeaders(fixedHeaders, call.passHeaders),
        body: JSON.stringify(body),
      };
    },

    parseChat(body: Buffer) {
      let msg: JsonObject;
      try {
        msg = JSON.parse(body.toString()) as JsonObject;
      } catch {
        return badResponse(opts.providerId, 'a body that is not JSON');
      }
      if (msg?.type === 'error') return classifyAnthropicStreamError(msg, ctx);
      if (msg?.type !== 'message' || !Array.isArray(msg.content)) {
        return badResponse(opts.providerId, 'something that is not a message');
      }
      const { completion, usage } = anthropicToOpenAI(msg, { created: seconds() });
      return { bytes: Buffer.from(JSON.stringify(completion)), usage };
    },

    openStream: () => new AnthropicStreamDecoder(ctx, seconds(), opts.maxStreamEventBytes),

    classifyError: (status, headers, body) => classifyAnthropicError(status, headers, body, ctx),

    streamContentType: EVENT_STREAM,
  };
}

/** A client's own credential (`x-pass-x-api-key` or a bearer token) replaces ours. */
function withPassHeaders(
  fixed: Record<string, string>,
  pass: ChatCall['passHeaders'],
): Record<string, string> {
  if (pass.length === 0) return fixed;
  // Not a spread: see revised() in ../failures.ts.
  const headers = Object.assign({}, fixed);
  for (const [name, value] of pass) {
    if (name === 'x-api-key' || name === 'authorization') {
      delete headers['x-api-key'];
      delete headers.authorization;
    }
    headers[name] = value;
  }
  return headers;
}
