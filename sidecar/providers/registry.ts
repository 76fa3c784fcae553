import { Protocol, type Policy, type Provider } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { DemoTransport } from '../demo/demo-transport.js';
import type { ChatAdapter, Transport } from './adapter.js';
import { ADAPTER_FACTORIES, defaultBaseUrl } from './factories.js';
import { HttpTransport } from './http-transport.js';
import type { SseScanKernel } from './openai/sse-scan-kernel.js';
import { Redactor } from './redact.js';

export interface ProviderRuntime {
  readonly id: string;
  readonly protocol: Protocol;
  readonly adapter: ChatAdapter;
  readonly transport: Transport;
  /**
   * Names (lower-case) of the headers its config adds to every request. Any of them may be
   * a credential (a gateway's own token, an APIM subscription key).
   */
  readonly configuredHeaders: ReadonlySet<string>;
  /** Masks this provider's credentials in what it sends back (see redact.ts). */
  readonly redactor: Redactor;
}

export interface RegistryOptions {
  env: Record<string, string | undefined>;
  connectTimeoutMs: number;
  maxStreamEventBytes: number;
  clock?: () => number;
  /** Carries every non-demo provider's requests; an undici pool transport when absent. */
  transport?: Transport;
  sseScan?: SseScanKernel;
}

/** Builds every provider of the policy once; credentials are read from the environment here. */
export function buildProviders(
  policy: Policy,
  opts: RegistryOptions,
): Map<string, ProviderRuntime> {
  const http = opts.transport ?? new HttpTransport({ connectTimeoutMs: opts.connectTimeoutMs });
  const demo = new DemoTransport();
  const providers = new Map<string, ProviderRuntime>();

  for (const p of policy.providers) {
    const transport = p.protocol === Protocol.DEMO ? demo : http;
    const apiKey = p.apiKeyEnv ? opts.env[p.apiKeyEnv] : undefined;
    const adapter = adapterFor(p, apiKey, opts);
    providers.set(p.id, {
      id: p.id,
      protocol: p.protocol,
      adapter,
      transport,
      configuredHeaders: new Set(Object.keys(p.headers).map((name) => name.toLowerCase())),
      // Every header value the config adds: any of them may be a credential.
      redactor: new Redactor([
        ...(apiKey ? [apiKey] : []),
        ...Object.values(p.headers),
        ...(adapter.secrets ?? []),
      ]),
    });
  }
  return providers;
}

function adapterFor(p: Provider, apiKey: string | undefined, opts: RegistryOptions): ChatAdapter {
  const factory = ADAPTER_FACTORIES.get(p.protocol);
  if (factory === undefined) {
    throw new Error(`provider "${p.id}": protocol ${Protocol[p.protocol]} has no adapter`);
  }
  return factory({
    provider: p,
    baseUrl: p.baseUrl || defaultBaseUrl(p.protocol, p.region),
    apiKey,
    env: opts.env,
    maxStreamEventBytes: opts.maxStreamEventBytes,
    sseScan: opts.sseScan,
    clock: opts.clock ?? Date.now,
  });
}

/** Closes every transport once (several providers may share one). */
export async function closeProviders(providers: Map<string, ProviderRuntime>): Promise<void> {
  const transports = new Set([...providers.values()].map((p) => p.transport));
  await Promise.all([...transports].map((t) => t.close()));
}
