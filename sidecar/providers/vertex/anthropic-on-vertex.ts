// Anthropic models on Vertex AI: the Anthropic Messages body without `model` (the URL names
// it) and with `anthropic_version: "vertex-2023-10-16"`, sent to :rawPredict or
// :streamRawPredict; answers, streams and errors are Anthropic's own, so the Anthropic
// adapter's translators serve here unchanged.
// cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude

import type { ChatAdapter, ChatCall, JsonObject, UpstreamFailure } from '../adapter.js';
import {
  AnthropicStreamDecoder,
  anthropicToOpenAI,
  classifyAnthropicError,
  classifyAnthropicStreamError,
  openaiToAnthropic,
  type ClassifyContext,
} from '../anthropic/index.js';
import { upstreamRequest, type RequestTarget } from '../gemini/upstream-request.js';
import { EVENT_STREAM } from '../stream-content-type.js';

export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

export interface ClaudeOnVertexOptions extends RequestTarget {
  providerId: string;
  /** The path of rawPredict (or streamRawPredict) for a model. */
  path(target: string, stream: boolean): string;
  secrets: readonly string[];
  maxStreamEventBytes?: number;
  clock: () => number;
  onAuthRejected?: () => void;
}

/** Vertex names Anthropic's models `claude-...` (claude-sonnet-4@20250514). */
export function isClaudeModel(target: string): boolean {
  return target.startsWith('claude-');
}

/**
 * An Anthropic body (a message or an error) opens with "id" or "type"; Google's
 * GenerateContentResponse and google.rpc.Status never do. Only the first key is read.
 */
export function isAnthropicBody(body: Buffer): boolean {
  const key = /^\s*\{\s*"([^"]*)"/.exec(body.subarray(0, 256).toString('latin1'));
  return key !== null && (key[1] === 'type' || key[1] === 'id');
}

export function createClaudeOnVertex(opts: ClaudeOnVertexOptions): ChatAdapter {
  const ctx: ClassifyContext = { providerId: opts.providerId, secrets: opts.secrets };
  const seconds = () => Math.floor(opts.clock() / 1000);

  return {
    buildChat(call: ChatCall) {
      const { model: _model, ...rest } = openaiToAnthropic(call.body, call.target, {
        stream: call.stream,
      });
      const body = JSON.stringify({ anthropic_version: VERTEX_ANTHROPIC_VERSION, ...rest });
      return upstreamRequest(opts, call, opts.path(call.target, call.stream), body);
    },

    parseChat(body: Buffer) {
      let msg: JsonObject;
      try {
        msg = JSON.parse(body.toString()) as JsonObject;
      } catch {
        return badResponse(opts.providerId);
      }
      if (msg?.type === 'error') return classifyAnthropicStreamError(msg, ctx);
      if (msg?.type !== 'message' || !Array.isArray(msg.content))
        return badResponse(opts.providerId);
      const { completion, usage } = anthropicToOpenAI(msg, { created: seconds() });
      return { bytes: Buffer.from(JSON.stringify(completion)), usage };
    },

    openStream: () => new AnthropicStreamDecoder(ctx, seconds(), opts.maxStreamEventBytes),

    classifyError(status, headers, body) {
      const failure = classifyAnthropicError(status, headers, body, ctx);
      if (failure.code === 'GW_ERR_UPSTREAM_AUTH') opts.onAuthRejected?.();
      return failure;
    },

    streamContentType: EVENT_STREAM,
  };
}

function badResponse(providerId: string): UpstreamFailure {
  return {
    code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    status: 502,
    message: `Provider "${providerId}" answered with something that is not an Anthropic message.`,
    detail: 'bad_body',
  };
}
