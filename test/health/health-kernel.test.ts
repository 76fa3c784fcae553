import { beforeAll, describe, expect, it } from 'vitest';
import { BUCKET_COUNT, OCTAVES } from '../../sidecar/health/health-engine.js';
import {
  HealthTable,
  loadHealthKernel,
  type HealthEvent,
  type HealthKernel,
  type HealthOutcome,
} from '../../sidecar/health/health-kernel.js';
import {
  ReferenceHealthKernel,
  referenceBucket,
  referenceBucketMidpoint,
} from '../../sidecar/health/health-reference.js';
import {
  exactPercentile,
  expectSameHealth,
  expectWithinTolerance,
  logNormal,
  rng,
} from './health-fixtures.js';

let kernel: HealthKernel;
beforeAll(async () => {
  kernel = await loadHealthKernel();
});

function pair(options = {}): [HealthTable, HealthTable] {
  return [new HealthTable(kernel, options), new HealthTable(new ReferenceHealthKernel(), options)];
}

const DISTRIBUTIONS: [string, (next: () => number) => number][] = [
  ['log-normal around 800 ms', (next) => logNormal(next, 800, 0.8)],
  [
    '90% fast, 10% very slow',
    (next) => (next() < 0.9 ? 50 + 100 * next() : 5000 + 15_000 * next()),
  ],
  ['0.01 ms to 35 min, log-uniform', (next) => 0.01 * 2 ** (28 * next())],
  ['whole milliseconds on bucket edges', (next) => 2 ** Math.floor(12 * next())],
];

describe('the bucket scheme', () => {
  it('has 8 buckets per power of two from 1 ms to 2^20 ms, plus under- and overflow', () => {
    expect(BUCKET_COUNT).toBe(162);
    expect([referenceBucket(0), referenceBucket(0.999)]).toEqual([0, 0]);
    expect([referenceBucket(1), referenceBucket(1.124), referenceBucket(1.125)]).toEqual([1, 1, 2]);
    expect(referenceBucket(2 ** OCTAVES - 1e-6)).toBe(160);
    expect(referenceBucket(2 ** OCTAVES)).toBe(161);
    expect(referenceBucketMidpoint(1)).toBe(1.0625);
    expect(referenceBucketMidpoint(161)).toBe(2 ** 20);
  });

  it('reports every in-range value within 1/16 of itself', () => {
    const next = rng(11);
    for (let i = 0; i < 100_000; i++) {
      const value = 2 ** (20 * next());
      const reported = referenceBucketMidpoint(referenceBucket(value));
      expect(Math.abs(reported - value) / value).toBeLessThanOrEqual(1 / 16);
    }
  });
});

describe.each(DISTRIBUTIONS)('percentiles of %s', (_name, draw) => {
  it('match the reference exactly and the samples to 1/16', () => {
    const next = rng(_name.length * 7919);
    const [wasm, ref] = pair();
    const [w, r] = [wasm.slot('a'), ref.slot('a')];
    const latencies: number[] = [];
    const ttfts: number[] = [];

    // 3000 samples over 50 s: all in the window at 50 s.
    for (let i = 0; i < 3000; i++) {
      const latencyMs = draw(next);
      const ttftMs = i % 3 === 0 ? latencyMs * next() : undefined;
      const event: HealthEvent = { outcome: 'ok', latencyMs, ttftMs };
      wasm.record(w, event, (i * 50_000) / 3000);
      ref.record(r, event, (i * 50_000) / 3000);
      latencies.push(latencyMs);
      if (ttftMs !== undefined) ttfts.push(ttftMs);
    }

    const health = wasm.snapshot(w, 50_000);
    expectSameHealth(health, ref.snapshot(r, 50_000), 'wasm against reference');
    expect([health.count, health.ttftCount]).toEqual([3000, 1000]);

    latencies.sort((a, b) => a - b);
    ttfts.sort((a, b) => a - b);
    const checks: [number, number[], number][] = [
      [health.p50Ms, latencies, 50],
      [health.p95Ms, latencies, 95],
      [health.p99Ms, latencies, 99],
      [health.ttftP50Ms, ttfts, 50],
      [health.ttftP95Ms, ttfts, 95],
      [health.ttftP99Ms, ttfts, 99],
    ];
    for (const [reported, samples, percent] of checks) {
      const exact = exactPercentile(samples, percent);
      expect(reported).toBe(referenceBucketMidpoint(referenceBucket(exact)));
      if (exact >= 1 && exact < 2 ** OCTAVES) {
        expect(Math.abs(reported - exact) / exact).toBeLessThanOrEqual(1 / 16);
      }
    }
  });
});

describe('the kernel against the reference', () => {
  const OUTCOMES: HealthOutcome[] = [
    'ok',
    'client_error',
    'server_error',
    'rate_limited',
    'timeout',
    'connect_error',
  ];

  function randomEvent(next: () => number): HealthEvent {
    const roll = next();
    const outcome = roll < 0.8 ? 'ok' : OUTCOMES[1 + Math.floor(next() * 5)];
    const latencyMs = logNormal(next, 600, 1);
    const event: HealthEvent = { outcome, latencyMs };
    if (next() < 0.5) {
      event.ttftMs = latencyMs * next();
      event.outputTokens = Math.floor(500 * next());
      event.streamMs = latencyMs - event.ttftMs;
    }
    if (next() < 0.2) {
      event.rateLimit = {
        requestsRemaining: Math.floor(100 * next()),
        requestsLimit: 100,
        requestsResetMs: 60_000 * next(),
        tokensRemaining: Math.floor(10_000 * next()),
        tokensLimit: 10_000,
        tokensResetMs: next() < 0.5 ? 60_000 * next() : undefined,
        retryAfterMs: next() < 0.1 ? 5000 * next() : undefined,
      };
    }
    return event;
  }

  it('agrees on a long random stream: percentiles exactly, the rest within tolerance', () => {
    const next = rng(2026);
    const [wasm, ref] = pair({ initialCapacity: 2 });
    const ids = Array.from({ length: 12 }, (_, i) => `endpoint-${i}`);
    let now = 0;

    for (let i = 1; i <= 30_000; i++) {
      // Mostly busy traffic, now and then a lull long enough to empty part of the window, and
      // now and then a request that finished a little before the last one was recorded.
      const gap = next() < 0.001 ? 40_000 * next() : -20 * Math.log(next());
      now += gap;
      const at = next() < 0.05 ? Math.max(0, now - 500 * next()) : now;
      const id = ids[Math.floor(next() * next() * ids.length)];
      const event = randomEvent(next);
      wasm.record(wasm.slot(id), event, at);
      ref.record(ref.slot(id), event, at);

      if (i % 1000 === 0) {
        for (const id of ids) {
          const [w, r] = [wasm.slot(id), ref.slot(id)];
          expectSameHealth(wasm.snapshot(w, now), ref.snapshot(r, now), `${id} at event ${i}`);
        }
        const slots = ids.map((id) => wasm.slot(id));
        const [fromWasm, fromRef] = [new Float64Array(12), new Float64Array(12)];
        wasm.scores(slots, now, fromWasm);
        ref.scores(slots, now, fromRef);
        fromWasm.forEach((score, k) => expectWithinTolerance(score, fromRef[k], `score ${k}`));
      }
    }
  });
});

describe('raw kernel exports', () => {
  it('refuse slots beyond the capacity and pointers outside scratch', () => {
    const wasm = kernel.instantiate();
    wasm.reserve(2);
    const capacity = wasm.capacity();
    const scratch = wasm.scratchReserve(13 * 8) >>> 0;

    expect(() => wasm.score(capacity, 0)).toThrow('health kernel: slot is negative or beyond');
    expect(() => wasm.record(-1, 0, 0, 1, NaN, NaN, NaN)).toThrow('slot is negative');
    expect(() => wasm.record(0, 0, 6, 1, NaN, NaN, NaN)).toThrow('outcome must be 0 to 5');
    expect(() => wasm.snapshot(0, 0, scratch - 8)).toThrow('out_ptr is outside scratch');
    expect(() => wasm.snapshot(0, 0, scratch + 4)).toThrow(
      'out_ptr is outside scratch or misaligned',
    );
    expect(() => wasm.scores(scratch, 1 << 20, 0, scratch)).toThrow('slots_ptr is outside');
    expect(() => wasm.observeRateLimit(0, 0, 1.5, 0, NaN, NaN, NaN)).toThrow('between 0 and 1');
    expect(() => wasm.observeRateLimit(0, 0, 0.5, NaN, NaN, NaN, NaN)).toThrow('reset must be');
    expect(() => wasm.reserve(-1)).toThrow('capacity must not be negative');
    expect(() => wasm.configure(5000, 30_000, 1000, 4, 0.25)).toThrow('configure before');
  });

  it('clear slots that grow over memory where scratch used to be', () => {
    const wasm = kernel.instantiate();
    wasm.reserve(1);
    const scratch = wasm.scratchReserve(64 * 1024) >>> 0;
    new Uint8Array(wasm.memory.buffer, scratch, 64 * 1024).fill(0xff);

    wasm.reserve(8);
    const out = wasm.scratchReserve(13 * 8) >>> 0;
    for (let slot = 1; slot < 8; slot++) {
      wasm.snapshot(slot, 0, out);
      const values = new Float64Array(wasm.memory.buffer, out, 13);
      expect([...values.subarray(0, 11)].every((v) => v === 0)).toBe(true);
      expect(values[11]).toBe(1); // headroom
    }
  });
});
