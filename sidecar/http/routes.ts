// The one request handler the HTTP fronts call: request id, draining, routing, auth, the
// error envelope, and the single log line per request.

import { handleAnthropicMessages } from '../api/anthropic/messages.js';
import { handleChat, type ChatDeps } from '../api/chat.js';
import { RequestContext } from '../api/context.js';
import { getModel, listModels, modelIdStart } from '../api/models.js';
import { requireIdentity, type KeyRing } from '../auth/keys.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { failRequest, sendJson } from './respond.js';
import type { Handler, HttpReply, HttpRequest } from './types.js';

export interface RouteDeps extends ChatDeps {
  keys: KeyRing;
  logger: Logger;
  isDraining(): boolean;
}

type Route = (req: HttpRequest, reply: HttpReply, ctx: RequestContext) => void | Promise<void>;

interface RouteEntry {
  method: string;
  auth: boolean;
  run: Route;
}

export function createHandler(deps: RouteDeps): Handler {
  const chat: RouteEntry = {
    method: 'POST',
    auth: true,
    run: (req, reply, ctx) => handleChat(req, reply, ctx, deps),
  };
  const models: RouteEntry = {
    method: 'GET',
    auth: true,
    run: (_req, reply, ctx) => listModels(reply, ctx, deps.models),
  };
  const health: RouteEntry = {
    method: 'GET',
    auth: false,
    run: (_req, reply, ctx) => {
      if (!deps.isDraining()) return sendJson(reply, ctx, 200, '{"status":"ok"}');
      // What a probe should see during a drain: the same code as every refused request.
      ctx.outcome = 'rejected';
      ctx.errorCode = 'GW_ERR_SERVER_DRAINING';
      sendJson(reply, ctx, 503, '{"status":"draining"}');
    },
  };
  const oneModel: RouteEntry = {
    method: 'GET',
    auth: true,
    run: (req, reply, ctx) => getModel(req, reply, ctx, deps.models),
  };
  const anthropic: RouteEntry = {
    method: 'POST',
    auth: false, // the handler authenticates: it also takes the key as x-api-key
    run: (req, reply, ctx) => handleAnthropicMessages(req, reply, ctx, deps),
  };
  // Endpoint names and numbers only, no secrets: served without a key, like /healthz, so
  // that a scraper in the pod needs no credential.
  const metrics: RouteEntry = {
    method: 'GET',
    auth: false,
    run: (_req, reply, ctx) => {
      ctx.status = 200;
      reply.send(
        200,
        [
          ['content-type', 'text/plain; version=0.0.4; charset=utf-8'],
          ['x-request-id', ctx.requestId],
        ],
        deps.metrics.render(deps.health.table, deps.health.now()),
      );
    },
  };
  const endpointHealth: RouteEntry = {
    method: 'GET',
    auth: false,
    run: (_req, reply, ctx) => sendJson(reply, ctx, 200, JSON.stringify(healthReport(deps))),
  };
  // Clients configured with or without the /v1 prefix both work.
  const exact = new Map<string, RouteEntry>([
    ['/anthropic/v1/messages', anthropic],
    ['/v1/chat/completions', chat],
    ['/chat/completions', chat],
    ['/v1/models', models],
    ['/models', models],
    ['/healthz', health],
    ['/metrics', metrics],
    ['/health/endpoints', endpointHealth],
  ]);
  const route = (path: string): RouteEntry | undefined =>
    exact.get(path) ?? (modelIdStart(path) < path.length ? oneModel : undefined);

  return async (req, reply) => {
    const ctx = new RequestContext(req);
    try {
      const entry = route(req.path);
      if (entry === undefined) {
        throw new GatewayError('GW_ERR_ROUTE_NOT_FOUND', noRouteMessage(req.method, req.path));
      }
      // HEAD is GET without the body, which the front leaves out (RFC 9110 section 9.3.2).
      if (entry.method !== req.method && !(req.method === 'HEAD' && entry.method === 'GET')) {
        const allow = entry.method === 'GET' ? 'GET, HEAD' : entry.method;
        throw new GatewayError(
          'GW_ERR_ROUTE_METHOD_NOT_ALLOWED',
          `${shortened(req.path)} accepts ${allow}, not ${req.method}.`,
          { headers: { allow } },
        );
      }
      if (deps.isDraining() && entry !== health) {
        throw new GatewayError('GW_ERR_SERVER_DRAINING', 'This sidecar is shutting down; retry.');
      }
      if (entry.auth) authenticate(req, ctx, deps.keys);
      await entry.run(req, reply, ctx);
    } catch (err) {
      reportFailure(reply, ctx, err, deps.logger);
    }
    deps.metrics.response(ctx.status);
    logRequest(deps.logger, ctx);
  };
}

/**
 * failRequest, and if answering fails too (a reply half written when something threw),
 * the error is logged and the connection cut: one broken request never takes the process.
 */
function reportFailure(reply: HttpReply, ctx: RequestContext, err: unknown, logger: Logger): void {
  try {
    failRequest(reply, ctx, err, logger);
  } catch (fatal) {
    ctx.outcome = 'internal_error';
    if (ctx.status < 500) ctx.status = 500;
    logger.error('could not answer a failed request; closing its connection', {
      request_id: ctx.requestId,
      error: fatal instanceof Error ? fatal.stack : String(fatal),
    });
    reply.close?.();
  }
}

/**
 * `/v1/models/` with nothing after it is not the list: the OpenAI Node SDK sends it for
 * `models.retrieve('')`, and would take the list for one Model. It is an unknown path, as
 * every path with a trailing slash is here, and its message says what is missing.
 */
function noRouteMessage(method: string, path: string): string {
  if (path !== '/v1/models/' && path !== '/models/') {
    return `No route for ${method} ${shortened(path)}.`;
  }
  const list = path.slice(0, -1);
  return (
    `No route for ${method} ${path}: the path names no model id. ` +
    `GET ${list} lists the models; GET ${list}/{id} describes one.`
  );
}

/** A client's path as an error message quotes it: at most 200 characters. */
function shortened(path: string): string {
  return path.length <= 200 ? path : `${path.slice(0, 200)}...`;
}

/** The numbers /metrics exposes, as JSON: one object per endpoint. */
function healthReport(deps: RouteDeps): { endpoints: object[] } {
  return { endpoints: deps.health.table.snapshots(deps.health.now()) };
}

function authenticate(req: HttpRequest, ctx: RequestContext, keys: KeyRing): void {
  ctx.identity = requireIdentity(
    keys,
    req.headers.get('authorization'),
    'Send your modelgate API key as "Authorization: Bearer <key>".',
  );
}

export function logRequest(logger: Logger, ctx: RequestContext): void {
  // A drain's refusals are the sidecar doing what it should at every pod stop, not errors:
  // an error-level alert would fire on every deploy. A request cut at its deadline is one.
  const refusedByDrain = ctx.errorCode === 'GW_ERR_SERVER_DRAINING' && ctx.outcome === 'rejected';
  const failed =
    (ctx.status >= 500 && !refusedByDrain) ||
    ctx.outcome === 'stream_error' ||
    ctx.outcome === 'stream_interrupted';
  const level = failed ? 'error' : 'info';
  ctx.finish();
  logger.entry(level, 'request', ctx);
}
