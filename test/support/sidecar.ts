// Starts a real sidecar in this process on 127.0.0.1 port 0, with its log kept in memory.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  LimitsSchema,
  PolicySchema,
  RoutingSchema,
  Protocol,
  type Policy,
} from '../../proto/gen/modelgate/v1/policy_pb.js';
import { hashKey } from '../../sidecar/auth/keys.js';
import { memoryLogger } from '../../sidecar/observe/logger.js';
import { startSidecar, type HttpKind, type Sidecar } from '../../sidecar/sidecar.js';

export const TEST_KEY = 'sk-mg-test-key-0123456789';
export const PROVIDER_SECRET = 'sk-provider-SECRET-abcdef123456';

export interface TestSidecar extends Sidecar {
  readonly logs: Record<string, unknown>[];
  /** The log lines of finished requests. */
  requestLogs(): Record<string, unknown>[];
  stop(): Promise<void>;
}

export interface TestPolicyOptions {
  upstream: string;
  protocol?: Protocol;
  apiVersion?: string;
  withKeys?: boolean;
  limits?: MessageInitShape<typeof LimitsSchema>;
  /** Circuit breakers; by default effectively off so that scripted failures stay independent. */
  routing?: MessageInitShape<typeof RoutingSchema>;
}

/** One OpenAI-protocol provider "up" at `upstream`, every model name routed to it. */
export function testPolicy(opts: TestPolicyOptions): Policy {
  return create(PolicySchema, {
    listen: { host: '127.0.0.1', port: 0 },
    limits: opts.limits,
    routing: opts.routing ?? { breakerFailures: 1_000_000, breakerCooldownMs: 1 },
    providers: [
      {
        id: 'up',
        protocol: opts.protocol ?? Protocol.OPENAI,
        baseUrl: opts.upstream,
        apiKeyEnv: 'TEST_PROVIDER_KEY',
        apiVersion: opts.apiVersion ?? '',
      },
    ],
    models: [
      { name: 'alias-fast', provider: 'up', target: 'gpt-4o-mini' },
      { name: '*', provider: 'up', target: '*' },
    ],
    apiKeys: opts.withKeys
      ? [{ id: 'test-app', sha256: hashKey(TEST_KEY), project: 'checkout', team: 'payments' }]
      : [],
  });
}

/** `env` is merged after TEST_PROVIDER_KEY, so a test may override it or add its own. */
export async function startTestSidecar(
  policy: Policy,
  http: HttpKind = 'auto',
  env: Record<string, string> = {},
): Promise<TestSidecar> {
  const logger = memoryLogger('debug');
  const sidecar = await startSidecar({
    policy,
    logger,
    http,
    port: 0,
    env: { TEST_PROVIDER_KEY: PROVIDER_SECRET, ...env },
  });
  return Object.assign(sidecar, {
    logs: logger.lines,
    requestLogs: () => logger.lines.filter((l) => l.msg === 'request'),
    stop: async () => void (await sidecar.drain(500)),
  });
}

/** Resolves once `check` holds (log lines are written after the response ends). */
export async function eventually(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
