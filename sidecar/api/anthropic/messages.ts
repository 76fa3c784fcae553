// POST /anthropic/v1/messages: clients of the Anthropic API reach any configured model. The
// request is translated to the canonical OpenAI body and runs through the chat handler; the
// answer is translated back by AnthropicReply. Every failure leaves in Anthropic's envelope.

import { requireIdentity, type KeyRing } from '../../auth/keys.js';
import { failRequest } from '../../http/respond.js';
import type { HttpReply, HttpRequest } from '../../http/types.js';
import type { Logger } from '../../observe/logger.js';
import { handleChat, type ChatDeps } from '../chat.js';
import type { RequestContext } from '../context.js';
import { AnthropicReply } from './anthropic-reply.js';
import { anthropicToOpenAI } from './anthropic-to-openai.js';

export interface AnthropicDeps extends ChatDeps {
  keys: KeyRing;
  logger: Logger;
}

/** The client's own credentials: the sidecar key, never sent on to a provider. */
const CLIENT_KEYS = new Set(['x-api-key', 'authorization']);

export async function handleAnthropicMessages(
  req: HttpRequest,
  reply: HttpReply,
  ctx: RequestContext,
  deps: AnthropicDeps,
): Promise<void> {
  let anthropic = new AnthropicReply({ reply, ctx, model: '', stopSequences: [] });
  try {
    authenticate(req, ctx, deps.keys);
    const translated = anthropicToOpenAI(req.body);
    anthropic = new AnthropicReply({
      reply,
      ctx,
      model: translated.model,
      stopSequences: translated.stopSequences,
    });
    await handleChat(canonical(req, translated.body), anthropic, ctx, deps);
  } catch (err) {
    failRequest(anthropic, ctx, err, deps.logger);
  }
}

/**
 * The Anthropic SDKs send the key as `x-api-key` (or, given an auth token, as a bearer
 * token); both name the same sidecar key as the OpenAI routes' bearer token.
 */
function authenticate(req: HttpRequest, ctx: RequestContext, keys: KeyRing): void {
  const apiKey = req.headers.get('x-api-key');
  ctx.identity = requireIdentity(
    keys,
    apiKey !== undefined ? `Bearer ${apiKey}` : req.headers.get('authorization'),
    'Send your modelgate API key as "x-api-key: <key>" or "Authorization: Bearer <key>".',
  );
}

/** The request as the chat handler takes it: canonical body, client credentials removed. */
function canonical(req: HttpRequest, body: object): HttpRequest {
  const headers = new Map<string, string>();
  for (const [name, value] of req.headers) if (!CLIENT_KEYS.has(name)) headers.set(name, value);
  return {
    method: req.method,
    path: req.path,
    query: req.query,
    headers,
    body: Buffer.from(JSON.stringify(body)),
  };
}
