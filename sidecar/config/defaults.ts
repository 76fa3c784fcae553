import {
  ModelSchema,
  PolicySchema,
  ProviderSchema,
  Protocol,
  type Model,
  type Policy,
  type Provider,
} from '../../proto/gen/modelgate/v1/policy_pb.js';
import { CATALOG, PROTOCOL_OF, autoEnables } from '../providers/catalog.js';
import { withDefaultLimits } from './limits.js';
import { newMessage } from './message.js';
import { assertValidPolicy, type Env } from './validate.js';

/** Loopback only: a sidecar serves its own pod and must not be reachable from outside it. */
export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 4100 } as const;

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

  const policy = newMessage(PolicySchema, {
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
  return newMessage(ProviderSchema, init);
}

function model(name: string, providerId: string, target: string): Model {
  return newMessage(ModelSchema, { name, provider: providerId, target });
}
