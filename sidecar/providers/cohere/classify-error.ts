// Cohere's failures mapped to what the client sees. Statuses and example messages come from
// https://docs.cohere.com/reference/errors and the v2 spec: error bodies are
// `{"id": "...", "message": "..."}`.

import type { UpstreamFailure, UpstreamHeaders } from '../adapter.js';
import { firstHeader, isContextLengthMessage, scrubMessage } from '../failures.js';

export interface CohereErrorContext {
  providerId: string;
  secrets: readonly string[];
}

/** The `message` of a Cohere error body; '' when the body is not one. */
export function cohereErrorMessage(body: Buffer | string): string {
  try {
    const parsed = JSON.parse(body.toString()) as { message?: unknown; error?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
    if (typeof parsed.error === 'string') return parsed.error;
    return '';
  } catch {
    return '';
  }
}

/**
 * "too many tokens: ..." covers both an over-long prompt and a max_tokens above the model's
 * output limit; only the first is a context-window problem that a larger model could solve.
 */
function isContextLength(message: string): boolean {
  if (/max tokens must be/i.test(message)) return false;
  return /^too many tokens/i.test(message) || isContextLengthMessage(message);
}

export function classifyCohereError(
  status: number,
  headers: UpstreamHeaders,
  body: Buffer,
  ctx: CohereErrorContext,
): UpstreamFailure {
  const upstream = cohereErrorMessage(body);
  const message = upstream
    ? `Provider "${ctx.providerId}": ${scrubMessage(upstream, ctx.secrets)}`
    : `Provider "${ctx.providerId}" answered HTTP ${status}.`;
  // The provider's own status travels along for failover rules (failover_on_status).
  const detail = `http_${status}`;
  const upstreamStatus = status;
  const retryAfter = firstHeader(headers, 'retry-after');

  switch (status) {
    case 401:
      // Our own credential was refused: an operator problem, and the text may quote the key.
      return {
        code: 'GW_ERR_UPSTREAM_AUTH',
        status: 502,
        message: `Provider "${ctx.providerId}" rejected the credential configured for it.`,
        detail,
        upstreamStatus,
      };
    case 402:
      // The account hit its billing limit: like OpenAI's insufficient_quota, a 429 that
      // another provider can absorb, though waiting will not lift it.
      return {
        code: 'GW_ERR_UPSTREAM_RATE_LIMITED',
        status: 429,
        message,
        retryAfter,
        detail,
        upstreamStatus,
      };
    case 403:
      return { code: 'GW_ERR_UPSTREAM_PERMISSION', status: 403, message, detail, upstreamStatus };
    case 404:
      return { code: 'GW_ERR_UPSTREAM_NOT_FOUND', status: 404, message, detail, upstreamStatus };
    case 429:
      return {
        code: 'GW_ERR_UPSTREAM_RATE_LIMITED',
        status: 429,
        message,
        retryAfter,
        detail,
        upstreamStatus,
      };
    case 503:
      return {
        code: 'GW_ERR_UPSTREAM_OVERLOADED',
        status: 503,
        message,
        retryAfter,
        detail,
        upstreamStatus,
      };
    case 408:
    case 504:
      return { code: 'GW_ERR_UPSTREAM_TIMEOUT', status: 504, message, detail, upstreamStatus };
  }
  // 499 "request cancelled" without us cancelling is Cohere's side giving up: a server fault.
  if ((status >= 500 && status !== 501) || status === 499) {
    return { code: 'GW_ERR_UPSTREAM_ERROR', status: 502, message, detail, upstreamStatus };
  }
  if (isContextLength(upstream)) {
    return { code: 'GW_ERR_UPSTREAM_CONTEXT_LENGTH', status: 400, message, detail, upstreamStatus };
  }
  // 400, 422 (malformed), 498 (a deny-listed token in the request) and 501 (a feature the
  // model does not offer) are all about this request: another try would fail the same way.
  return { code: 'GW_ERR_UPSTREAM_BAD_REQUEST', status: 400, message, detail, upstreamStatus };
}

/** A generation that ended in Cohere's ERROR or TIMEOUT finish reason. */
export function failedGeneration(
  reason: 'ERROR' | 'TIMEOUT',
  upstream: string,
  ctx: CohereErrorContext,
  midStream: boolean,
): UpstreamFailure {
  const text = upstream ? `: ${scrubMessage(upstream, ctx.secrets)}` : '.';
  const where = midStream ? ' mid-stream' : '';
  if (reason === 'TIMEOUT') {
    return {
      code: 'GW_ERR_UPSTREAM_TIMEOUT',
      status: 504,
      message: `Provider "${ctx.providerId}" stopped the generation at its time limit${text}`,
      detail: 'finish:TIMEOUT',
    };
  }
  return {
    code: midStream ? 'GW_ERR_STREAM_UPSTREAM_ERROR' : 'GW_ERR_UPSTREAM_ERROR',
    status: 502,
    message: `Provider "${ctx.providerId}" failed${where}${text}`,
    detail: 'finish:ERROR',
  };
}
