// Orders a chain by live health, best first. Every attempt is a health event for its
// endpoint; a small share of requests starts on a random other endpoint instead, so that
// one that recovered is seen recovering (without it, a bad score never gets new data).

import type { HealthEvent, HealthTable } from '../health/health-kernel.js';
import type { Endpoint } from './model-table.js';

export interface HealthRouterOptions {
  /** Share of requests (0..1) that start on a random non-best endpoint. */
  exploreShare: number;
  random?: () => number;
  /**
   * Milliseconds on a monotonic clock (default performance.now): the kernel keeps slice
   * numbers in 32 bits, and wall-clock jumps must not expire or revive samples.
   */
  clock?: () => number;
}

export class HealthRouter {
  private readonly random: () => number;
  readonly now: () => number;
  private scratch = new Float64Array(8);

  constructor(
    readonly table: HealthTable,
    private readonly opts: HealthRouterOptions,
  ) {
    this.random = opts.random ?? Math.random;
    this.now = opts.clock ?? (() => performance.now());
  }

  /** The chain in the order to try it. Ties keep the configured order. */
  order(chain: readonly Endpoint[]): readonly Endpoint[] {
    if (chain.length < 2) return chain;
    const now = this.now();
    if (this.scratch.length < chain.length) this.scratch = new Float64Array(chain.length * 2);
    const slots = chain.map((e) => this.table.slot(e.id));
    this.table.scores(slots, now, this.scratch);

    const ranked = chain
      .map((endpoint, i) => ({ endpoint, score: this.scratch[i], i }))
      .sort((a, b) => a.score - b.score || a.i - b.i)
      .map((r) => r.endpoint);
    if (this.random() < this.opts.exploreShare) {
      const pick = 1 + Math.floor(this.random() * (ranked.length - 1));
      const [probe] = ranked.splice(pick, 1);
      ranked.unshift(probe);
    }
    return ranked;
  }

  record(endpoint: Endpoint, event: HealthEvent): void {
    this.table.record(this.table.slot(endpoint.id), event, this.now());
  }
}
