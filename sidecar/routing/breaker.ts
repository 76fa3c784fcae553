// A circuit breaker per endpoint, so that a provider that is down costs each request one
// skipped entry instead of one more failed attempt (no retry storms).

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  failures: number;
  cooldownMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

interface Entry {
  failures: number;
  openUntil: number;
  probing: boolean;
}

export class Breakers {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: BreakerOptions) {}

  get cooldownMs(): number {
    return this.opts.cooldownMs;
  }

  /** May a request go to this endpoint now? In half-open state one probe at a time. */
  admits(endpoint: string, now: number): boolean {
    const e = this.entries.get(endpoint);
    if (e === undefined || e.openUntil === 0) return true;
    if (now < e.openUntil) return false;
    if (e.probing) return false;
    e.probing = true;
    return true;
  }

  state(endpoint: string, now: number): BreakerState {
    const e = this.entries.get(endpoint);
    if (e === undefined || e.openUntil === 0) return 'closed';
    return now < e.openUntil ? 'open' : 'half_open';
  }

  /** When the endpoint will next be tried, for "every endpoint is down" messages. */
  openUntil(endpoint: string): number {
    return this.entries.get(endpoint)?.openUntil ?? 0;
  }

  succeeded(endpoint: string): void {
    this.entries.delete(endpoint);
  }

  /**
   * A failure that says something about the endpoint. `holdMs` opens the circuit at once
   * for that long (Retry-After, a refused credential), whatever the failure count.
   */
  failed(endpoint: string, now: number, holdMs?: number): void {
    const e = this.entries.get(endpoint) ?? { failures: 0, openUntil: 0, probing: false };
    e.failures++;
    e.probing = false;
    if (holdMs !== undefined && holdMs > 0) {
      e.openUntil = Math.max(e.openUntil, now + holdMs);
    } else if (e.failures >= this.opts.failures) {
      e.openUntil = now + this.opts.cooldownMs;
    }
    this.entries.set(endpoint, e);
  }

  /** A finished probe or attempt that proved nothing (the client went away). */
  released(endpoint: string): void {
    const e = this.entries.get(endpoint);
    if (e !== undefined) e.probing = false;
  }
}
