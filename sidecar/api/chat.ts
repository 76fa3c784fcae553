// A chat request walks its route's chain: each attempt either answers, or fails before
// anything reached the client (then the failure decides whether the next endpoint may
// try), or fails after the commit point (then the client already has an error event).

import { GatewayError } from '../errors.js';
import type { ChatCall, UpstreamFailure } from '../providers/adapter.js';
import { Cancel } from '../providers/cancel.js';
import { sendError } from '../http/respond.js';
import type { HttpReply, HttpRequest } from '../http/types.js';
import type { HealthEvent, HealthOutcome } from '../health/health-kernel.js';
import { parseRateLimitHeaders } from '../health/rate-limit-headers.js';
import type { Metrics } from '../observe/metrics.js';
import type { Breakers } from '../routing/breaker.js';
import type { HealthRouter } from '../routing/health-router.js';
import type { Endpoint, ModelTable, Route } from '../routing/model-table.js';
import { decide, retryAfterMs, type Decision } from '../routing/outcome.js';
import { attempt, type AttemptOutcome } from './chat-attempt.js';
import { parseChatRequest, type ChatRequest } from './chat-request.js';
import type { RequestContext } from './context.js';
import { readPassHeaders } from './pass-headers.js';

/** nginx's status for a request whose client closed the connection before the answer. */
const CLIENT_CLOSED_REQUEST = 499;

export interface ChatDeps {
  models: ModelTable;
  breakers: Breakers;
  health: HealthRouter;
  metrics: Metrics;
  clock: () => number;
  /** A non-streamed upstream answer larger than this is refused, not buffered. */
  maxResponseBytes: number;
  /**
   * The flags of the chat requests in flight. A drain that runs out of time aborts them
   * ('draining'), so that a stream still open ends with an error event, not a cut.
   */
  live: Set<Cancel>;
}

export async function handleChat(
  req: HttpRequest,
  reply: HttpReply,
  ctx: RequestContext,
  deps: ChatDeps,
): Promise<void> {
  const chat = parseChatRequest(req.body);
  ctx.model = chat.model;
  ctx.stream = chat.stream;
  const route = deps.models.resolve(chat.model);
  if (route === undefined) {
    throw new GatewayError(
      'GW_ERR_MODEL_NOT_FOUND',
      `The model '${chat.model}' is not configured on this sidecar (GET /v1/models lists them).`,
      { param: 'model' },
    );
  }
  const passHeaders = readPassHeaders(req.headers);
  if (passHeaders.length > 0 && route.chain.length > 1) {
    // A caller's own credential must reach only the provider it was meant for.
    throw new GatewayError(
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      `x-pass-* headers cannot be used with '${chat.model}': it is a failover chain, and ` +
        'they would reach every provider in it.',
      { param: 'x-pass-*' },
    );
  }

  // One flag for the request: the client leaving or the total deadline aborts it.
  const request = new Cancel();
  reply.onAbort(() => request.abort('client'));
  const total = setTimeout(() => request.abort('total'), route.timeouts.totalMs);
  deps.live.add(request);
  try {
    await walkChain(req, reply, ctx, deps, { chat, route, passHeaders, deadline: request });
  } finally {
    clearTimeout(total);
    deps.live.delete(request);
  }
}

interface Walk {
  chat: ChatRequest;
  route: Route;
  passHeaders: [string, string][];
  deadline: Cancel;
}

async function walkChain(
  req: HttpRequest,
  reply: HttpReply,
  ctx: RequestContext,
  deps: ChatDeps,
  { chat, route, passHeaders, deadline }: Walk,
): Promise<void> {
  let last: UpstreamFailure | undefined;
  let tried = 0;
  let minContext = 0;
  const order = route.ordered ? route.chain : deps.health.order(route.chain);
  for (const endpoint of order) {
    if (tried >= route.maxAttempts || deadline.aborted) break;
    if (minContext > 0 && !((endpoint.contextWindow ?? 0) > minContext)) continue;
    // Circuits gate only real chains: with nowhere else to go, the client is better served
    // by the provider's own answer than by a 503 from us.
    if (route.chain.length > 1 && !deps.breakers.admits(endpoint.id, deps.clock())) continue;

    tried++;
    ctx.endpoint = endpoint.id;
    ctx.provider = endpoint.provider.id;
    ctx.price = endpoint.price;
    const call: ChatCall = {
      raw: req.body,
      body: chat.body,
      modelKeyAt: chat.modelKeyAt,
      model: chat.model,
      target: endpoint.target,
      stream: chat.stream,
      passHeaders,
    };
    const started = deps.clock();
    let outcome: AttemptOutcome;
    try {
      outcome = await attempt({
        endpoint,
        call,
        chat,
        reply,
        ctx,
        timeouts: route.timeouts,
        deadline,
        served: [
          ['x-modelgate-endpoint', endpoint.id],
          ['x-modelgate-attempts', String(tried)],
        ],
        maxResponseBytes: deps.maxResponseBytes,
      });
    } catch (err) {
      // A bug, not the endpoint's failure nor its success: the circuit is released, or a
      // half-open one would wait for this probe forever and never admit the endpoint again.
      deps.breakers.released(endpoint.id);
      throw err;
    }
    const attemptMs = deps.clock() - started;
    const drained = deadline.aborted && deadline.reason === 'draining';
    if (drained && (outcome.kind === 'failed' || outcome.kind === 'broken')) {
      // The sidecar cut this attempt at its drain deadline: nothing the endpoint did.
      deps.breakers.released(endpoint.id);
      const result = outcome.failure.detail ?? outcome.failure.code;
      ctx.attempts.push({ endpoint: endpoint.id, ms: attemptMs, result, decision: 'return' });
      if (outcome.kind === 'broken') return;
      last = outcome.failure;
      break;
    }
    observe(deps, route, endpoint, outcome, attemptMs, ctx);

    if (outcome.kind === 'answered') {
      deps.breakers.succeeded(endpoint.id);
      ctx.attempts.push({ endpoint: endpoint.id, ms: attemptMs, result: 'ok' });
      return;
    }
    if (outcome.kind === 'aborted') {
      deps.breakers.released(endpoint.id);
      ctx.outcome = 'client_aborted';
      // Nothing was sent, so no status was: log nginx's 499, which log pipelines count as
      // the client's doing. A stream that had begun keeps the 200 its client was sent.
      if (ctx.status === 0) ctx.status = CLIENT_CLOSED_REQUEST;
      return;
    }

    const failure = outcome.failure;
    // The caller's own credential was refused: its fault, not the endpoint's, so the breaker
    // stays as it was and no other endpoint is tried (x-pass-* never has one anyway).
    const decision: Decision = outcome.callerCredential
      ? { kind: 'return', reason: failure.detail ?? failure.code }
      : decide(failure, route.failoverOnStatus);
    ctx.attempts.push({
      endpoint: endpoint.id,
      ms: attemptMs,
      result: failure.detail ?? failure.code,
      decision: decision.kind,
    });
    if (!route.dynamic) deps.metrics.failover(endpoint.id, decision.kind, failure.code);
    if (decision.kind === 'return') {
      deps.breakers.released(endpoint.id);
    } else {
      deps.breakers.failed(endpoint.id, deps.clock(), holdFor(failure, deps));
    }
    // After the commit point the client has its error event; no other endpoint may speak.
    if (outcome.kind === 'broken') return;

    last = failure;
    if (decision.kind === 'return') break;
    if (decision.kind === 'larger_context') minContext = endpoint.contextWindow ?? Infinity;
  }

  if (last === undefined) return allDown(reply, ctx, route, deps, tried);
  ctx.outcome = last.code === 'GW_ERR_INTERNAL' ? 'internal_error' : 'upstream_error';
  ctx.errorDetail = last.detail;
  sendError(reply, ctx, last, [['x-modelgate-attempts', String(tried)]]);
}

/** Every attempt is a health event for its endpoint and a count in /metrics. */
function observe(
  deps: ChatDeps,
  route: Route,
  endpoint: Endpoint,
  outcome: AttemptOutcome,
  attemptMs: number,
  ctx: RequestContext,
): void {
  if (outcome.kind === 'aborted') return;
  // A request the sidecar could not send says nothing about the endpoint's health.
  if (outcome.kind === 'failed' && outcome.failure.code === 'GW_ERR_INTERNAL') return;
  const result =
    outcome.kind === 'answered'
      ? 'ok'
      : outcome.callerCredential
        ? 'client_error'
        : healthOutcome(outcome.failure);
  // A pattern mints a new endpoint name per client-chosen model: counting those would let
  // clients grow our memory without bound, so only configured endpoints are tracked.
  if (route.dynamic) return;
  deps.metrics.attempt(endpoint.id, result);
  const event: HealthEvent = { outcome: result, latencyMs: attemptMs };
  if (outcome.ttftMs !== undefined) {
    event.ttftMs = outcome.ttftMs;
    event.streamMs = Math.max(0, attemptMs - outcome.ttftMs);
    event.outputTokens = outcome.kind === 'answered' ? ctx.usage?.completionTokens : undefined;
  }
  if (outcome.headers !== undefined) {
    event.rateLimit = parseRateLimitHeaders(outcome.headers, deps.clock());
  }
  deps.health.record(endpoint, event);
}

function healthOutcome(failure: UpstreamFailure): HealthOutcome {
  switch (failure.code) {
    case 'GW_ERR_UPSTREAM_RATE_LIMITED':
      return 'rate_limited';
    case 'GW_ERR_UPSTREAM_TIMEOUT':
      return 'timeout';
    case 'GW_ERR_UPSTREAM_UNREACHABLE':
      return 'connect_error';
    case 'GW_ERR_UPSTREAM_BAD_REQUEST':
    case 'GW_ERR_UPSTREAM_CONTEXT_LENGTH':
    case 'GW_ERR_UPSTREAM_NOT_FOUND':
    case 'GW_ERR_UPSTREAM_PERMISSION':
      return 'client_error';
    default:
      return 'server_error';
  }
}

/** A refused credential or a Retry-After opens the circuit at once, whatever the count. */
function holdFor(failure: UpstreamFailure, deps: ChatDeps): number | undefined {
  if (failure.code === 'GW_ERR_UPSTREAM_AUTH') return deps.breakers.cooldownMs;
  return retryAfterMs(failure.retryAfter, deps.clock());
}

/** No endpoint could even be tried: say which are cooling down and until when. */
function allDown(
  reply: HttpReply,
  ctx: RequestContext,
  route: Route,
  deps: ChatDeps,
  tried: number,
): void {
  const now = deps.clock();
  const states = route.chain.map((e) => {
    const until = deps.breakers.openUntil(e.id);
    const wait = Math.max(0, Math.ceil((until - now) / 1000));
    return until > now ? `${e.id} (retry in ${wait}s)` : `${e.id} (probe in flight)`;
  });
  ctx.outcome = 'upstream_error';
  sendError(
    reply,
    ctx,
    new GatewayError(
      'GW_ERR_ROUTE_ALL_DOWN',
      `Every endpoint for '${route.name}' is failing: ${states.join(', ')}.`,
    ),
    [['x-modelgate-attempts', String(tried)]],
  );
}
