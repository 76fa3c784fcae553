import { randomUUID } from 'node:crypto';
import type { Usage } from '../providers/adapter.js';
import type { HttpRequest } from '../http/types.js';
import type { Identity } from '../auth/keys.js';
import type { Price } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { costMicroUsd } from '../cost/price.js';

/** How a request ended, for the log line (the HTTP status alone hides stream failures). */
export type Outcome =
  | 'ok'
  | 'rejected'
  | 'upstream_error'
  | 'stream_error'
  | 'stream_interrupted'
  | 'client_aborted'
  | 'internal_error';

export interface AttemptRecord {
  endpoint: string;
  ms: number;
  /** 'ok', or what failed (upstream status, timeout, ...). */
  result: string;
  /** For failures: 'next', 'larger_context' or 'return'. */
  decision?: string;
}

const REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

/** What one request accumulates on its way through; becomes its single log line. */
export class RequestContext {
  readonly requestId: string;
  readonly startedAt = performance.now();
  status = 0;
  outcome: Outcome = 'ok';
  identity: Identity | undefined;
  model: string | undefined;
  endpoint: string | undefined;
  provider: string | undefined;
  usage: Usage | undefined;
  price: Price | undefined;
  ttftMs: number | undefined;
  errorCode: string | undefined;
  errorDetail: string | undefined;
  upstreamRequestId: string | undefined;
  stream = false;
  readonly attempts: AttemptRecord[] = [];

  constructor(readonly req: HttpRequest) {
    const given = req.headers.get('x-request-id');
    this.requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
  }

  elapsedMs(): number {
    return Math.round((performance.now() - this.startedAt) * 10) / 10;
  }

  /** The allow-listed fields of the request's log line. */
  logFields(): Record<string, unknown> {
    return {
      request_id: this.requestId,
      method: this.req.method,
      path: this.req.path,
      status: this.status,
      outcome: this.outcome,
      latency_ms: this.elapsedMs(),
      ttft_ms: this.ttftMs,
      stream: this.stream || undefined,
      key_id: this.identity?.keyId,
      project: this.identity?.project,
      team: this.identity?.team,
      model: this.model,
      provider: this.provider,
      endpoint: this.endpoint,
      prompt_tokens: this.usage?.promptTokens,
      completion_tokens: this.usage?.completionTokens,
      total_tokens: this.usage?.totalTokens,
      cached_tokens: this.usage?.cachedTokens || undefined,
      cache_write_tokens: this.usage?.cacheWriteTokens || undefined,
      reasoning_tokens: this.usage?.reasoningTokens || undefined,
      cost_micro_usd: this.usage && costMicroUsd(this.usage, this.price),
      error_code: this.errorCode,
      error_detail: this.errorDetail,
      upstream_request_id: this.upstreamRequestId,
      attempts: this.attempts.length || undefined,
      failovers: this.attempts.length > 1 ? this.attempts.slice(0, -1) : undefined,
    };
  }
}
