import type { RequestContext } from '../api/context.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { UpstreamFailure } from '../providers/adapter.js';
import type { HeaderList, HttpReply } from './types.js';

const JSON_TYPE = 'application/json';

export function sendJson(
  reply: HttpReply,
  ctx: RequestContext,
  status: number,
  body: string | Uint8Array,
  extra: HeaderList = [],
): void {
  ctx.status = status;
  reply.send(
    status,
    [['content-type', JSON_TYPE], ['x-request-id', ctx.requestId], ...extra],
    body,
  );
}

/** Sends a failure in the OpenAI error envelope. Upstream bodies never get here. */
export function sendError(
  reply: HttpReply,
  ctx: RequestContext,
  err: GatewayError | UpstreamFailure,
  extra: HeaderList = [],
): void {
  const failure = err instanceof GatewayError ? err : toGatewayError(err);
  ctx.errorCode = failure.code;
  const headers: (readonly [string, string])[] = [...extra];
  for (const [name, value] of Object.entries(failure.headers ?? {})) headers.push([name, value]);
  sendJson(reply, ctx, failure.status, JSON.stringify(failure), headers);
}

export function toGatewayError(f: UpstreamFailure): GatewayError {
  return new GatewayError(f.code, f.message, {
    param: f.param ?? null,
    status: f.status,
    headers: f.retryAfter === undefined ? undefined : { 'retry-after': f.retryAfter },
  });
}

/**
 * How a route's handler failure leaves: a GatewayError in the error envelope (the request
 * was refused unless something already said otherwise); anything else is a bug, logged
 * with its stack and answered with GW_ERR_INTERNAL, which names only the request id.
 */
export function failRequest(
  reply: HttpReply,
  ctx: RequestContext,
  err: unknown,
  logger: Logger,
): void {
  if (err instanceof GatewayError) {
    if (ctx.outcome === 'ok') ctx.outcome = 'rejected';
    sendError(reply, ctx, err);
    return;
  }
  ctx.outcome = 'internal_error';
  logger.error('unhandled error', {
    request_id: ctx.requestId,
    error: err instanceof Error ? err.stack : String(err),
  });
  sendError(
    reply,
    ctx,
    new GatewayError('GW_ERR_INTERNAL', `Internal error (request ${ctx.requestId}).`),
  );
}
