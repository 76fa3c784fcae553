import type { UpstreamFailure, UpstreamHeaders } from '../adapter.js';
import { firstHeader, isContextLengthMessage, scrubMessage } from '../failures.js';

interface OpenAIErrorBody {
  message?: unknown;
  type?: unknown;
  code?: unknown;
  param?: unknown;
}

/**
 * Pulls `{error: {...}}` out of an OpenAI-style error body, tolerating non-JSON bodies. Without
 * an `error` member the fields are read at the top level, where Mistral puts them; its message
 * there, like the whole body of servers built on FastAPI, may be a validation `detail`.
 */
export function readErrorBody(body: Buffer | string): OpenAIErrorBody {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body.toString()) as Record<string, unknown>;
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const inner = errorOf(parsed.error);
  if (inner !== undefined) return inner;
  const top: OpenAIErrorBody = {
    message: parsed.message,
    type: parsed.type,
    code: parsed.code,
    param: parsed.param,
  };
  const message = parsed.message;
  const detail =
    typeof message === 'object' && message !== null
      ? (message as { detail?: unknown }).detail
      : message === undefined
        ? parsed.detail
        : undefined;
  const problems = validationDetail(detail);
  if (problems !== undefined) {
    top.message = problems.message;
    if (problems.param !== undefined) top.param = problems.param;
  }
  return top;
}

/** How many of a validation error's entries a message quotes. */
const MAX_DETAILS = 5;

/**
 * FastAPI's (pydantic's) validation detail, `[{loc, msg, type, input}]` or a bare string, as
 * one line: "stream_options.include_usage: Extra inputs are not permitted". Each entry's
 * `input` is left out: it echoes what the client sent, which can be a whole prompt. The
 * first entry's location, without the leading "body", is the param.
 */
function validationDetail(detail: unknown): { message: string; param?: string } | undefined {
  if (typeof detail === 'string' && detail !== '') return { message: detail };
  if (!Array.isArray(detail)) return undefined;
  const lines: string[] = [];
  let param: string | undefined;
  let found = 0;
  for (const entry of detail) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { loc, msg } = entry as { loc?: unknown; msg?: unknown };
    if (typeof msg !== 'string') continue;
    const path = Array.isArray(loc) ? loc.filter((part, i) => i > 0 || part !== 'body') : [];
    const where = path.every((p) => typeof p === 'string' || typeof p === 'number')
      ? path.join('.')
      : '';
    param ??= where || undefined;
    found += 1;
    if (lines.length < MAX_DETAILS) lines.push(where ? `${where}: ${msg}` : msg);
  }
  if (lines.length === 0) return undefined;
  const more = found - lines.length;
  return { message: lines.join('; ') + (more > 0 ? ` (and ${more} more)` : ''), param };
}

/** An `error` member as an error body: itself when an object, `{message}` when bare text. */
function errorOf(error: unknown): OpenAIErrorBody | undefined {
  if (typeof error === 'object' && error !== null) return error as OpenAIErrorBody;
  if (typeof error === 'string') return { message: error };
  return undefined;
}

/**
 * Whether a chunk's or an answer's `error` member reports a failure: an object or some text.
 * OpenRouter sends one beside `choices` (finish_reason "error"); some servers send
 * `"error": null` in every good chunk.
 */
export function isFailure(error: unknown): boolean {
  return (
    (typeof error === 'object' && error !== null) || (typeof error === 'string' && error !== '')
  );
}

export interface ClassifyContext {
  providerId: string;
  secrets: readonly string[];
}

/** Maps an upstream HTTP error status (and OpenAI error body) to what the client sees. */
export function classifyOpenAIError(
  status: number,
  headers: UpstreamHeaders,
  body: Buffer,
  ctx: ClassifyContext,
): UpstreamFailure {
  const err = readErrorBody(body);
  const upstreamMessage = typeof err.message === 'string' ? err.message : '';
  const message = upstreamMessage
    ? `Provider "${ctx.providerId}": ${scrubMessage(upstreamMessage, ctx.secrets)}`
    : `Provider "${ctx.providerId}" answered HTTP ${status}.`;
  const param = typeof err.param === 'string' ? err.param : null;
  const detail = `http_${status}${typeof err.code === 'string' ? `:${err.code}` : ''}`;
  const retryAfter = firstHeader(headers, 'retry-after');
  // The status first: a literal that opens with a spread costs a new hidden class (revised()).
  const f = (failure: Omit<UpstreamFailure, 'upstreamStatus'>): UpstreamFailure => ({
    upstreamStatus: status,
    ...failure,
  });

  if (status === 401) {
    // The upstream rejected the sidecar's own credential: an operator problem, not the
    // client's, and the upstream text may quote part of the key.
    return f({
      code: 'GW_ERR_UPSTREAM_AUTH',
      status: 502,
      message: `Provider "${ctx.providerId}" rejected the credential configured for it.`,
      detail,
    });
  }
  if (status === 403) return f({ code: 'GW_ERR_UPSTREAM_PERMISSION', status, message, detail });
  if (status === 404)
    return f({ code: 'GW_ERR_UPSTREAM_NOT_FOUND', status, message, param, detail });
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
  if (err.code === 'context_length_exceeded' || isContextLengthMessage(upstreamMessage)) {
    return f({ code: 'GW_ERR_UPSTREAM_CONTEXT_LENGTH', status: 400, message, param, detail });
  }
  // A 413 keeps its status (as Anthropic's request_too_large does): the body was too big
  // for the provider, or a proxy in front of it, not malformed.
  const client = status === 413 ? 413 : 400;
  return f({ code: 'GW_ERR_UPSTREAM_BAD_REQUEST', status: client, message, param, detail });
}

/**
 * Maps an `{"error": ...}` frame found inside a 200 stream, or the data of an `event: error`,
 * which may carry the error's fields at its top level instead.
 */
export function classifyStreamError(payload: unknown, ctx: ClassifyContext): UpstreamFailure {
  const err = errorOf((payload as { error?: unknown }).error) ?? (payload as OpenAIErrorBody);
  const code = typeof err.code === 'string' ? err.code : '';
  // OpenRouter numbers its errors as HTTP statuses.
  const status = typeof err.code === 'number' ? err.code : undefined;
  const type = typeof err.type === 'string' ? err.type : '';
  const text = typeof err.message === 'string' ? scrubMessage(err.message, ctx.secrets) : '';
  const message = `Provider "${ctx.providerId}" failed mid-stream${text ? `: ${text}` : '.'}`;
  const detail = `stream:${code || (status === undefined ? '' : String(status)) || type || 'error'}`;

  if (
    /rate_limit|insufficient_quota|too_many_requests/i.test(`${code} ${type}`) ||
    status === 429
  ) {
    return { code: 'GW_ERR_UPSTREAM_RATE_LIMITED', status: 429, message, detail };
  }
  if (code === 'context_length_exceeded' || isContextLengthMessage(text)) {
    return { code: 'GW_ERR_UPSTREAM_CONTEXT_LENGTH', status: 400, message, detail };
  }
  if (/invalid_request/i.test(type) || status === 400) {
    return { code: 'GW_ERR_UPSTREAM_BAD_REQUEST', status: 400, message, detail };
  }
  if (/overloaded/i.test(`${code} ${type}`) || status === 503 || status === 529) {
    return { code: 'GW_ERR_UPSTREAM_OVERLOADED', status: 503, message, detail };
  }
  return { code: 'GW_ERR_STREAM_UPSTREAM_ERROR', status: 502, message, detail };
}
