import { expect } from 'vitest';
import type { EndpointHealth } from '../../sidecar/health/health-kernel.js';

// The tolerance stated in wasm/health.ts for every value that passes through Math.exp; counts
// and percentiles must match exactly.
export const RELATIVE_TOLERANCE = 1e-9;
export const ABSOLUTE_TOLERANCE = 1e-12;

const EXACT_FIELDS = [
  'p50Ms',
  'p95Ms',
  'p99Ms',
  'ttftP50Ms',
  'ttftP95Ms',
  'ttftP99Ms',
  'count',
  'ttftCount',
] as const;
const DECAYED_FIELDS = [
  'errorRate4xx',
  'errorRate5xx',
  'tokensPerSecond',
  'headroom',
  'score',
] as const;

export function expectWithinTolerance(actual: number, expected: number, label = ''): void {
  const bound = RELATIVE_TOLERANCE * Math.abs(expected) + ABSOLUTE_TOLERANCE;
  if (!(Math.abs(actual - expected) <= bound)) {
    expect.fail(`${label}: ${actual} differs from ${expected} by more than ${bound}`);
  }
}

export function expectSameHealth(actual: EndpointHealth, expected: EndpointHealth, label = '') {
  for (const field of EXACT_FIELDS) {
    expect(actual[field], `${label} ${field}`).toBe(expected[field]);
  }
  for (const field of DECAYED_FIELDS) {
    expectWithinTolerance(actual[field], expected[field], `${label} ${field}`);
  }
}

// xorshift32: deterministic, so a failure reproduces with the same events.
export function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return (state + 0.5) / 2 ** 32;
  };
}

/** Log-normal with the given median: the usual shape of request latency. */
export function logNormal(next: () => number, medianMs: number, sigma: number): number {
  const gaussian = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return medianMs * Math.exp(sigma * gaussian);
}

/** Nearest-rank percentile of the samples themselves. */
export function exactPercentile(sorted: readonly number[], percent: number): number {
  return sorted[Math.ceil((sorted.length * percent) / 100) - 1];
}
