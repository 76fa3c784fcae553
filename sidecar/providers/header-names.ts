// Response header names as lower-case strings without decoding them: the names providers
// send on every answer are matched byte by byte (case-insensitively) against a table and
// come back as one shared string each. A decode and a lower-casing per header was a
// measurable share of reading an answer, and OpenAI sends about twenty headers.

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

/** The common names by length: [bytes, name] pairs. */
const BY_LENGTH: [Uint8Array, string][][] = [];
for (const name of COMMON) (BY_LENGTH[name.length] ??= []).push([Buffer.from(name), name]);

/** A header name as read off the wire, in lower case. */
export function headerName(raw: Buffer): string {
  const candidates = BY_LENGTH[raw.length];
  if (candidates !== undefined) {
    for (const [bytes, name] of candidates) if (sameIgnoringCase(raw, bytes)) return name;
  }
  return raw.toString('latin1').toLowerCase();
}

/** `lower` is in lower case; an upper-case ASCII letter in `raw` matches its lower case. */
function sameIgnoringCase(raw: Uint8Array, lower: Uint8Array): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = raw[i];
    if (c !== lower[i] && !(c >= 0x41 && c <= 0x5a && c + 0x20 === lower[i])) return false;
  }
  return true;
}
