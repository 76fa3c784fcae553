// What to do after a failed attempt: move along the chain or answer the client now.

import { readRetryAfterMs } from '../health/rate-limit-headers.js';
import type { UpstreamFailure } from '../providers/adapter.js';

export type Decision =
  /** Try the next endpoint. */
  | { kind: 'next'; reason: string }
  /** Try only endpoints whose context window is larger than this one's. */
  | { kind: 'larger_context'; reason: string }
  /** The request itself is at fault: every endpoint would refuse it. */
  | { kind: 'return'; reason: string };

/** HTTP statuses that say "this endpoint, now" rather than "this request". */
const ENDPOINT_STATUSES = new Set([401, 403, 404, 408, 409, 425, 429, 500, 502, 503, 504, 529]);

export function decide(failure: UpstreamFailure, failoverOnStatus?: ReadonlySet<number>): Decision {
  const reason = failure.detail ?? failure.code;
  switch (failure.code) {
    case 'GW_ERR_UPSTREAM_UNREACHABLE':
    case 'GW_ERR_UPSTREAM_TIMEOUT':
    case 'GW_ERR_STREAM_INTERRUPTED':
    case 'GW_ERR_UPSTREAM_BAD_RESPONSE':
      // Below HTTP, or a broken answer: nothing the client did.
      return { kind: 'next', reason };
    case 'GW_ERR_INTERNAL':
      // The sidecar could not send the request (undici refused it): no endpoint failed, and
      // the next would most likely be sent the same request.
      return { kind: 'return', reason };
    default:
      break;
  }

  const status = upstreamStatus(failure);
  if (failoverOnStatus !== undefined && failoverOnStatus.size > 0 && status !== undefined) {
    return failoverOnStatus.has(status) ? { kind: 'next', reason } : { kind: 'return', reason };
  }
  if (failure.code === 'GW_ERR_UPSTREAM_CONTEXT_LENGTH') return { kind: 'larger_context', reason };
  if (failure.code === 'GW_ERR_UPSTREAM_BAD_REQUEST') return { kind: 'return', reason };
  if (failure.code === 'GW_ERR_STREAM_UPSTREAM_ERROR') return { kind: 'next', reason };
  if (status !== undefined && ENDPOINT_STATUSES.has(status)) return { kind: 'next', reason };
  if (failure.status >= 500 || failure.status === 429) return { kind: 'next', reason };
  return { kind: 'return', reason };
}

/** The provider's own status, when the failure came from one (`http_429:...`). */
export function upstreamStatus(failure: UpstreamFailure): number | undefined {
  if (failure.upstreamStatus !== undefined) return failure.upstreamStatus;
  const m = /^http_(\d{3})/.exec(failure.detail ?? '');
  return m === null ? undefined : Number(m[1]);
}

/**
 * Retry-After (seconds or an HTTP date, RFC 9110 §10.2.3) in milliseconds from now, read by
 * the same parser as the health table's rate-limit headers, so a circuit and a score never
 * disagree about one header.
 */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = readRetryAfterMs({ 'retry-after': value }, now);
  return ms === undefined ? undefined : Math.round(ms);
}
