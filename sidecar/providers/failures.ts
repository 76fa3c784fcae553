// Maps transport-level errors (connect refused, reset, timeouts) to client-facing failures.
// Upstream HTTP statuses are the adapters' to classify; this is what happens below HTTP.

import type { UpstreamFailure, UpstreamHeaders } from './adapter.js';

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  // the HTTP transport's own first-byte and idle clocks (UpstreamTimeoutError); it gives
  // undici no headers or body timeout of its own
  'FIRST_BYTE_TIMEOUT',
  'IDLE_TIMEOUT',
]);

/**
 * A copy of `failure` with `changes` made. Not `{ ...failure, ...}`: on Node 20 an object
 * literal that opens with a spread and then gains a property builds a new hidden class
 * every time (about 0.4 µs a property, and a map for the old generation's collector),
 * which a burst of failures would pay per request. test/spread-first.test.ts
 * keeps such literals out of sidecar/, but for two files that copy the client's JSON.
 */
export function revised(
  failure: UpstreamFailure,
  changes: Partial<UpstreamFailure>,
): UpstreamFailure {
  return Object.assign({}, failure, changes);
}

/**
 * undici's refusals of the request itself, raised before a byte is sent (a header value or
 * name it will not write, a header it does not support): the sidecar built a request it
 * cannot send, which says nothing about the provider.
 */
const REFUSED_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

export function transportFailure(err: unknown, providerId: string): UpstreamFailure {
  const code = (err as { code?: string } | null)?.code ?? '';
  const name = (err as { name?: string } | null)?.name ?? '';
  if (REFUSED_CODES.has(code)) return refusedRequest(err as Error, code, providerId);
  if (TIMEOUT_CODES.has(code) || name === 'TimeoutError') {
    return {
      code: 'GW_ERR_UPSTREAM_TIMEOUT',
      status: 504,
      message: `Provider "${providerId}" did not answer in time.`,
      detail: code || name,
    };
  }
  return {
    code: 'GW_ERR_UPSTREAM_UNREACHABLE',
    status: 502,
    message: `Provider "${providerId}" could not be reached.`,
    detail: code || name || 'error',
  };
}

/**
 * A GW_ERR_INTERNAL: the walk neither fails over nor counts it against the endpoint. undici's
 * message names the header or field ("invalid authorization header"), never its value.
 */
function refusedRequest(err: Error, code: string, providerId: string): UpstreamFailure {
  return {
    code: 'GW_ERR_INTERNAL',
    status: 500,
    message: `The sidecar built a request to provider "${providerId}" that could not be sent.`,
    detail: `request_refused:${code}:${err.message}`,
  };
}

/**
 * An error while reading the body of an answer whose headers came: a closed or reset
 * connection there is an answer the provider cut off (short of its Content-Length or last
 * chunk), not a provider that could not be reached. Timeouts keep their own failure.
 */
export function cutAnswer(err: unknown, providerId: string): UpstreamFailure {
  const failure = transportFailure(err, providerId);
  if (failure.code !== 'GW_ERR_UPSTREAM_UNREACHABLE') return failure;
  return {
    code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    status: 502,
    message: `Provider "${providerId}" closed the connection before its answer was complete.`,
    detail: `answer_cut:${failure.detail}`,
  };
}

/** Matches the provider phrasings of "your prompt does not fit" (OpenAI, vLLM, sglang). */
const CONTEXT_PATTERNS = [
  /context[_ ]length/i,
  /maximum context/i,
  /context window/i,
  // Anthropic (and Claude on Bedrock and Vertex) when input + max_tokens overflow the window.
  /exceed context limit/i,
  /longer than the model'?s? context/i,
  /prompt is too long/i,
  /input is too long/i,
  /too many tokens/i,
];

export function isContextLengthMessage(message: string): boolean {
  return CONTEXT_PATTERNS.some((re) => re.test(message));
}

/** Key shapes of the vendors a provider might quote; a global twin does the masking. */
const KEY_SHAPE = /\b(sk|pk|rk|gsk|xai|key)[-_][A-Za-z0-9_*\-]{6,}/;
const KEY_SHAPES = new RegExp(KEY_SHAPE.source, 'g');
const BEARER = /Bearer\s+\S/i;
const BEARERS = /Bearer\s+\S+/gi;
/**
 * Google's OAuth access tokens (what Vertex is sent, minted at run time, so in no list of
 * configured secrets): `ya29.` and the token.
 */
const GOOGLE_TOKEN = /\bya29\.[A-Za-z0-9_.\-]{6,}/;
const GOOGLE_TOKENS = new RegExp(GOOGLE_TOKEN.source, 'g');

/** A configured or passed secret shorter than this is not searched for: it would mask noise. */
const MIN_SECRET_CHARS = 4;

/**
 * Provider messages may quote part of a credential ("Incorrect API key provided: sk-ab***").
 * Anything shaped like a key is masked before a message reaches a client or a log.
 */
export function scrubMessage(message: string, secrets: readonly string[] = []): string {
  return maskSecrets(message, secrets)
    .replace(KEY_SHAPES, '$1-***')
    .replace(GOOGLE_TOKENS, 'ya29.***')
    .replace(BEARERS, 'Bearer ***')
    .slice(0, 2000);
}

/** `text` with every occurrence of each of `secrets` replaced by `***`. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_CHARS || !out.includes(secret)) continue;
    out = out.split(secret).join('***');
  }
  return out;
}

/**
 * Whether scrubMessage would change `text`, bar its length cap: one search per secret and
 * three regular-expression tests, no allocation. For values that are almost always clean.
 */
export function mayHoldSecret(text: string, secrets: readonly string[]): boolean {
  for (const secret of secrets) {
    if (secret.length >= MIN_SECRET_CHARS && text.includes(secret)) return true;
  }
  return KEY_SHAPE.test(text) || BEARER.test(text) || GOOGLE_TOKEN.test(text);
}

/** A 200 whose body is not what the provider documents; `what` says what came instead. */
export function badResponse(providerId: string, what: string): UpstreamFailure {
  return {
    code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    status: 502,
    message: `Provider "${providerId}" answered with ${what}.`,
    detail: 'bad_body',
  };
}

/** An SSE event whose data is not a JSON object (the OpenAI and Anthropic stream decoders). */
export function badFrame(providerId: string): UpstreamFailure {
  return {
    code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    status: 502,
    message: `Provider "${providerId}" sent a stream event that is not JSON.`,
    detail: 'stream:not_json',
  };
}

/** The first value of a response header (Node gives repeated headers as an array). */
export function firstHeader(headers: UpstreamHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
