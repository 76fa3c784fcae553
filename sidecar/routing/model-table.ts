import {
  Protocol,
  type ModelClass,
  type Policy,
  type Price,
} from '../../proto/gen/modelgate/v1/policy_pb.js';
import { DEMO_MODELS } from '../demo/demo-transport.js';
import type { ProviderRuntime } from '../providers/registry.js';
import { findCatalogModel, proposeChain } from './propose-chain.js';

export interface Endpoint {
  /** `provider/target`, as logs, breakers and response headers name it. */
  readonly id: string;
  readonly provider: ProviderRuntime;
  /** The provider's name for the model (Azure: the deployment). */
  readonly target: string;
  readonly price?: Price;
  /** Tokens, when known: decides where a context-length failure may go. */
  readonly contextWindow?: number;
}

export interface RouteTimeouts {
  connectMs: number;
  firstByteMs: number;
  firstTokenMs: number;
  idleMs: number;
  totalMs: number;
}

/** Where a public model name goes: an ordered chain and the rules for walking it. */
export interface Route {
  /** The class name, or the model name for a single-endpoint route. */
  readonly name: string;
  readonly chain: readonly Endpoint[];
  readonly timeouts: RouteTimeouts;
  readonly maxAttempts: number;
  readonly failoverOnStatus?: ReadonlySet<number>;
  /** Walk the chain as configured (primary, then fallbacks) rather than healthiest first. */
  readonly ordered: boolean;
  /** Made for a name matched by a pattern: its endpoint names are the client's choosing. */
  readonly dynamic?: boolean;
}

interface Pattern {
  prefix: string;
  provider: ProviderRuntime;
  target: string;
  price?: Price;
  /** The prefix alone is a model name: "o1" under "o1*" (see the constructor). */
  bareMatches: boolean;
}

/** Ends in a letter or digit: "o1" names a model, "gpt-" and "local/" do not. */
const ENDS_IN_NAME = /[\p{L}\p{N}]$/u;

/** The most endpoints one request may try (a class's max_attempts may not exceed it). */
export const MAX_ATTEMPTS = 5;
const MAX_MATCHED = 4096;

/** Public model names to routes: exact names first, then the longest matching prefix. */
export class ModelTable {
  private readonly exact = new Map<string, Route>();
  private readonly patterns: Pattern[] = [];
  private readonly listed: { id: string; ownedBy: string }[] = [];
  /** Catalog id -> configured provider id, for proposing chains (auto_chain only). */
  private readonly reachable: Map<string, string> | undefined;
  private readonly proposals = new Map<string, Route>();
  /** Routes made for names that matched a pattern, reused: building one per request showed. */
  private readonly matched = new Map<string, Route>();

  constructor(
    policy: Policy,
    private readonly providers: ReadonlyMap<string, ProviderRuntime>,
    private readonly defaults: RouteTimeouts,
    /** Told of every chain proposed from the catalog, so the operator can see and pin it. */
    private readonly onPropose?: (model: string, chain: readonly string[]) => void,
  ) {
    if (policy.routing?.autoChain ?? true) {
      this.reachable = new Map(policy.providers.map((p) => [p.catalog || p.id, p.id]));
    }
    const classes = new Map(policy.classes.map((c) => [c.name, this.classRoute(c)]));
    for (const m of policy.models) {
      if (m.class !== '') {
        const route = classes.get(m.class);
        if (route === undefined) throw new Error(`model "${m.name}": unknown class "${m.class}"`);
        this.exact.set(m.name, route);
        this.listed.push({ id: m.name, ownedBy: route.chain[0]?.provider.id ?? 'modelgate' });
        continue;
      }
      const provider = this.provider(m.provider, m.name);
      if (m.name.endsWith('*')) {
        const prefix = m.name.slice(0, -1);
        // Nothing after the prefix names a model only where the pattern maps names to
        // themselves and the prefix does not end in a separator: "o1" is an OpenAI model
        // under the bare "o1*"; "gpt-" under "gpt-*" and "local/" under "local/*" are none.
        const bareMatches = m.target === m.name && ENDS_IN_NAME.test(prefix);
        this.patterns.push({ prefix, provider, target: m.target, price: m.price, bareMatches });
        if (provider.protocol === Protocol.DEMO) {
          for (const id of DEMO_MODELS) this.listed.push({ id, ownedBy: provider.id });
        }
        continue;
      }
      this.exact.set(m.name, this.single(m.name, provider, m.target, m.price));
      this.listed.push({ id: m.name, ownedBy: provider.id });
    }
    this.patterns.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  resolve(model: string): Route | undefined {
    const hit = this.exact.get(model);
    if (hit !== undefined) return hit;
    const seen = this.matched.get(model);
    if (seen !== undefined) return seen;
    for (const p of this.patterns) {
      if (!model.startsWith(p.prefix)) continue;
      if (model.length === p.prefix.length && !p.bareMatches) continue;
      const target = p.target.replace('*', model.slice(p.prefix.length));
      // `dynamic` first: a literal that opens with a spread gets a hidden class of its own
      // (see revised() in providers/failures.ts), and every route read would miss its caches.
      const route = { dynamic: true, ...this.single(model, p.provider, target, p.price) };
      // Clients choose these names: the cache is bounded, and simply starts over when full.
      if (this.matched.size >= MAX_MATCHED) this.matched.clear();
      this.matched.set(model, route);
      return route;
    }
    return undefined;
  }

  /** What GET /v1/models lists: exact names, plus the demo's examples. */
  list(): readonly { id: string; ownedBy: string }[] {
    return this.listed;
  }

  /** Every configured chain, for the startup log line. */
  routes(): [string, Route][] {
    return [...this.exact];
  }

  private single(name: string, provider: ProviderRuntime, target: string, price?: Price): Route {
    const endpoint: Endpoint = { id: `${provider.id}/${target}`, provider, target, price };
    const proposed = this.reachable && this.propose(name, endpoint);
    return (
      proposed ?? {
        name,
        chain: [endpoint],
        timeouts: this.defaults,
        maxAttempts: 1,
        ordered: true,
      }
    );
  }

  /** A chain from the model catalog around `first`, computed once per endpoint. */
  private propose(name: string, first: Endpoint): Route | undefined {
    const known = this.proposals.get(first.id);
    if (known !== undefined) return known;

    const catalogId = [...this.reachable!].find(([, id]) => id === first.provider.id)?.[0];
    const original = catalogId && findCatalogModel(catalogId, first.target);
    if (!original) return undefined;
    const alternates = proposeChain(original, new Set(this.reachable!.keys())).map((p) => {
      const provider = this.provider(this.reachable!.get(p.provider)!, name);
      return {
        id: `${provider.id}/${p.model}`,
        provider,
        target: p.model,
        contextWindow: p.contextWindow,
      };
    });
    if (alternates.length === 0) return undefined;

    const chain = [
      Object.assign({}, first, { contextWindow: original.contextWindow }),
      ...alternates,
    ];
    const route: Route = {
      name,
      chain,
      timeouts: this.defaults,
      maxAttempts: Math.min(chain.length, MAX_ATTEMPTS),
      // The operator chose the first model; the proposals are its fallbacks.
      ordered: true,
    };
    this.proposals.set(first.id, route);
    this.onPropose?.(
      name,
      chain.map((e) => e.id),
    );
    return route;
  }

  private classRoute(c: ModelClass): Route {
    const chain = c.chain.map((e) => ({
      id: `${e.provider}/${e.target}`,
      provider: this.provider(e.provider, c.name),
      target: e.target,
      price: e.price,
      contextWindow: e.contextWindow || undefined,
    }));
    const t = c.timeouts;
    return {
      name: c.name,
      chain,
      timeouts: {
        connectMs: t?.connectMs || this.defaults.connectMs,
        firstByteMs: t?.firstByteMs || this.defaults.firstByteMs,
        firstTokenMs: t?.firstTokenMs || this.defaults.firstTokenMs,
        idleMs: t?.idleMs || this.defaults.idleMs,
        totalMs: t?.totalMs || this.defaults.totalMs,
      },
      maxAttempts: Math.min(c.maxAttempts || chain.length, MAX_ATTEMPTS),
      failoverOnStatus: c.failoverOnStatus.length > 0 ? new Set(c.failoverOnStatus) : undefined,
      ordered: c.ordered,
    };
  }

  private provider(id: string, owner: string): ProviderRuntime {
    const provider = this.providers.get(id);
    if (provider === undefined) throw new Error(`"${owner}": unknown provider "${id}"`);
    return provider;
  }
}
