// Vertex AI: Gemini models under publishers/google (the Gemini bodies, so the Gemini
// translators), and Anthropic models under publishers/anthropic (rawPredict with the
// Anthropic body), both with an OAuth access token the sidecar mints from a service account.
// cloud.google.com/vertex-ai/generative-ai/docs/reference/rest;
// cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude

import {
  ACCEPT_ENCODING,
  type AdapterFactory,
  type ChatAdapter,
  type ChatCall,
  type StreamDecoder,
} from '../adapter.js';
import { createGeminiChatAdapter, USER_AGENT } from '../gemini/chat-adapter.js';
import { AccessTokenSource, type FormPoster } from './access-token.js';
import { createClaudeOnVertex, isAnthropicBody, isClaudeModel } from './anthropic-on-vertex.js';
import { loadServiceAccount } from './service-account.js';
import { EVENT_STREAM } from '../stream-content-type.js';
import { SniffingStreamDecoder } from './sniffing-stream.js';

const DEFAULT_CREDENTIALS_ENV = 'GOOGLE_APPLICATION_CREDENTIALS';

/** `post` replaces the token exchange's HTTP call (unit tests). */
export function vertexAdapterFactory(post?: FormPoster): AdapterFactory {
  return (init) => {
    const { provider } = init;
    const fail = (why: string): never => {
      throw new Error(`provider "${provider.id}": ${why}`);
    };
    if (!provider.project) {
      fail('the vertex protocol needs `project` (the Google Cloud project id)');
    }
    const envName = provider.credentialsEnv || DEFAULT_CREDENTIALS_ENV;
    const keyPath = init.env[envName];
    if (!keyPath) fail(`${envName} must name a service-account key file`);

    const tokens = new AccessTokenSource({
      providerId: provider.id,
      account: loadServiceAccount(keyPath as string, provider.id),
      clock: init.clock,
      post,
    });
    const url = new URL(init.baseUrl);
    const location = provider.region || 'global';
    const modelPath = (publisher: string, model: string) =>
      `${url.pathname.replace(/\/+$/, '')}/v1/projects/${segment(provider.project)}` +
      `/locations/${segment(location)}/publishers/${publisher}/models/${segment(model)}`;

    const shared = {
      providerId: provider.id,
      origin: url.origin,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'accept-encoding': ACCEPT_ENCODING,
        'user-agent': USER_AGENT,
        ...provider.headers,
      },
      credential: async () => ({ authorization: `Bearer ${await tokens.token()}` }),
      credentialHeaders: ['authorization'],
      secrets: [],
      maxStreamEventBytes: init.maxStreamEventBytes,
      clock: init.clock,
      onAuthRejected: () => tokens.invalidate(),
    };
    const gemini = createGeminiChatAdapter({
      path: (target, stream) =>
        modelPath('google', target) +
        (stream ? ':streamGenerateContent?alt=sse' : ':generateContent'),
      ...shared,
    });
    const claude = createClaudeOnVertex({
      path: (target, stream) =>
        modelPath('anthropic', target) + (stream ? ':streamRawPredict' : ':rawPredict'),
      ...shared,
    });
    return combine(gemini, claude);
  };
}

export const createVertexAdapter: AdapterFactory = vertexAdapterFactory();

/**
 * One provider, two wire formats: the target model decides. classifyError is given no call,
 * so an error body is recognised by its own shape; so is an answer when no call is given.
 */
function combine(gemini: ChatAdapter, claude: ChatAdapter): ChatAdapter {
  const forCall = (call: ChatCall) => (isClaudeModel(call.target) ? claude : gemini);
  const forBody = (body: Buffer) => (isAnthropicBody(body) ? claude : gemini);
  return {
    buildChat: (call) => forCall(call).buildChat(call),
    parseChat: (body, call) => (call ? forCall(call) : forBody(body)).parseChat(body, call),
    openStream: (call): StreamDecoder =>
      call
        ? forCall(call).openStream(call)
        : new SniffingStreamDecoder(
            () => gemini.openStream(),
            () => claude.openStream(),
          ),
    classifyError: (status, headers, body) => forBody(body).classifyError(status, headers, body),
    // Both formats are SSE (streamGenerateContent with alt=sse, streamRawPredict).
    streamContentType: EVENT_STREAM,
  };
}

/** A path segment; `@` stays as is, as in Vertex's versioned partner model ids. */
function segment(value: string): string {
  return encodeURIComponent(value).replace(/%40/g, '@');
}
