// Gemini on Google AI Studio: generateContent and streamGenerateContent under /v1beta, the
// key in the x-goog-api-key header and never in the URL, where proxies and access logs
// would keep it (ai.google.dev/api#authentication).

import { ACCEPT_ENCODING, type AdapterFactory } from '../adapter.js';
import { createGeminiChatAdapter, USER_AGENT } from './chat-adapter.js';

export const createGeminiAdapter: AdapterFactory = (init) => {
  const url = new URL(init.baseUrl);
  // The base URL may stop at the host or name the API version itself.
  const base = url.pathname.replace(/\/+$/, '');
  const versioned = /\/v1(beta|alpha)?$/.test(base) ? base : `${base}/v1beta`;

  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'accept-encoding': ACCEPT_ENCODING,
    'user-agent': USER_AGENT,
    ...init.provider.headers,
  };
  if (init.apiKey) headers['x-goog-api-key'] = init.apiKey;

  return createGeminiChatAdapter({
    providerId: init.provider.id,
    origin: url.origin,
    path: (target, stream) =>
      `${versioned}/models/${encodeURIComponent(target.replace(/^models\//, ''))}` +
      (stream ? ':streamGenerateContent?alt=sse' : ':generateContent'),
    headers,
    credentialHeaders: ['x-goog-api-key', 'authorization'],
    secrets: init.apiKey ? [init.apiKey] : [],
    maxStreamEventBytes: init.maxStreamEventBytes,
    clock: init.clock,
  });
};
