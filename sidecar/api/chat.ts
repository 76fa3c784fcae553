import { GatewayError } from '../errors.js';
import type { ChatCall, UpstreamFailure, UpstreamResponse } from '../providers/adapter.js';
import { transportFailure } from '../providers/failures.js';
import { sendError, sendJson } from '../http/respond.js';
import type { HeaderList, HttpReply, HttpRequest } from '../http/types.js';
import type { Endpoint, ModelTable } from '../routing/model-table.js';
import { SseEventTooLargeError } from '../stream/sse-parser.js';
import { parseChatRequest, type ChatRequest } from './chat-request.js';
import { StreamRelay } from './chat-stream.js';
import type { RequestContext } from './context.js';
import { readPassHeaders } from './pass-headers.js';

export interface ChatLimits {
  requestTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  /** A non-streamed upstream answer larger than this is refused, not buffered. */
  maxResponseBytes: number;
}

export interface ChatDeps {
  models: ModelTable;
  limits: ChatLimits;
}

const ERROR_BODY_BYTES = 64 * 1024;

export async function handleChat(
  req: HttpRequest,
  reply: HttpReply,
  ctx: RequestContext,
  deps: ChatDeps,
): Promise<void> {
  const chat = parseChatRequest(req.body);
  ctx.model = chat.model;
  ctx.stream = chat.stream;
  const endpoint = deps.models.resolve(chat.model);
  if (endpoint === undefined) {
    throw new GatewayError(
      'GW_ERR_MODEL_NOT_FOUND',
      `The model '${chat.model}' is not configured on this sidecar (GET /v1/models lists them).`,
      { param: 'model' },
    );
  }
  ctx.endpoint = endpoint.id;
  ctx.provider = endpoint.provider.id;
  ctx.price = endpoint.price;

  const call: ChatCall = {
    raw: req.body,
    body: chat.body,
    model: chat.model,
    target: endpoint.target,
    stream: chat.stream,
    passHeaders: readPassHeaders(req.headers),
  };
  const abort = new AbortController();
  reply.onAbort(() => abort.abort());
  const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(deps.limits.requestTimeoutMs)]);

  // Translation problems surface here as GatewayErrors (4xx), before any upstream call.
  const upstreamRequest = await endpoint.provider.adapter.buildChat(call);
  let res: UpstreamResponse;
  try {
    res = await endpoint.provider.transport.request(upstreamRequest, {
      signal,
      firstByteTimeoutMs: deps.limits.firstByteTimeoutMs,
      idleTimeoutMs: deps.limits.idleTimeoutMs,
    });
  } catch (err) {
    return fail(
      reply,
      ctx,
      aborted(reply, ctx) ? undefined : transportFailure(err, endpoint.provider.id),
    );
  }
  ctx.upstreamRequestId = header(res.headers['x-request-id']);

  if (res.status < 200 || res.status >= 300) {
    const body = await readBody(res, ERROR_BODY_BYTES, true).catch(() => Buffer.alloc(0));
    return fail(reply, ctx, endpoint.provider.adapter.classifyError(res.status, res.headers, body));
  }
  const headers = servedBy(endpoint);
  if (chat.stream) return relay(res, reply, ctx, chat, endpoint, headers);

  let body: Buffer;
  try {
    body = await readBody(res, deps.limits.maxResponseBytes, false);
  } catch (err) {
    if (aborted(reply, ctx)) return;
    return fail(
      reply,
      ctx,
      err instanceof TooLarge ? tooLarge(endpoint) : transportFailure(err, endpoint.provider.id),
    );
  }
  const parsed = endpoint.provider.adapter.parseChat(body);
  if ('code' in parsed) return fail(reply, ctx, parsed);
  ctx.usage = parsed.usage;
  sendJson(reply, ctx, 200, parsed.bytes, headers);
}

async function relay(
  res: UpstreamResponse,
  reply: HttpReply,
  ctx: RequestContext,
  chat: ChatRequest,
  endpoint: Endpoint,
  served: HeaderList,
): Promise<void> {
  const decoder = endpoint.provider.adapter.openStream();
  const relay = new StreamRelay({
    reply,
    ctx,
    headers: [
      ['content-type', 'text/event-stream; charset=utf-8'],
      ['cache-control', 'no-cache'],
      ['x-request-id', ctx.requestId],
      ...served,
    ],
    clientWantsUsage: chat.includeUsage,
    choices: chat.n,
  });

  try {
    for await (const bytes of res.body) {
      for (const item of decoder.push(bytes)) await relay.handle(item);
      if (relay.ended || reply.aborted) break;
    }
    if (!relay.ended && !reply.aborted) {
      const { items, cut } = decoder.end();
      for (const item of items) await relay.handle(item);
      await relay.upstreamEnded(cut);
    }
  } catch (err) {
    if (aborted(reply, ctx)) return;
    const failure =
      err instanceof SseEventTooLargeError
        ? { code: err.code, status: err.status, message: err.message, detail: 'event_too_large' }
        : transportFailure(err, endpoint.provider.id);
    await relay.fail(
      failure.code === 'GW_ERR_UPSTREAM_UNREACHABLE'
        ? {
            ...failure,
            code: 'GW_ERR_STREAM_INTERRUPTED',
            message: 'The provider stream broke off before the answer was complete.',
          }
        : failure,
    );
  } finally {
    if (!relay.ended || reply.aborted) res.discard();
    if (reply.aborted) ctx.outcome = 'client_aborted';
  }
}

function servedBy(endpoint: Endpoint): HeaderList {
  return [
    ['x-modelgate-endpoint', endpoint.id],
    ['x-modelgate-attempts', '1'],
  ];
}

function fail(reply: HttpReply, ctx: RequestContext, failure: UpstreamFailure | undefined): void {
  if (failure === undefined) return;
  ctx.outcome = 'upstream_error';
  ctx.errorDetail = failure.detail;
  sendError(reply, ctx, failure);
}

function aborted(reply: HttpReply, ctx: RequestContext): boolean {
  if (reply.aborted) ctx.outcome = 'client_aborted';
  return reply.aborted;
}

class TooLarge extends Error {}

function tooLarge(endpoint: Endpoint): UpstreamFailure {
  return {
    code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    status: 502,
    message: `Provider "${endpoint.provider.id}" answered with a body larger than the sidecar accepts.`,
    detail: 'response_too_large',
  };
}

/** Reads a body up to a limit: truncating (error bodies) or refusing (answers). */
async function readBody(res: UpstreamResponse, limit: number, truncate: boolean): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.length;
    if (size > limit) {
      res.discard();
      if (!truncate) throw new TooLarge();
      chunks.push(chunk.subarray(0, chunk.length - (size - limit)));
      size = limit;
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
