// Response header names as lower-case strings without decoding them: the names providers
// send on every answer are matched byte by byte (case-insensitively) against a table and
// come back as one shared string each. A decode and a lower-casing per header was a
// measurable share of reading an answer, and OpenAI sends about twenty headers.

import { NameTable } from '../bytes.js';
import { RATE_LIMIT_HEADER_NAMES } from '../health/rate-limit-headers.js';

const COMMON = [
  'access-control-allow-origin',
  'access-control-expose-headers',
  'alt-svc',
  'anthropic-organization-id',
  'anthropic-ratelimit-input-tokens-limit',
  'anthropic-ratelimit-input-tokens-remaining',
  'anthropic-ratelimit-input-tokens-reset',
  'anthropic-ratelimit-output-tokens-limit',
  'anthropic-ratelimit-output-tokens-remaining',
  'anthropic-ratelimit-output-tokens-reset',
  'anthropic-ratelimit-requests-limit',
  'anthropic-ratelimit-requests-remaining',
  'anthropic-ratelimit-requests-reset',
  'anthropic-ratelimit-tokens-limit',
  'anthropic-ratelimit-tokens-remaining',
  'anthropic-ratelimit-tokens-reset',
  'cache-control',
  'cf-cache-status',
  'cf-ray',
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'date',
  'keep-alive',
  'openai-organization',
  'openai-processing-ms',
  'openai-project',
  'openai-version',
  'request-id',
  'retry-after',
  'retry-after-ms',
  'server',
  'set-cookie',
  'strict-transport-security',
  'transfer-encoding',
  'vary',
  'via',
  'x-amzn-requestid',
  'x-content-type-options',
  'x-envoy-upstream-service-time',
  'x-goog-request-id',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
  'x-request-id',
];

const NAMES = new NameTable(COMMON.map((name) => [name, name] as const));

/** A header name as read off the wire, in lower case. */
export function headerName(raw: Buffer): string {
  return NAMES.find(raw, 0, raw.length, true) ?? raw.toString('latin1').toLowerCase();
}

/** Each provider names its own request id header; the first one present wins. */
export const REQUEST_ID_HEADERS: readonly string[] = [
  'x-request-id',
  'request-id',
  'x-amzn-requestid',
  'x-goog-request-id',
];

/**
 * The headers the sidecar reads from an answer (a 2xx): the provider's request id, the
 * rate-limit headroom, and the content type, which must be a stream's when one was asked for
 * (about 50 ns a request to decode its value, timed over three million). An error answer's
 * headers are all read: its classifier may want any.
 */
const ANSWER = new NameTable(
  [...REQUEST_ID_HEADERS, ...RATE_LIMIT_HEADER_NAMES, 'content-type'].map(
    (name) => [name, name] as const,
  ),
);

/** The answer header name `raw` spells (in any case), or undefined when no reader wants it. */
export function answerHeaderName(raw: Buffer): string | undefined {
  return ANSWER.find(raw, 0, raw.length, true);
}
