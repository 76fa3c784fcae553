// Composition root: from a validated Policy to a serving sidecar, and back down on SIGTERM.

import type { Policy } from '../proto/gen/modelgate/v1/policy_pb.js';
import { DEFAULT_LISTEN } from './config/defaults.js';
import { withDefaultLimits } from './config/limits.js';
import { GatewayError } from './errors.js';
import { startNodeFront } from './http/node-front.js';
import { sendError } from './http/respond.js';
import { logRequest } from './http/routes.js';
import type { FrontOptions, RunningFront } from './http/types.js';
import { loadUws, startUwsFront } from './http/uws-front.js';
import { RequestContext } from './api/context.js';
import { composeHandler } from './compose.js';
import { closeProviders } from './providers/registry.js';
import type { Logger } from './observe/logger.js';

export type HttpKind = 'auto' | 'uws' | 'node';

export interface SidecarOptions {
  policy: Policy;
  logger: Logger;
  env?: Record<string, string | undefined>;
  /** Overrides policy.listen.port (0 picks a free port). */
  port?: number;
  http?: HttpKind;
}

export interface Sidecar {
  readonly url: string;
  readonly port: number;
  readonly httpKind: 'uws' | 'node';
  /** Stops accepting, lets in-flight work finish up to the deadline, then closes. */
  drain(deadlineMs?: number): Promise<{ clean: boolean }>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

export async function startSidecar(opts: SidecarOptions): Promise<Sidecar> {
  const { policy, logger } = opts;
  const env = opts.env ?? process.env;
  const limits = withDefaultLimits(policy.limits);
  const host = policy.listen?.host || DEFAULT_LISTEN.host;
  // Zero in the policy means the default port; an explicit 0 from the caller picks a free one.
  const port = opts.port ?? (policy.listen?.port || DEFAULT_LISTEN.port);

  // Without keys anyone who can connect may spend the provider credentials: allowed only
  // where "anyone" means processes on this machine.
  if (policy.apiKeys.length === 0 && !isLoopback(host)) {
    throw new Error(
      `refusing to listen on ${host} without api_keys: with no keys only a loopback address ` +
        '(127.0.0.1, ::1) is allowed; add api_keys or listen on 127.0.0.1',
    );
  }

  let draining = false;
  const { handler, providers, models, keys, live, metrics } = await composeHandler({
    policy,
    logger,
    env,
    isDraining: () => draining,
  });
  const frontOpts: FrontOptions = {
    host,
    port,
    maxBodyBytes: limits.maxBodyBytes,
    handler,
    reject: (reply, code, req) => {
      // A request like any other: the client's request id, a log line, a count in /metrics.
      const ctx = new RequestContext(req);
      const message =
        code === 'GW_ERR_REQ_BODY_TOO_LARGE'
          ? `The request body is larger than ${limits.maxBodyBytes} bytes.`
          : 'The Content-Length header must be one non-negative whole number.';
      ctx.outcome = 'rejected';
      sendError(reply, ctx, new GatewayError(code, message, { param: null }));
      metrics.response(ctx.status);
      logRequest(logger, ctx);
    },
  };
  const front = await startFront(opts.http ?? 'auto', frontOpts, logger);

  if (keys.size === 0) {
    logger.warn('no api_keys configured: accepting unauthenticated requests on loopback only', {
      host,
    });
  }
  logger.info('listening', {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${front.port}`,
    http: front.kind,
    providers: [...providers.keys()],
    models: policy.models.map((m) => m.name),
  });
  for (const [name, route] of models.routes()) {
    if (route.chain.length > 1) {
      logger.info('failover chain', { model: name, chain: route.chain.map((e) => e.id) });
    }
  }

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${front.port}`,
    port: front.port,
    httpKind: front.kind,
    async drain(deadlineMs = limits.drainTimeoutMs) {
      draining = true;
      front.stopListening();
      front.setDraining();
      const clean = await waitFor(() => front.inFlight === 0, deadlineMs);
      if (!clean) {
        // Chat requests still running get their error first (a stream, one error event),
        // then whatever is left is cut.
        for (const request of live) request.abort('draining');
        await waitFor(() => front.inFlight === 0, DRAIN_GRACE_MS);
        front.closeAll();
      }
      await closeProviders(providers);
      return { clean };
    },
  };
}

async function startFront(
  kind: HttpKind,
  opts: FrontOptions,
  logger: Logger,
): Promise<RunningFront> {
  if (kind === 'node') return startNodeFront(opts);
  const uws = loadUws();
  if (!(uws instanceof Error)) return startUwsFront(uws, opts);
  if (kind === 'uws') throw uws;
  logger.warn('uWebSockets.js could not load; serving through node:http instead', {
    reason: uws.message.split('\n')[0],
  });
  return startNodeFront(opts);
}

/** How long requests aborted at the drain deadline get to send their error before the cut. */
const DRAIN_GRACE_MS = 500;

function waitFor(done: () => boolean, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  return new Promise((resolve) => {
    const tick = (): void => {
      if (done()) return resolve(true);
      if (Date.now() >= until) return resolve(false);
      setTimeout(tick, 20);
    };
    tick();
  });
}
