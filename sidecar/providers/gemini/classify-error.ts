// Google API errors (Gemini, Vertex AI) mapped to what the client sees. The body is the
// google.rpc.Status shape, `{"error": {code, message, status, details}}`
// (cloud.google.com/apis/design/errors); Vertex streaming endpoints wrap it in an array.

import type { UpstreamFailure, UpstreamHeaders } from '../adapter.js';
import { firstHeader, isContextLengthMessage, revised, scrubMessage } from '../failures.js';

export interface GoogleError {
  code?: number;
  message: string;
  status: string;
  details: Record<string, unknown>[];
}

export interface ClassifyContext {
  providerId: string;
  secrets: readonly string[];
}

// "The input token count (1054016) exceeds the maximum number of tokens allowed (1048576)."
const CONTEXT_LENGTH = /input token count.*exceeds|exceeds the maximum number of tokens/i;
// Gemini says 400 INVALID_ARGUMENT, not 401, to a bad key; a missing one is 403.
const KEY_PROBLEM = /API key|unregistered callers|api_key:/i;
const GOOGLE_API_KEY = /AIza[0-9A-Za-z_-]{20,}/g;

/** Reads a google.rpc.Status body; empty fields when the body is something else. */
export function readGoogleError(body: Buffer | string): GoogleError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString());
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed)) parsed = parsed[0];
  const err = (parsed as { error?: unknown } | undefined)?.error;
  if (typeof err !== 'object' || err === null) return { message: '', status: '', details: [] };
  const e = err as Record<string, unknown>;
  return {
    code: typeof e.code === 'number' ? e.code : undefined,
    message: typeof e.message === 'string' ? e.message : '',
    status: typeof e.status === 'string' ? e.status : '',
    details: Array.isArray(e.details) ? (e.details as Record<string, unknown>[]) : [],
  };
}

export function classifyGoogleError(
  status: number,
  headers: UpstreamHeaders,
  body: Buffer | string,
  ctx: ClassifyContext,
): UpstreamFailure {
  return classifyStatus(status, readGoogleError(body), ctx, firstHeader(headers, 'retry-after'));
}

/** An error object found inside a 200 stream, classified by the code it carries. */
export function classifyStreamError(err: GoogleError, ctx: ClassifyContext): UpstreamFailure {
  const failure = classifyStatus(err.code ?? 500, err, ctx, undefined);
  if (failure.code !== 'GW_ERR_UPSTREAM_ERROR') return failure;
  return revised(failure, {
    code: 'GW_ERR_STREAM_UPSTREAM_ERROR',
    detail: `stream:${failure.detail}`,
  });
}

function classifyStatus(
  status: number,
  err: GoogleError,
  ctx: ClassifyContext,
  retryAfterHeader: string | undefined,
): UpstreamFailure {
  const text = scrubMessage(err.message.replace(GOOGLE_API_KEY, '***'), ctx.secrets);
  const message = text
    ? `Provider "${ctx.providerId}": ${text}`
    : `Provider "${ctx.providerId}" answered HTTP ${status}.`;
  const detail = `http_${status}${err.status ? `:${err.status}` : ''}`;
  const reasons = err.details.map((d) => d.reason).filter((r) => typeof r === 'string');

  const keyRejected =
    status === 401 ||
    err.status === 'UNAUTHENTICATED' ||
    reasons.some((r) => /^API_KEY_/.test(r as string)) ||
    ((status === 400 || status === 403) && KEY_PROBLEM.test(err.message));
  if (keyRejected) {
    // The provider refused the sidecar's own credential: an operator problem, and the
    // upstream text may quote part of the key.
    return {
      code: 'GW_ERR_UPSTREAM_AUTH',
      status: 502,
      message: `Provider "${ctx.providerId}" rejected the credential configured for it.`,
      detail,
    };
  }
  if (status === 403 || err.status === 'PERMISSION_DENIED') {
    return { code: 'GW_ERR_UPSTREAM_PERMISSION', status: 403, message, detail };
  }
  if (status === 404 || err.status === 'NOT_FOUND') {
    return { code: 'GW_ERR_UPSTREAM_NOT_FOUND', status: 404, message, detail };
  }
  if (status === 429 || err.status === 'RESOURCE_EXHAUSTED') {
    const retryAfter = retryAfterHeader ?? retryDelaySeconds(err);
    return { code: 'GW_ERR_UPSTREAM_RATE_LIMITED', status: 429, message, retryAfter, detail };
  }
  if (status === 503 || err.status === 'UNAVAILABLE') {
    return { code: 'GW_ERR_UPSTREAM_OVERLOADED', status: 503, message: ownMessage(ctx), detail };
  }
  if (status === 504 || status === 408 || err.status === 'DEADLINE_EXCEEDED') {
    return { code: 'GW_ERR_UPSTREAM_TIMEOUT', status: 504, message: ownMessage(ctx), detail };
  }
  if (status >= 500) {
    return { code: 'GW_ERR_UPSTREAM_ERROR', status: 502, message: ownMessage(ctx), detail };
  }
  if (CONTEXT_LENGTH.test(err.message) || isContextLengthMessage(err.message)) {
    return { code: 'GW_ERR_UPSTREAM_CONTEXT_LENGTH', status: 400, message, detail };
  }
  return { code: 'GW_ERR_UPSTREAM_BAD_REQUEST', status: 400, message, detail };
}

/** Server failures get the sidecar's own words: their text helps no client. */
function ownMessage(ctx: ClassifyContext): string {
  return `Provider "${ctx.providerId}" failed with a server error.`;
}

/** google.rpc.RetryInfo `retryDelay` ("31s", "0.5s") as whole Retry-After seconds. */
function retryDelaySeconds(err: GoogleError): string | undefined {
  for (const d of err.details) {
    const delay = d.retryDelay;
    if (typeof delay !== 'string') continue;
    const seconds = Number.parseFloat(delay);
    if (Number.isFinite(seconds)) return String(Math.max(1, Math.ceil(seconds)));
  }
  return undefined;
}
