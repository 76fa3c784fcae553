import type { UpstreamFailure, UpstreamHeaders } from '../adapter.js';
import { firstHeader, isContextLengthMessage, scrubMessage } from '../failures.js';

// Anthropic's errors (https://docs.anthropic.com/en/api/errors) arrive as
// `{"type":"error","error":{"type":...,"message":...}}`, either with an HTTP status or, once
// a stream has started, as an `error` event. Both map through the status the type stands
// for, so an overloaded_error reads the same either way (G22).

export interface ClassifyContext {
  providerId: string;
  secrets: readonly string[];
}

/** The HTTP status each documented error type is sent with. */
const STATUS_OF_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

interface ErrorBody {
  type: string;
  message: string;
}

export function readAnthropicError(payload: unknown): ErrorBody {
  const err = (payload as { error?: { type?: unknown; message?: unknown } } | null)?.error;
  return {
    type: typeof err?.type === 'string' ? err.type : '',
    message: typeof err?.message === 'string' ? err.message : '',
  };
}

export function classifyAnthropicError(
  status: number,
  headers: UpstreamHeaders,
  body: Buffer,
  ctx: ClassifyContext,
): UpstreamFailure {
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString());
  } catch {
    payload = undefined; // a proxy's HTML page, or nothing
  }
  const err = readAnthropicError(payload);
  const retryAfter = firstHeader(headers, 'retry-after');
  return failureFor(status, err, { ctx, retryAfter, detail: `http_${status}` });
}

/** An `error` event inside a 200 stream. */
export function classifyAnthropicStreamError(
  payload: unknown,
  ctx: ClassifyContext,
): UpstreamFailure {
  const err = readAnthropicError(payload);
  const status = STATUS_OF_TYPE[err.type];
  if (status === undefined) {
    return {
      code: 'GW_ERR_STREAM_UPSTREAM_ERROR',
      status: 502,
      message: withText(`Provider "${ctx.providerId}" failed mid-stream`, err, ctx),
      detail: `stream:${err.type || 'error'}`,
    };
  }
  return failureFor(status, err, { ctx, detail: 'stream' });
}

interface FailureContext {
  ctx: ClassifyContext;
  retryAfter?: string;
  detail: string;
}

function failureFor(status: number, err: ErrorBody, fc: FailureContext): UpstreamFailure {
  const { ctx, retryAfter } = fc;
  const detail = `${fc.detail}${err.type ? `:${err.type}` : ''}`;
  const message = err.message
    ? withText(`Provider "${ctx.providerId}"`, err, ctx)
    : `Provider "${ctx.providerId}" answered HTTP ${status}.`;
  // The status first: a literal that opens with a spread costs a new hidden class (revised()).
  const f = (failure: Omit<UpstreamFailure, 'upstreamStatus'>): UpstreamFailure => ({
    upstreamStatus: status,
    ...failure,
  });

  if (status === 401) {
    // The sidecar's own key was refused: an operator fault, and the text may quote the key.
    return f({
      code: 'GW_ERR_UPSTREAM_AUTH',
      status: 502,
      message: `Provider "${ctx.providerId}" rejected the credential configured for it.`,
      detail,
    });
  }
  // A billing problem is the account's, like a permission the key does not have.
  if (status === 402 || status === 403) {
    return f({ code: 'GW_ERR_UPSTREAM_PERMISSION', status: 403, message, detail });
  }
  if (status === 404) return f({ code: 'GW_ERR_UPSTREAM_NOT_FOUND', status, message, detail });
  if (status === 408 || status === 504) {
    return f({ code: 'GW_ERR_UPSTREAM_TIMEOUT', status: 504, message, detail });
  }
  if (status === 429) {
    return f({ code: 'GW_ERR_UPSTREAM_RATE_LIMITED', status, message, retryAfter, detail });
  }
  if (status === 503 || status === 529) {
    return f({ code: 'GW_ERR_UPSTREAM_OVERLOADED', status: 503, message, retryAfter, detail });
  }
  if (status >= 500) return f({ code: 'GW_ERR_UPSTREAM_ERROR', status: 502, message, detail });
  if (isContextLengthMessage(err.message)) {
    return f({ code: 'GW_ERR_UPSTREAM_CONTEXT_LENGTH', status: 400, message, detail });
  }
  // 413 request_too_large keeps its status: the body was too big, not malformed.
  return f({
    code: 'GW_ERR_UPSTREAM_BAD_REQUEST',
    status: status === 413 ? 413 : 400,
    message,
    detail,
  });
}

function withText(prefix: string, err: ErrorBody, ctx: ClassifyContext): string {
  return err.message ? `${prefix}: ${scrubMessage(err.message, ctx.secrets)}` : `${prefix}.`;
}
