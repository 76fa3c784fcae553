// The closed catalogue of errors a client can receive. Codes are stable: a retired code is
// never reused. test/errors.test.ts keeps this list and the README's table in sync.

export interface ErrorSpec {
  readonly status: number;
  /** OpenAI envelope `type`. */
  readonly type: string;
  /** gRPC status name, for the control plane. */
  readonly grpc: string;
  readonly summary: string;
}

export const ERRORS = {
  GW_ERR_REQ_INVALID_JSON: {
    status: 400,
    type: 'invalid_request_error',
    grpc: 'INVALID_ARGUMENT',
    summary: 'The request body is not valid JSON, or not UTF-8 (which JSON must be, RFC 8259).',
  },
  GW_ERR_REQ_INVALID_FIELD: {
    status: 400,
    type: 'invalid_request_error',
    grpc: 'INVALID_ARGUMENT',
    summary: 'A field has the wrong type or value; `param` names it.',
  },
  GW_ERR_REQ_MISSING_FIELD: {
    status: 400,
    type: 'invalid_request_error',
    grpc: 'INVALID_ARGUMENT',
    summary: 'A required field is absent; `param` names it.',
  },
  GW_ERR_REQ_UNSUPPORTED_PARAM: {
    status: 400,
    type: 'invalid_request_error',
    grpc: 'INVALID_ARGUMENT',
    summary: 'The parameter is not supported by the endpoint serving this model.',
  },
  GW_ERR_REQ_BAD_HEADER: {
    status: 400,
    type: 'invalid_request_error',
    grpc: 'INVALID_ARGUMENT',
    summary: 'A header value contains CR or LF or is otherwise unusable.',
  },
  GW_ERR_REQ_BODY_TOO_LARGE: {
    status: 413,
    type: 'invalid_request_error',
    grpc: 'RESOURCE_EXHAUSTED',
    summary: 'The request body is larger than limits.max_body_bytes.',
  },
  GW_ERR_ROUTE_NOT_FOUND: {
    status: 404,
    type: 'invalid_request_error',
    grpc: 'NOT_FOUND',
    summary: 'No such path.',
  },
  GW_ERR_ROUTE_METHOD_NOT_ALLOWED: {
    status: 405,
    type: 'invalid_request_error',
    grpc: 'UNIMPLEMENTED',
    summary: 'The path exists but not for this HTTP method.',
  },
  GW_ERR_MODEL_NOT_FOUND: {
    status: 404,
    type: 'invalid_request_error',
    grpc: 'NOT_FOUND',
    summary: 'The requested model is not configured on this sidecar.',
  },
  GW_ERR_ROUTE_ALL_DOWN: {
    status: 503,
    type: 'api_error',
    grpc: 'UNAVAILABLE',
    summary:
      "Every endpoint of the model's chain is cooling down after failures; the message says until when.",
  },
  GW_ERR_AUTH_MISSING_KEY: {
    status: 401,
    type: 'authentication_error',
    grpc: 'UNAUTHENTICATED',
    summary: 'No `Authorization: Bearer` key was sent and this sidecar requires one.',
  },
  GW_ERR_AUTH_INVALID_KEY: {
    status: 401,
    type: 'authentication_error',
    grpc: 'UNAUTHENTICATED',
    summary: 'The bearer key is not one of the configured keys.',
  },
  GW_ERR_UPSTREAM_BAD_REQUEST: {
    status: 400,
    type: 'invalid_request_error',
    grpc: 'INVALID_ARGUMENT',
    summary: 'The provider rejected the request as invalid (413 when it was too large for it).',
  },
  GW_ERR_UPSTREAM_CONTEXT_LENGTH: {
    status: 400,
    type: 'invalid_request_error',
    grpc: 'INVALID_ARGUMENT',
    summary: "The prompt is longer than the model's context window.",
  },
  GW_ERR_UPSTREAM_AUTH: {
    status: 502,
    type: 'api_error',
    grpc: 'UNAVAILABLE',
    summary:
      "The provider refused the credential: the sidecar's own (a gateway fault, 502), or one you passed in an x-pass-* header (401, type authentication_error).",
  },
  GW_ERR_UPSTREAM_PERMISSION: {
    status: 403,
    type: 'permission_error',
    grpc: 'PERMISSION_DENIED',
    summary: 'The provider denied access to this model or feature.',
  },
  GW_ERR_UPSTREAM_NOT_FOUND: {
    status: 404,
    type: 'invalid_request_error',
    grpc: 'NOT_FOUND',
    summary: 'The provider does not know the model or deployment.',
  },
  GW_ERR_UPSTREAM_RATE_LIMITED: {
    status: 429,
    type: 'rate_limit_error',
    grpc: 'RESOURCE_EXHAUSTED',
    summary: 'The provider is rate limiting; Retry-After is passed on when it sent one.',
  },
  GW_ERR_UPSTREAM_OVERLOADED: {
    status: 503,
    type: 'api_error',
    grpc: 'UNAVAILABLE',
    summary: 'The provider is overloaded.',
  },
  GW_ERR_UPSTREAM_ERROR: {
    status: 502,
    type: 'api_error',
    grpc: 'UNAVAILABLE',
    summary: 'The provider failed with a server error.',
  },
  GW_ERR_UPSTREAM_UNREACHABLE: {
    status: 502,
    type: 'api_error',
    grpc: 'UNAVAILABLE',
    summary: 'The provider could not be reached (connect error or reset).',
  },
  GW_ERR_UPSTREAM_TIMEOUT: {
    status: 504,
    type: 'api_error',
    grpc: 'DEADLINE_EXCEEDED',
    summary: 'The provider did not answer within the configured timeout.',
  },
  GW_ERR_UPSTREAM_BAD_RESPONSE: {
    status: 502,
    type: 'api_error',
    grpc: 'INTERNAL',
    summary:
      'The provider answered with something that is not a valid response (such as a non-stream content type to a stream request, or an answer cut off mid-body), or with a redirect (never followed).',
  },
  GW_ERR_STREAM_INTERRUPTED: {
    status: 502,
    type: 'api_error',
    grpc: 'UNAVAILABLE',
    summary: 'The provider stream ended before it finished; sent as a terminal SSE error event.',
  },
  GW_ERR_STREAM_UPSTREAM_ERROR: {
    status: 502,
    type: 'api_error',
    grpc: 'UNAVAILABLE',
    summary: 'The provider sent an error event inside the stream.',
  },
  GW_ERR_SERVER_DRAINING: {
    status: 503,
    type: 'api_error',
    grpc: 'UNAVAILABLE',
    summary: 'The sidecar is shutting down and accepts no new requests.',
  },
  GW_ERR_INTERNAL: {
    status: 500,
    type: 'api_error',
    grpc: 'INTERNAL',
    summary: 'A bug in the sidecar; the request id in the log tells which.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** A failure that leaves the sidecar as an OpenAI error envelope. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly param: string | null;
  readonly status: number;
  /** Extra response headers (Retry-After). */
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: {
      param?: string | null;
      cause?: unknown;
      status?: number;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.param = opts.param ?? null;
    this.status = opts.status ?? ERRORS[code].status;
    this.headers = opts.headers;
  }

  get type(): string {
    // A code may leave with another status than its own: GW_ERR_UPSTREAM_AUTH is a 401 when
    // the refused credential was the caller's (x-pass-*). A 401's type is the one OpenAI
    // gives a 401, whatever the code's own.
    return this.status === 401 ? 'authentication_error' : ERRORS[this.code].type;
  }

  /** The client-facing envelope: never the cause, never upstream bodies. */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string } } {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }
}
