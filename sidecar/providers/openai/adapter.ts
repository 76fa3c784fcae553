import {
  ACCEPT_ENCODING,
  type ChatAdapter,
  type ChatCall,
  type UpstreamRequest,
} from '../adapter.js';
import { badResponse } from '../failures.js';
import { EVENT_STREAM } from '../stream-content-type.js';
import {
  classifyOpenAIError,
  isFailure,
  readErrorBody,
  type ClassifyContext,
} from './classify-error.js';
import { upstreamBody } from './request-body.js';
import type { SseScanKernel } from './sse-scan-kernel.js';
import { SkeletonBook } from './chunk-skeleton.js';
import { OpenAIStreamDecoder } from './stream-decoder.js';
import { readOpenAIUsage, UNSCANNED } from './usage.js';

export interface OpenAIAdapterOptions {
  providerId: string;
  baseUrl: string;
  /** The provider credential; absent for keyless local servers (Ollama, vLLM). */
  apiKey?: string;
  /** Static headers from the policy. */
  headers?: Record<string, string>;
  /** Azure OpenAI: deployment URLs, `api-version`, and the `api-key` header. */
  azure?: { apiVersion: string };
  /** The vendor meters streams unasked and refuses `stream_options` (Mistral). */
  streamUsageUnasked?: boolean;
  maxStreamEventBytes?: number;
  /** Matches streamed runs as bytes (wasm/sse-scan.ts); text matching when absent. */
  sseScan?: SseScanKernel;
}

const USER_AGENT = 'modelgate/0.1';

/** OpenAI and every vendor that speaks its protocol: bytes pass through, model patched. */
export function createOpenAIAdapter(opts: OpenAIAdapterOptions): ChatAdapter {
  const url = new URL(opts.baseUrl);
  const origin = url.origin;
  const basePath = url.pathname.replace(/\/+$/, '');
  const ctx: ClassifyContext = {
    providerId: opts.providerId,
    secrets: opts.apiKey ? [opts.apiKey] : [],
  };

  const fixedHeaders: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'accept-encoding': ACCEPT_ENCODING,
    'user-agent': USER_AGENT,
    ...opts.headers,
  };
  if (opts.apiKey) {
    if (opts.azure) fixedHeaders['api-key'] = opts.apiKey;
    else fixedHeaders.authorization = `Bearer ${opts.apiKey}`;
  }

  // What this endpoint's streams taught about their chunks, for the streams after them.
  const skeletons = new SkeletonBook();
  // Every stream is asked for its usage, unless the provider would refuse the question. A
  // vendor that sends usage unasked and refuses the field gets no stream_options at all, not
  // even the client's own: the usage the client asked for comes anyway.
  const dropStreamOptions = opts.streamUsageUnasked === true;
  const askUsage =
    !dropStreamOptions &&
    (opts.azure === undefined || azureTakesStreamOptions(opts.azure.apiVersion));

  const chatPath = (target: string): string =>
    opts.azure
      ? `${basePath}/openai/deployments/${encodeURIComponent(target)}/chat/completions` +
        `?api-version=${encodeURIComponent(opts.azure.apiVersion)}`
      : `${basePath}/chat/completions`;

  return {
    buildChat(call: ChatCall): UpstreamRequest {
      let headers = fixedHeaders;
      if (call.passHeaders.length > 0) {
        // Not a spread: a spread copy that gains a header gets a hidden class of its own each
        // time (see revised() in ../failures.ts).
        headers = Object.assign({}, fixedHeaders);
        for (const [name, value] of call.passHeaders) {
          // A client-supplied credential replaces the configured one, whatever its header.
          if (name === 'authorization' || name === 'api-key') {
            delete headers.authorization;
            delete headers['api-key'];
          }
          headers[name] = value;
        }
      }
      return {
        origin,
        path: chatPath(call.target),
        headers,
        body: upstreamBody(call.raw, call.body, {
          target: call.target,
          includeUsage: call.stream && askUsage,
          dropStreamOptions,
          modelKeyAt: call.modelKeyAt,
        }),
      };
    },

    parseChat(body: Buffer) {
      // The kernel walks the answer as JSON.parse would check it and reads its usage, faster
      // than a parse (a sixteenth of its time on long text, three quarters on tool
      // arguments dense with escapes); what it cannot vouch for is parsed.
      const scan = opts.sseScan;
      if (scan !== undefined && body.length <= KERNEL_ANSWER_BYTES) {
        const usage = scan.readCompletion(body);
        if (usage !== UNSCANNED) return { bytes: body, usage };
      }

      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(body.toString()) as Record<string, unknown>;
      } catch {
        return badResponse(opts.providerId, 'a body that is not JSON');
      }
      if (isFailure(parsed?.error)) {
        // Some OpenAI-compatible servers answer 200 with an error body; OpenRouter puts its
        // error beside choices whose finish_reason is "error".
        const { code } = readErrorBody(body);
        const status = typeof code === 'number' ? code : 502;
        return classifyOpenAIError(status >= 400 ? status : 502, {}, body, ctx);
      }
      if (!Array.isArray(parsed?.choices)) {
        return badResponse(opts.providerId, 'a completion without choices');
      }
      return { bytes: body, usage: readOpenAIUsage(parsed.usage) };
    },

    openStream: () =>
      new OpenAIStreamDecoder(ctx, opts.maxStreamEventBytes, opts.sseScan, skeletons),

    classifyError: (status, headers, body) => classifyOpenAIError(status, headers, body, ctx),

    streamContentType: EVENT_STREAM,
  };
}

/**
 * Azure OpenAI takes `stream_options` from api-version 2024-09-01-preview (GA 2024-10-21);
 * the versions before it answer 400 "Unrecognized request argument supplied: stream_options".
 * Their streams go unasked, end at `[DONE]` without a usage chunk, and are logged with
 * `done_without_usage`. A version that is not a date (`preview`, `latest`) is a newer one.
 */
export function azureTakesStreamOptions(apiVersion: string): boolean {
  const date = /^(\d{4}-\d{2}-\d{2})/.exec(apiVersion)?.[1];
  return date === undefined || date >= '2024-09-01';
}

/**
 * Answers up to this size are read by the kernel, whose memory grows to the largest it was
 * given and stays so; a longer one (tens of thousands of tokens) is parsed.
 */
const KERNEL_ANSWER_BYTES = 256 * 1024;
