// Anthropic models on Vertex AI: the Anthropic Messages body without `model` (the URL names
// it) and with `anthropic_version: "vertex-2023-10-16"`, sent to :rawPredict or
// :streamRawPredict; answers and streams are Anthropic's own.
// cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude

import { GatewayError } from '../../errors.js';
import type { ChatAdapter } from '../adapter.js';
import type { GeminiAdapterOptions } from '../gemini/chat-adapter.js';

export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

export type ClaudeOnVertexOptions = Omit<GeminiAdapterOptions, 'path'> & {
  path(target: string, stream: boolean): string;
};

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

// TODO(issue-3): sidecar/providers/anthropic/ does not export its translators yet; until it
// does, Anthropic models on Vertex are refused before any call.
export function createClaudeOnVertex(opts: ClaudeOnVertexOptions): ChatAdapter {
  const refuse = (): never => {
    throw new GatewayError(
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      `Provider "${opts.providerId}": Anthropic models on Vertex AI are not supported yet.`,
      { param: 'model' },
    );
  };
  return {
    buildChat: refuse,
    parseChat: refuse,
    openStream: refuse,
    classifyError: refuse,
  };
}
