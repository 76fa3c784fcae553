// From a validated Policy to the one request handler: providers, routes, health, breakers,
// keys. The HTTP front and the process lifecycle stay in sidecar.ts; bench/handler-cost.ts
// builds this same handler around a stand-in transport to measure its own CPU.

import type { Policy } from '../proto/gen/modelgate/v1/policy_pb.js';
import { KeyRing } from './auth/keys.js';
import { withDefaultLimits } from './config/limits.js';
import { DEFAULT_ROUTING, defaultTimeouts } from './config/routing-defaults.js';
import { SLICE_COUNT } from './health/health-engine.js';
import { HealthTable, loadHealthKernel } from './health/health-kernel.js';
import { createHandler } from './http/routes.js';
import type { Handler } from './http/types.js';
import type { Logger } from './observe/logger.js';
import { Metrics } from './observe/metrics.js';
import type { Transport } from './providers/adapter.js';
import type { Cancel } from './providers/cancel.js';
import { loadSseScanKernel } from './providers/openai/sse-scan-kernel.js';
import { buildProviders, type ProviderRuntime } from './providers/registry.js';
import { Breakers } from './routing/breaker.js';
import { HealthRouter } from './routing/health-router.js';
import { ModelTable } from './routing/model-table.js';

export interface ComposeOptions {
  policy: Policy;
  logger: Logger;
  env: Record<string, string | undefined>;
  isDraining(): boolean;
  /** Replaces the undici transport of every non-demo provider (benchmarks). */
  transport?: Transport;
}

export interface Composed {
  handler: Handler;
  providers: Map<string, ProviderRuntime>;
  models: ModelTable;
  keys: KeyRing;
  /** The chat requests in flight (see ChatDeps.live). */
  live: Set<Cancel>;
  /** The handler's counters: the front's own refusals are counted there too. */
  metrics: Metrics;
}

/** Share of requests that start on a non-best endpoint to see whether it recovered. */
const DEFAULT_EXPLORE_SHARE = 0.05;

export async function composeHandler(opts: ComposeOptions): Promise<Composed> {
  const { policy, logger } = opts;
  const limits = withDefaultLimits(policy.limits);
  const providers = buildProviders(policy, {
    env: opts.env,
    connectTimeoutMs: limits.connectTimeoutMs,
    maxStreamEventBytes: limits.maxStreamEventBytes,
    transport: opts.transport,
    sseScan: await loadSseScanKernel(),
  });
  const models = new ModelTable(policy, providers, defaultTimeouts(limits), (model, chain) =>
    logger.info('proposed failover chain', { model, chain, pin_with: 'classes' }),
  );
  const healthKernel = await loadHealthKernel();
  const windowMs = policy.routing?.healthWindowMs || DEFAULT_ROUTING.healthWindowMs;
  const table = new HealthTable(healthKernel, {
    sliceMs: Math.max(1, Math.round(windowMs / SLICE_COUNT)),
    // One sample's worth of "unknown": enough to keep a lone fast answer from looking
    // perfect, little enough that a few fast probes outweigh it. A recovered endpoint still
    // waits for its slow samples to leave the window (bench/results/fleet-*.md).
    // TODO(routing): weigh recent samples more, so recovery is seen in seconds.
    priorSamples: 1,
  });
  const health = new HealthRouter(table, {
    exploreShare: policy.routing?.exploreShare ?? DEFAULT_EXPLORE_SHARE,
  });
  const keys = new KeyRing(policy.apiKeys);
  const live = new Set<Cancel>();
  const metrics = new Metrics();

  const handler = createHandler({
    models,
    keys,
    logger,
    isDraining: opts.isDraining,
    breakers: new Breakers({
      failures: policy.routing?.breakerFailures || DEFAULT_ROUTING.breakerFailures,
      cooldownMs: policy.routing?.breakerCooldownMs || DEFAULT_ROUTING.breakerCooldownMs,
    }),
    health,
    metrics,
    clock: Date.now,
    maxResponseBytes: 64 * 1024 * 1024,
    live,
  });
  return { handler, providers, models, keys, live, metrics };
}
