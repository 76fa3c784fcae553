import { Protocol, type Policy, type Provider } from '../../proto/gen/modelgate/v1/policy_pb.js';
import type { ChatAdapter, Transport } from './adapter.js';
import { DemoTransport } from '../demo/demo-transport.js';
import { HttpTransport } from './http-transport.js';
import { createOpenAIAdapter } from './openai/adapter.js';

export interface ProviderRuntime {
  readonly id: string;
  readonly protocol: Protocol;
  readonly adapter: ChatAdapter;
  readonly transport: Transport;
}

export interface RegistryOptions {
  env: Record<string, string | undefined>;
  connectTimeoutMs: number;
  maxStreamEventBytes: number;
}

/** Builds every provider of the policy once; credentials are read from the environment here. */
export function buildProviders(
  policy: Policy,
  opts: RegistryOptions,
): Map<string, ProviderRuntime> {
  const http = new HttpTransport({ connectTimeoutMs: opts.connectTimeoutMs });
  const demo = new DemoTransport();
  const providers = new Map<string, ProviderRuntime>();

  for (const p of policy.providers) {
    const transport = p.protocol === Protocol.DEMO ? demo : http;
    providers.set(p.id, {
      id: p.id,
      protocol: p.protocol,
      adapter: adapterFor(p, opts),
      transport,
    });
  }
  return providers;
}

function adapterFor(p: Provider, opts: RegistryOptions): ChatAdapter {
  const apiKey = p.apiKeyEnv ? opts.env[p.apiKeyEnv] : undefined;
  switch (p.protocol) {
    case Protocol.OPENAI:
    case Protocol.DEMO:
      return createOpenAIAdapter({
        providerId: p.id,
        baseUrl: p.baseUrl || 'http://demo.modelgate.invalid/v1',
        apiKey,
        headers: p.headers,
        maxStreamEventBytes: opts.maxStreamEventBytes,
      });
    case Protocol.AZURE_OPENAI:
      return createOpenAIAdapter({
        providerId: p.id,
        baseUrl: p.baseUrl,
        apiKey,
        headers: p.headers,
        azure: { apiVersion: p.apiVersion },
        maxStreamEventBytes: opts.maxStreamEventBytes,
      });
    default:
      throw new Error(`provider "${p.id}": protocol ${Protocol[p.protocol]} has no adapter`);
  }
}

/** Closes every transport once (several providers may share one). */
export async function closeProviders(providers: Map<string, ProviderRuntime>): Promise<void> {
  const transports = new Set([...providers.values()].map((p) => p.transport));
  await Promise.all([...transports].map((t) => t.close()));
}
