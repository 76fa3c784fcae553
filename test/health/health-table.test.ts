import { beforeAll, describe, expect, it } from 'vitest';
import type { HealthEngineSource } from '../../sidecar/health/health-engine.js';
import {
  HealthTable,
  loadHealthKernel,
  type HealthEvent,
  type HealthKernel,
  type HealthTableOptions,
} from '../../sidecar/health/health-kernel.js';
import { ReferenceHealthKernel } from '../../sidecar/health/health-reference.js';
import { expectWithinTolerance } from './health-fixtures.js';

// Every behaviour holds for the WASM kernel and for the plain-JS reference alike.
let kernel: HealthKernel;
beforeAll(async () => {
  kernel = await loadHealthKernel();
});

const ENGINES: [string, () => HealthEngineSource][] = [
  ['wasm kernel', () => kernel],
  ['js reference', () => new ReferenceHealthKernel()],
];

const HALF_LIFE_MS = 30_000;
const ok = (latencyMs: number, extra: Partial<HealthEvent> = {}): HealthEvent => ({
  outcome: 'ok',
  latencyMs,
  ...extra,
});

describe.each(ENGINES)('HealthTable over the %s', (_name, source) => {
  function table(options: HealthTableOptions = {}): HealthTable {
    return new HealthTable(source(), options);
  }

  describe('an endpoint with no data', () => {
    it('reports zeros, full headroom and the prior as its score, never NaN', () => {
      const t = table({ priorLatencyMs: 1500 });
      const health = t.snapshot(t.slot('a'), 0);

      expect(health).toEqual({
        p50Ms: 0,
        p95Ms: 0,
        p99Ms: 0,
        ttftP50Ms: 0,
        ttftP95Ms: 0,
        ttftP99Ms: 0,
        count: 0,
        ttftCount: 0,
        errorRate4xx: 0,
        errorRate5xx: 0,
        tokensPerSecond: 0,
        headroom: 1,
        score: 1500,
      });
      expect(t.score(t.slot('a'), 10)).toBe(1500);
    });

    it('is back to the prior once its window has emptied, with the percentiles at 0', () => {
      const t = table({ priorLatencyMs: 1500 });
      const a = t.slot('a');
      t.record(a, ok(120, { ttftMs: 40 }), 1000);
      const later = t.snapshot(a, 1000 + 10 * 60_000);

      expect(later.count).toBe(0);
      expect(later.ttftCount).toBe(0);
      expect([later.p50Ms, later.p99Ms, later.ttftP95Ms]).toEqual([0, 0, 0]);
      expect(later.score).toBe(1500);
      expect(Object.values(later).every(Number.isFinite)).toBe(true);
    });
  });

  describe('the latency window', () => {
    it('drops samples once their 5 s slice leaves the 60 s window', () => {
      const t = table();
      const a = t.slot('a');
      for (let i = 0; i < 10; i++) t.record(a, ok(5000), 1000 + i); // slice 0
      for (let i = 0; i < 10; i++) t.record(a, ok(100), 30_000 + i); // slice 6

      const before = t.snapshot(a, 59_999);
      expect(before.count).toBe(20);
      expect(Math.abs(before.p99Ms - 5000) / 5000).toBeLessThanOrEqual(1 / 16);

      const after = t.snapshot(a, 60_000);
      expect(after.count).toBe(10);
      expect(after.p99Ms).toBe(after.p50Ms);
      expect(Math.abs(after.p50Ms - 100) / 100).toBeLessThanOrEqual(1 / 16);
    });

    it('keeps a sample for 55 to 60 s, depending on where in its slice it fell', () => {
      const t = table();
      const late = t.slot('late-in-slice');
      const early = t.slot('early-in-slice');
      t.record(late, ok(10), 4999);
      t.record(early, ok(10), 5000);

      expect(t.snapshot(late, 59_999).count).toBe(1);
      expect(t.snapshot(late, 60_000).count).toBe(0); // 55.001 s after it was recorded
      expect(t.snapshot(early, 64_999).count).toBe(1); // 59.999 s after
      expect(t.snapshot(early, 65_000).count).toBe(0);
    });

    it('expires time to first token with the latency of the same requests', () => {
      const t = table();
      const a = t.slot('a');
      t.record(a, ok(900, { ttftMs: 300 }), 0);
      t.record(a, ok(900), 0);
      t.record(a, ok(400, { ttftMs: 50 }), 40_000);

      const both = t.snapshot(a, 50_000);
      expect([both.count, both.ttftCount]).toEqual([3, 2]);
      expect(both.ttftP99Ms).toBeGreaterThan(250);

      const recent = t.snapshot(a, 60_000);
      expect([recent.count, recent.ttftCount]).toEqual([1, 1]);
      expect(recent.ttftP99Ms).toBeLessThan(60);
    });

    it('leaves failures out of the percentiles, so a fast 500 never looks fast', () => {
      const t = table();
      const a = t.slot('a');
      t.record(a, ok(2000), 0);
      t.record(a, { outcome: 'server_error', latencyMs: 3 }, 1);
      t.record(a, { outcome: 'timeout', latencyMs: 30_000 }, 2);

      const health = t.snapshot(a, 3);
      expect(health.count).toBe(1);
      expect(health.p50Ms).toBe(health.p99Ms);
      expect(Math.abs(health.p50Ms - 2000) / 2000).toBeLessThanOrEqual(1 / 16);
    });

    it('counts a time slightly earlier than one already seen as the latest time', () => {
      const t = table();
      const a = t.slot('a');
      t.record(a, ok(10), 10_000);
      t.record(a, ok(10), 4_000); // finished before the last one was recorded: slice 2, not 0

      expect(t.snapshot(a, 64_999).count).toBe(2);
      expect(t.snapshot(a, 70_000).count).toBe(0);
    });
  });

  describe('error rates', () => {
    it('halve after each half-life without events', () => {
      const t = table({ halfLifeMs: HALF_LIFE_MS });
      const a = t.slot('a');
      t.record(a, { outcome: 'server_error', latencyMs: 5 }, 1000);

      expect(t.snapshot(a, 1000).errorRate5xx).toBe(1);
      expectWithinTolerance(t.snapshot(a, 1000 + HALF_LIFE_MS).errorRate5xx, 0.5);
      expectWithinTolerance(t.snapshot(a, 1000 + 2 * HALF_LIFE_MS).errorRate5xx, 0.25);
    });

    it('decay with time, so 1000 successes in 1 ms do not erase an error as 30 s does', () => {
      const t = table({ halfLifeMs: HALF_LIFE_MS });
      const burst = t.slot('burst');
      const quiet = t.slot('quiet');
      t.record(burst, { outcome: 'server_error', latencyMs: 5 }, 0);
      t.record(quiet, { outcome: 'server_error', latencyMs: 5 }, 0);
      for (let i = 1; i <= 1000; i++) t.record(burst, ok(20), i / 1000);

      const afterBurst = t.snapshot(burst, 1).errorRate5xx;
      expectWithinTolerance(afterBurst, 2 ** (-1 / HALF_LIFE_MS));
      expect(afterBurst).toBeGreaterThan(0.9999);
      expectWithinTolerance(t.snapshot(quiet, HALF_LIFE_MS).errorRate5xx, 0.5);
    });

    it('settle at the share of failing requests under steady traffic', () => {
      const t = table({ halfLifeMs: HALF_LIFE_MS });
      const a = t.slot('a');
      // 100 requests a second for 5 minutes, every tenth a 503 and every 25th a 400.
      for (let i = 0; i < 30_000; i++) {
        const outcome = i % 10 === 0 ? 'server_error' : i % 25 === 1 ? 'client_error' : 'ok';
        t.record(a, { outcome, latencyMs: 100 }, i * 10);
      }
      const health = t.snapshot(a, 300_000);
      expect(health.errorRate5xx).toBeGreaterThan(0.09);
      expect(health.errorRate5xx).toBeLessThan(0.11);
      expect(health.errorRate4xx).toBeGreaterThan(0.03);
      expect(health.errorRate4xx).toBeLessThan(0.05);
    });

    it('count timeouts and connection errors as 5xx, and 429s as 4xx', () => {
      const t = table();
      const outcomes = ['timeout', 'connect_error', 'rate_limited', 'client_error'] as const;
      const [timeout, connect, limited, client] = outcomes.map((outcome) => {
        const slot = t.slot(outcome);
        t.record(slot, { outcome, latencyMs: 1 }, 0);
        return t.snapshot(slot, 0);
      });

      expect([timeout.errorRate5xx, timeout.errorRate4xx]).toEqual([1, 0]);
      expect([connect.errorRate5xx, connect.errorRate4xx]).toEqual([1, 0]);
      expect([limited.errorRate5xx, limited.errorRate4xx]).toEqual([0, 1]);
      expect([client.errorRate5xx, client.errorRate4xx]).toEqual([0, 1]);
    });
  });

  describe('token delivery rate', () => {
    it('is tokens over streaming seconds, with older streams weighted down by age', () => {
      const t = table({ halfLifeMs: HALF_LIFE_MS });
      const a = t.slot('a');
      t.record(a, ok(2500, { outputTokens: 100, streamMs: 2000 }), 0); // 50 tokens/s
      expectWithinTolerance(t.snapshot(a, 0).tokensPerSecond, 50);

      t.record(a, ok(1200, { outputTokens: 300, streamMs: 1000 }), HALF_LIFE_MS); // 300 tokens/s
      // (100 * 1/2 + 300) tokens over (2 * 1/2 + 1) seconds.
      expectWithinTolerance(t.snapshot(a, HALF_LIFE_MS).tokensPerSecond, 175);
    });

    it('is 0 until a stream reports both tokens and a streaming time', () => {
      const t = table();
      const a = t.slot('a');
      t.record(a, ok(800), 0);
      t.record(a, ok(800, { outputTokens: 50 }), 1);
      t.record(a, ok(800, { outputTokens: 50, streamMs: 0 }), 2);
      t.record(a, { outcome: 'server_error', latencyMs: 800, outputTokens: 9, streamMs: 9 }, 3);
      expect(t.snapshot(a, 4).tokensPerSecond).toBe(0);
    });
  });

  describe('rate-limit headroom', () => {
    it('takes the tighter budget and refills it linearly to 1 at its reset', () => {
      const t = table();
      const a = t.slot('a');
      const rateLimit = {
        requestsRemaining: 50,
        requestsLimit: 100,
        requestsResetMs: 10_000,
        tokensRemaining: 1000,
        tokensLimit: 10_000,
        tokensResetMs: 20_000,
      };
      t.record(a, ok(300, { rateLimit }), 5000);

      expectWithinTolerance(t.snapshot(a, 5000).headroom, 0.1);
      expectWithinTolerance(t.snapshot(a, 15_000).headroom, 0.55); // tokens half refilled
      expect(t.snapshot(a, 25_000).headroom).toBe(1);
    });

    it('assumes a 60 s refill when a limit comes without a reset', () => {
      const t = table();
      const a = t.slot('a');
      t.record(a, ok(300, { rateLimit: { requestsRemaining: 0, requestsLimit: 10 } }), 0);

      expect(t.snapshot(a, 0).headroom).toBe(0);
      expectWithinTolerance(t.snapshot(a, 30_000).headroom, 0.5);
      expect(t.snapshot(a, 60_000).headroom).toBe(1);
    });

    it('is 0 while a Retry-After is pending, and recovers when it ends', () => {
      const t = table();
      const a = t.slot('a');
      t.record(a, { outcome: 'rate_limited', latencyMs: 40, rateLimit: { retryAfterMs: 2000 } }, 0);

      expect(t.snapshot(a, 1999).headroom).toBe(0);
      expect(t.snapshot(a, 2000).headroom).toBe(1);
    });

    it('ignores a Retry-After on an answer that succeeded', () => {
      const t = table();
      const a = t.slot('a');
      t.record(a, ok(300, { rateLimit: { retryAfterMs: 7000 } }), 0);
      expect(t.snapshot(a, 0).headroom).toBe(1);
      // The same header on a refusal blocks, as above.
      t.record(a, { outcome: 'server_error', latencyMs: 40, rateLimit: { retryAfterMs: 7000 } }, 1);
      expect(t.snapshot(a, 2).headroom).toBe(0);
    });

    it('is 0 for a second after a 429 that gave no Retry-After', () => {
      const t = table();
      const a = t.slot('a');
      t.record(a, { outcome: 'rate_limited', latencyMs: 40 }, 0);

      expect(t.snapshot(a, 999).headroom).toBe(0);
      expect(t.snapshot(a, 1000).headroom).toBe(1);
    });

    it('ignores budgets with no usable limit, such as Azure reporting -1', () => {
      const t = table();
      const a = t.slot('a');
      const rateLimit = { tokensRemaining: 5, tokensLimit: 0, requestsRemaining: 3 };
      t.record(a, ok(300, { rateLimit }), 0);
      expect(t.snapshot(a, 0).headroom).toBe(1);
    });
  });

  describe('the score', () => {
    const PRIOR_MS = 1000;
    const PRIOR_SAMPLES = 4;

    // A window of successes at one latency: p95 is that latency's bucket midpoint.
    function healthyAt(t: HealthTable, id: string, latencyMs: number, nowMs: number): number {
      const slot = t.slot(id);
      for (let i = 0; i < 100; i++) t.record(slot, ok(latencyMs), nowMs - 100 + i);
      return slot;
    }

    function expectedScore(p95: number, n: number, e5: number, e4: number, room = 1): number {
      const latency = (n * p95 + PRIOR_SAMPLES * PRIOR_MS) / (n + PRIOR_SAMPLES);
      const errors = Math.min(0.99, e5 + 0.25 * e4);
      const penalty = room >= 0.1 ? 1 : 0.1 / Math.max(room, 0.001);
      return (latency / (1 - errors)) * penalty;
    }

    it('ranks a slow endpoint below a fast one, with an unknown one in between', () => {
      const t = table({ priorLatencyMs: PRIOR_MS, priorSamples: PRIOR_SAMPLES });
      const fast = healthyAt(t, 'fast', 200, 10_000);
      const slow = healthyAt(t, 'slow', 3000, 10_000);
      const unknown = t.slot('unknown');

      const [fastScore, slowScore, unknownScore] = [fast, slow, unknown].map((s) =>
        t.score(s, 10_000),
      );
      expect(fastScore).toBeLessThan(unknownScore);
      expect(unknownScore).toBeLessThan(slowScore);
      expect(unknownScore).toBe(PRIOR_MS);

      const fastHealth = t.snapshot(fast, 10_000);
      expectWithinTolerance(fastScore, expectedScore(fastHealth.p95Ms, 100, 0, 0));
    });

    it('ranks a fast endpoint failing half its requests below a healthy slower one', () => {
      const t = table({ priorLatencyMs: PRIOR_MS, priorSamples: PRIOR_SAMPLES });
      const failing = t.slot('failing');
      for (let i = 0; i < 600; i++) {
        const event = i % 2 ? ok(200) : { outcome: 'server_error' as const, latencyMs: 50 };
        t.record(failing, event, 100 * i);
      }
      const now = 60_000;
      const healthy = healthyAt(t, 'healthy', 300, now);

      const bad = t.snapshot(failing, now);
      const good = t.snapshot(healthy, now);
      expect(bad.errorRate5xx).toBeGreaterThan(0.4);
      expect(bad.p95Ms).toBeLessThan(good.p50Ms);
      expect(bad.score).toBeGreaterThan(good.score);
      expectWithinTolerance(
        bad.score,
        expectedScore(bad.p95Ms, bad.count, bad.errorRate5xx, bad.errorRate4xx),
      );
      expectWithinTolerance(good.score, expectedScore(good.p95Ms, good.count, 0, 0));
    });

    it('penalises an endpoint whose headroom falls below 10%', () => {
      const t = table({ priorLatencyMs: PRIOR_MS, priorSamples: PRIOR_SAMPLES });
      const roomy = healthyAt(t, 'roomy', 300, 10_000);
      const tight = healthyAt(t, 'tight', 300, 10_000);
      const budget = (requestsRemaining: number) => ({
        rateLimit: { requestsRemaining, requestsLimit: 100, requestsResetMs: 60_000 },
      });
      t.record(roomy, ok(300, budget(50)), 10_000);
      t.record(tight, ok(300, budget(2)), 10_000);

      const health = t.snapshot(tight, 10_000);
      expectWithinTolerance(health.headroom, 0.02);
      expectWithinTolerance(
        health.score,
        expectedScore(health.p95Ms, health.count, 0, 0, health.headroom),
      );
      expectWithinTolerance(health.score / t.score(roomy, 10_000), 5, 'penalty');
    });

    it('scores many slots in one call exactly as one at a time', () => {
      const t = table();
      const slots = ['a', 'b', 'c', 'd'].map((id, i) => healthyAt(t, id, 100 * (i + 1), 5000));
      const one = slots.map((s) => t.score(s, 5000));

      const fromArray = new Float64Array(4);
      t.scores([slots[3], slots[1], slots[2], slots[0]], 5000, fromArray);
      expect([...fromArray]).toEqual([one[3], one[1], one[2], one[0]]);

      const fromInt32 = new Float64Array(5);
      t.scores(Int32Array.from(slots), 5000, fromInt32);
      expect([...fromInt32.subarray(0, 4)]).toEqual(one);
    });
  });

  describe('slots', () => {
    it('are numbered in order of first sight and stable', () => {
      const t = table();
      expect([t.slot('x'), t.slot('y'), t.slot('x'), t.slot('z')]).toEqual([0, 1, 0, 2]);
      expect([...t.endpoints()]).toEqual([
        ['x', 0],
        ['y', 1],
        ['z', 2],
      ]);
    });

    it('keep their state while the arena grows around them', () => {
      const t = table({ initialCapacity: 1 });
      const initialCapacity = t.capacity;
      const first = Array.from({ length: 8 }, (_, i) => t.slot(`early-${i}`));
      first.forEach((slot, i) => {
        t.record(slot, ok(50 * (i + 1), { ttftMs: 10 * (i + 1) }), 1000);
        t.record(slot, { outcome: 'server_error', latencyMs: 1 }, 1000 + i);
      });
      const before = first.map((slot) => t.snapshot(slot, 2000));

      for (let i = 0; i < 300; i++) t.record(t.slot(`late-${i}`), ok(7), 2000);
      expect(t.capacity).toBeGreaterThan(initialCapacity);
      expect(t.capacity).toBeLessThan(2 * 308); // geometric, not one growth per slot

      expect(first.map((slot) => t.snapshot(slot, 2000))).toEqual(before);
      expect(t.snapshot(t.slot('late-299'), 2000).count).toBe(1);
    });
  });

  describe('bad input', () => {
    it('rejects slots the table did not assign', () => {
      const t = table({ initialCapacity: 8 });
      t.slot('a');
      expect(() => t.record(1, ok(1), 0)).toThrow('slot 1 was not assigned');
      expect(() => t.score(-1, 0)).toThrow('slot -1 was not assigned');
      expect(() => t.snapshot(0.5, 0)).toThrow('slot 0.5 was not assigned');
      expect(() => t.scores([0, 3], 0, new Float64Array(2))).toThrow('slot 3 was not assigned');
      expect(() => t.scores([0, 0], 0, new Float64Array(1))).toThrow('out holds 1 scores');
    });

    it('rejects a bad event and records nothing of it', () => {
      const t = table();
      const a = t.slot('a');
      const rateLimit = { retryAfterMs: 5000 };
      expect(() => t.record(a, { outcome: 'ok', latencyMs: NaN, rateLimit }, 0)).toThrow(
        'latencyMs must be a finite number >= 0',
      );
      expect(() => t.record(a, ok(1, { ttftMs: -1 }), 0)).toThrow('ttftMs must be');
      const unknown = { outcome: 'toString', latencyMs: 1 } as unknown as HealthEvent;
      expect(() => t.record(a, unknown, 0)).toThrow('unknown outcome toString');

      expect(t.snapshot(a, 0)).toMatchObject({ count: 0, headroom: 1, errorRate4xx: 0 });
    });

    it('refuses a clock that went back more than one window, and stays usable', () => {
      const t = table();
      const a = t.slot('a');
      t.record(a, ok(10), 100_000);
      expect(() => t.record(a, ok(10), 39_999)).toThrow('more than one window before');
      expect(() => t.snapshot(a, NaN)).toThrow('nowMs must be a finite time');
      expect(() => t.score(a, Infinity)).toThrow('nowMs must be a finite time');

      t.record(a, ok(10), 40_000);
      expect(t.snapshot(a, 100_000).count).toBe(2);
    });

    it('rejects settings out of range', () => {
      expect(() => table({ sliceMs: 0 })).toThrow('sliceMs must be between');
      expect(() => table({ halfLifeMs: NaN })).toThrow('halfLifeMs must be between');
      expect(() => table({ clientErrorWeight: 2 })).toThrow('clientErrorWeight must be 0 to 1');
      expect(() => table({ initialCapacity: -1 })).toThrow('initialCapacity must be');
    });
  });
});
