// Anthropic's error envelope (https://docs.anthropic.com/en/api/errors):
// `{"type":"error","error":{"type":...,"message":...},"request_id":...}`. The Anthropic SDKs
// pick their exception class from the HTTP status and read `error.type` in stream events.

import { ERRORS, type ErrorCode } from '../../errors.js';

/** Anthropic's error type for an HTTP status; 504 is Anthropic's own `timeout_error`. */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
  }
  return status >= 500 ? 'api_error' : 'invalid_request_error';
}

export function anthropicErrorBody(status: number, message: string, requestId: string): string {
  return JSON.stringify({
    type: 'error',
    error: { type: anthropicErrorType(status), message },
    request_id: requestId,
  });
}

/**
 * The pieces of an OpenAI-envelope error the sidecar produced itself (`GatewayError.toJSON`),
 * with the status its code maps to when the envelope came without one (stream events).
 */
export function readGatewayError(payload: unknown): { message: string; status: number } {
  const error = (payload as { error?: { message?: unknown; code?: unknown } } | null)?.error;
  const message = typeof error?.message === 'string' ? error.message : 'The request failed.';
  const code = error?.code;
  const status =
    typeof code === 'string' && code in ERRORS ? ERRORS[code as ErrorCode].status : 502;
  return { message, status };
}
