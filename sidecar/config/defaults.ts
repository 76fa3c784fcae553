import { create, type Message } from '@bufbuild/protobuf';
import {
  LimitsSchema,
  ModelSchema,
  PolicySchema,
  ProviderSchema,
  Protocol,
  type Limits,
  type Model,
  type Policy,
  type Provider,
} from '../../proto/gen/modelgate/v1/policy_pb.js';
import { CATALOG, PROTOCOL_OF, autoEnables } from '../providers/catalog.js';
import { assertValidPolicy, type Env } from './validate.js';

/** Loopback only: a sidecar serves its own pod and must not be reachable from outside it. */
export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 4100 } as const;

/** What a zero in Limits stands for. Keys match the Limits message fields. */
export const DEFAULT_LIMITS = {
  // Long chats with a few inline images fit; a runaway client does not exhaust memory.
  maxBodyBytes: 4 * 1024 * 1024,
  // Reasoning models can think for minutes before the last token.
  requestTimeoutMs: 600_000,
  connectTimeoutMs: 10_000,
  // Time to the first response byte: covers queueing and prompt processing upstream.
  firstByteTimeoutMs: 60_000,
  // Longest silence allowed between two stream events once the stream has started.
  idleTimeoutMs: 60_000,
  // How long in-flight requests may finish after SIGTERM. Kubernetes kills the pod 30 s after
  // SIGTERM by default (terminationGracePeriodSeconds); raise the two together.
  drainTimeoutMs: 30_000,
  // One SSE event (a whole tool-call argument can arrive in one) before the stream is cut.
  maxStreamEventBytes: 8 * 1024 * 1024,
} as const satisfies { [K in keyof Omit<Limits, keyof Message>]: number };

/** A copy of `limits` with every zero (unset) field taken from DEFAULT_LIMITS. */
export function withDefaultLimits(limits?: Limits): Limits {
  const filled = create(LimitsSchema, DEFAULT_LIMITS);
  if (limits === undefined) return filled;

  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof typeof DEFAULT_LIMITS)[]) {
    if (limits[key] !== 0) filled[key] = limits[key];
  }
  return filled;
}

/**
 * The policy used when no config file is given: every catalog vendor whose key is in the
 * environment (hosted ones with a fixed URL; see autoEnables), each as `<id>/*`, or the demo
 * provider when none is, so a first run always answers.
 */
export function embeddedDefaults(env: Env = process.env): Policy {
  const providers: Provider[] = [];
  const models: Model[] = [];

  for (const entry of CATALOG) {
    const apiKeyEnv = entry.apiKeyEnv.find((name) => env[name]);
    if (apiKeyEnv === undefined || !autoEnables(entry)) continue;
    const baseUrl = (entry.baseUrlEnv && env[entry.baseUrlEnv]) || entry.baseUrl;
    const protocol = PROTOCOL_OF[entry.protocol];
    providers.push(provider({ id: entry.id, protocol, baseUrl, apiKeyEnv }));
    models.push(model(`${entry.id}/*`, entry.id, '*'));
    // A bare pattern maps to itself: "gpt-4o" matches "gpt-*" with "4o", giving "gpt-4o".
    for (const pattern of entry.barePatterns ?? []) models.push(model(pattern, entry.id, pattern));
  }

  if (providers.length === 0) {
    providers.push(provider({ id: 'demo', protocol: Protocol.DEMO }));
    models.push(model('demo/*', 'demo', '*'));
  }

  const policy = create(PolicySchema, {
    listen: DEFAULT_LISTEN,
    limits: withDefaultLimits(),
    providers,
    models,
  });
  // Catches a malformed OPENAI_BASE_URL or a key with a stray newline before the first request.
  assertValidPolicy(policy, 'embedded defaults (from environment variables)', { env });
  return policy;
}

function provider(init: {
  id: string;
  protocol: Protocol;
  baseUrl?: string;
  apiKeyEnv?: string;
}): Provider {
  return create(ProviderSchema, init);
}

function model(name: string, providerId: string, target: string): Model {
  return create(ModelSchema, { name, provider: providerId, target });
}
