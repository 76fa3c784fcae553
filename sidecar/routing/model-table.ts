import type { Policy, Price } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { DEMO_MODELS } from '../demo/demo-transport.js';
import { Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import type { ProviderRuntime } from '../providers/registry.js';

export interface Endpoint {
  /** `provider/target`, as logs and response headers name it. */
  readonly id: string;
  readonly provider: ProviderRuntime;
  /** The provider's name for the model (Azure: the deployment). */
  readonly target: string;
  readonly price?: Price;
}

interface Pattern {
  prefix: string;
  provider: ProviderRuntime;
  target: string;
  price?: Price;
}

/** Public model names to endpoints: exact names first, then the longest matching prefix. */
export class ModelTable {
  private readonly exact = new Map<string, Endpoint>();
  private readonly patterns: Pattern[] = [];
  private readonly listed: { id: string; ownedBy: string }[] = [];

  constructor(policy: Policy, providers: ReadonlyMap<string, ProviderRuntime>) {
    for (const m of policy.models) {
      const provider = providers.get(m.provider);
      if (provider === undefined) throw new Error(`model "${m.name}": unknown provider`);
      if (m.name.endsWith('*')) {
        this.patterns.push({
          prefix: m.name.slice(0, -1),
          provider,
          target: m.target,
          price: m.price,
        });
        if (provider.protocol === Protocol.DEMO) {
          for (const id of DEMO_MODELS) this.listed.push({ id, ownedBy: provider.id });
        }
        continue;
      }
      this.exact.set(m.name, {
        id: `${provider.id}/${m.target}`,
        provider,
        target: m.target,
        price: m.price,
      });
      this.listed.push({ id: m.name, ownedBy: provider.id });
    }
    this.patterns.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  resolve(model: string): Endpoint | undefined {
    const hit = this.exact.get(model);
    if (hit !== undefined) return hit;
    for (const p of this.patterns) {
      if (!model.startsWith(p.prefix) || model.length === p.prefix.length) continue;
      const target = p.target.replace('*', model.slice(p.prefix.length));
      return { id: `${p.provider.id}/${target}`, provider: p.provider, target, price: p.price };
    }
    return undefined;
  }

  /** What GET /v1/models lists: exact names, plus the demo's examples. */
  list(): readonly { id: string; ownedBy: string }[] {
    return this.listed;
  }
}
