import type { UpstreamFailure, UpstreamHeaders } from '../adapter.js';
import { firstHeader, isContextLengthMessage, scrubMessage } from '../failures.js';

// Bedrock names its errors in the `x-amzn-errortype` header ("ThrottlingException:http://...")
// with `{"message": "..."}` as the body; inside a ConverseStream the same names arrive as
// `:exception-type` headers, lower-camel-cased. Sources: the Converse and ConverseStream API
// references (errors and ConverseStreamOutput), and "Troubleshooting Amazon Bedrock API Error
// Codes" in the Bedrock user guide.

export interface ClassifyContext {
  providerId: string;
  /** Credential material to mask if a message ever quotes it. */
  secrets: readonly string[];
}

/** Errors that mean AWS refused the sidecar's own credential or signature. */
const AUTH_TYPES = new Set([
  'accessdeniedexception',
  'unrecognizedclientexception',
  'invalidsignatureexception',
  'incompletesignature',
  'incompletesignatureexception',
  'invalidclienttokenid',
  'missingauthenticationtoken',
  'missingauthenticationtokenexception',
  'expiredtokenexception',
  'signaturedoesnotmatch',
]);

/** Maps a non-2xx Converse/ConverseStream answer. */
export function classifyBedrockError(
  status: number,
  headers: UpstreamHeaders,
  body: Buffer,
  ctx: ClassifyContext,
): UpstreamFailure {
  const type = errorType(headers, body);
  return classify(type, status, readMessage(body), ctx, firstHeader(headers, 'retry-after'));
}

/** Maps an exception frame (`:message-type: exception`) found inside a 200 ConverseStream. */
export function classifyStreamException(
  type: string,
  payload: Uint8Array,
  ctx: ClassifyContext,
): UpstreamFailure {
  return classify(type, 200, readMessage(payload), ctx);
}

function classify(
  type: string,
  status: number,
  upstreamMessage: string,
  ctx: ClassifyContext,
  retryAfter?: string,
): UpstreamFailure {
  const name = type.toLowerCase();
  const text = scrubMessage(upstreamMessage, ctx.secrets);
  // The type comes from a header or the body: the provider's text, like the message.
  const named = scrubMessage(type, ctx.secrets) || `HTTP ${status}`;
  const message = text
    ? `Provider "${ctx.providerId}": ${text}`
    : `Provider "${ctx.providerId}" answered ${named}.`;
  const detail = `${status === 200 ? 'stream' : `http_${status}`}:${type || 'unknown'}`;
  const upstreamStatus = status === 200 ? IN_STREAM_STATUS[name] : status;
  // Spread last in each failure below: a literal that opens with a spread costs a new hidden
  // class every time (see revised() in ../failures.ts). No key of base is set twice.
  const base = { detail, upstreamStatus };

  if (AUTH_TYPES.has(name) || (!name && (status === 401 || status === 403))) {
    // The message may quote the canonical request or the key id; it stays in no client reply.
    return {
      code: 'GW_ERR_UPSTREAM_AUTH',
      status: 502,
      message: `Provider "${ctx.providerId}" rejected the credential configured for it.`,
      ...base,
    };
  }
  switch (name) {
    case 'validationexception':
      return isContextLengthMessage(text)
        ? { code: 'GW_ERR_UPSTREAM_CONTEXT_LENGTH', status: 400, message, ...base }
        : { code: 'GW_ERR_UPSTREAM_BAD_REQUEST', status: 400, message, ...base };
    case 'resourcenotfoundexception':
      return { code: 'GW_ERR_UPSTREAM_NOT_FOUND', status: 404, message, ...base };
    case 'throttlingexception':
    case 'servicequotaexceededexception':
      return { code: 'GW_ERR_UPSTREAM_RATE_LIMITED', status: 429, message, retryAfter, ...base };
    case 'serviceunavailableexception':
    case 'modelnotreadyexception':
      return { code: 'GW_ERR_UPSTREAM_OVERLOADED', status: 503, message, retryAfter, ...base };
    case 'modeltimeoutexception':
      return { code: 'GW_ERR_UPSTREAM_TIMEOUT', status: 504, message, ...base };
    case 'modelstreamerrorexception':
      return { code: 'GW_ERR_STREAM_UPSTREAM_ERROR', status: 502, message, ...base };
    case 'internalserverexception':
    case 'modelerrorexception':
      return { code: 'GW_ERR_UPSTREAM_ERROR', status: 502, message, ...base };
  }
  return byStatus(status, base, message, retryAfter);
}

/** An unnamed error: fall back on what the HTTP status says. */
function byStatus(
  status: number,
  base: { detail: string; upstreamStatus?: number },
  message: string,
  retryAfter?: string,
): UpstreamFailure {
  if (status === 429) {
    return { code: 'GW_ERR_UPSTREAM_RATE_LIMITED', status, message, retryAfter, ...base };
  }
  if (status === 503) {
    return { code: 'GW_ERR_UPSTREAM_OVERLOADED', status, message, retryAfter, ...base };
  }
  if (status === 408 || status === 504) {
    return { code: 'GW_ERR_UPSTREAM_TIMEOUT', status: 504, message, ...base };
  }
  if (status === 404) return { code: 'GW_ERR_UPSTREAM_NOT_FOUND', status, message, ...base };
  if (status >= 400 && status < 500) {
    return { code: 'GW_ERR_UPSTREAM_BAD_REQUEST', status: 400, message, ...base };
  }
  // A 200 stream's unknown exception, or a 5xx.
  const code = status === 200 ? 'GW_ERR_STREAM_UPSTREAM_ERROR' : 'GW_ERR_UPSTREAM_ERROR';
  return { code, status: 502, message, ...base };
}

/** The HTTP status each in-stream exception stands for (ConverseStreamOutput reference). */
const IN_STREAM_STATUS: Record<string, number | undefined> = {
  validationexception: 400,
  throttlingexception: 429,
  internalserverexception: 500,
  modelstreamerrorexception: 424,
  serviceunavailableexception: 503,
  modeltimeoutexception: 408,
};

function errorType(headers: UpstreamHeaders, body: Buffer): string {
  // "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"
  const fromHeader = firstHeader(headers, 'x-amzn-errortype')?.split(':')[0].trim();
  if (fromHeader) return fromHeader;
  try {
    const parsed = JSON.parse(body.toString()) as { __type?: unknown };
    // awsJson-style bodies carry "namespace#Type".
    return typeof parsed.__type === 'string' ? (parsed.__type.split('#').pop() ?? '') : '';
  } catch {
    return '';
  }
}

function readMessage(body: Uint8Array): string {
  try {
    const json = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString(); // no copy
    const parsed = JSON.parse(json) as Record<string, unknown>;
    const message = parsed.message ?? parsed.Message;
    return typeof message === 'string' ? message : '';
  } catch {
    return '';
  }
}
