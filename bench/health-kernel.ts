// Cost per health event (HealthTable.record) and per selection (HealthTable.scores over 3 and 16
// endpoints), and of one snapshot for /metrics: the WASM kernel beside the plain-JS reference
// (sidecar/health/health-reference.ts) as the baseline, both behind the same HealthTable, on
// the same seeded traffic, in the same run.
//
//   npm run build:wasm && npx tsc -p tsconfig.json && node dist/bench/health-kernel.js

import { performance } from 'node:perf_hooks';
import type { HealthEngineSource } from '../sidecar/health/health-engine.js';
import {
  HealthTable,
  loadHealthKernel,
  type EndpointHealth,
  type HealthEvent,
} from '../sidecar/health/health-kernel.js';
import { ReferenceHealthKernel } from '../sidecar/health/health-reference.js';
import { median } from './support/latency-report.js';

const ENDPOINTS = 16;
const EVENT_POOL = 8192;
const EVENT_SPACING_MS = 1; // 1000 events a second across the endpoints
const PREFILL_EVENTS = 70_000; // more than a window, so slices have expired at least once
const SELECTION_SIZES = [3, ENDPOINTS];
const SELECTION_SPACING_MS = 0.05;
const WARMUP_ROUNDS = 2;
const ROUNDS = 9; // odd, so that the median is one of the rounds
const OPS_PER_ROUND = 20_000;

interface Contender {
  label: string;
  table: HealthTable;
  slots: Int32Array;
  /** The first n slots, for each selection size, made once. */
  selections: Map<number, Int32Array>;
  nowMs: number;
  nsPerOp: Map<string, number[]>;
}

interface Operation {
  label: string;
  run(c: Contender, i: number): void;
}

// xorshift32, so every run replays the same traffic.
function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return (state + 0.5) / 2 ** 32;
  };
}

function makeEvents(next: () => number): { slot: number; event: HealthEvent }[] {
  return Array.from({ length: EVENT_POOL }, () => {
    const roll = next();
    const latencyMs = 300 * Math.exp(Math.sqrt(-2 * Math.log(next())) * Math.cos(7 * next()));
    const event: HealthEvent =
      roll < 0.9
        ? {
            outcome: 'ok',
            latencyMs,
            ttftMs: latencyMs * 0.3,
            outputTokens: 200,
            streamMs: latencyMs * 0.7,
          }
        : { outcome: roll < 0.95 ? 'server_error' : 'timeout', latencyMs };
    if (next() < 0.1) {
      event.rateLimit = {
        requestsRemaining: Math.floor(100 * next()),
        requestsLimit: 100,
        requestsResetMs: 1000,
        tokensRemaining: Math.floor(100_000 * next()),
        tokensLimit: 100_000,
        tokensResetMs: 6000,
      };
    }
    return { slot: Math.floor(next() * ENDPOINTS), event };
  });
}

// Percentiles and counts must match exactly; the rest to the stated tolerance. Returns the
// largest relative difference seen, for the report.
function compare(a: EndpointHealth, b: EndpointHealth): number {
  let worst = 0;
  for (const key of Object.keys(a) as (keyof EndpointHealth)[]) {
    const diff = Math.abs(a[key] - b[key]);
    if (diff === 0) continue;
    const relative = diff / Math.max(Math.abs(b[key]), 1e-300);
    if (!key.endsWith('Ms') && key !== 'count' && key !== 'ttftCount' && relative <= 1e-9) {
      worst = Math.max(worst, relative);
      continue;
    }
    throw new Error(`the engines disagree on ${key}: ${a[key]} against ${b[key]}`);
  }
  return worst;
}

async function main(): Promise<void> {
  const events = makeEvents(rng(2026));
  const sources: [string, HealthEngineSource][] = [
    ['wasm kernel', await loadHealthKernel()],
    ['js reference (baseline)', new ReferenceHealthKernel()],
  ];
  const contenders: Contender[] = sources.map(([label, source]) => {
    const table = new HealthTable(source);
    const slots = Int32Array.from({ length: ENDPOINTS }, (_, i) => table.slot(`endpoint-${i}`));
    const selections = new Map(SELECTION_SIZES.map((n) => [n, slots.subarray(0, n)]));
    return { label, table, slots, selections, nowMs: 0, nsPerOp: new Map() };
  });

  const out = new Float64Array(ENDPOINTS);
  const operations: Operation[] = [
    {
      label: 'record one event',
      run(c, i) {
        const { slot, event } = events[i % EVENT_POOL];
        c.nowMs += EVENT_SPACING_MS;
        c.table.record(c.slots[slot], event, c.nowMs);
      },
    },
    ...SELECTION_SIZES.map((n) => ({
      label: `select among ${n} (scores)`,
      run(c: Contender) {
        c.nowMs += SELECTION_SPACING_MS;
        c.table.scores(c.selections.get(n) as Int32Array, c.nowMs, out);
      },
    })),
    {
      label: 'snapshot one endpoint',
      run(c, i) {
        c.nowMs += SELECTION_SPACING_MS;
        c.table.snapshot(c.slots[i % ENDPOINTS], c.nowMs);
      },
    },
  ];

  for (const c of contenders) {
    for (let i = 0; i < PREFILL_EVENTS; i++) operations[0].run(c, i);
  }
  let worst = 0;
  for (let s = 0; s < ENDPOINTS; s++) {
    const [a, b] = contenders.map((c) => c.table.snapshot(c.slots[s], c.nowMs));
    worst = Math.max(worst, compare(a, b));
  }

  // Interleaved rounds, so that drift in clock speed or GC falls on both contenders alike.
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    for (const op of operations) {
      for (const c of contenders) {
        const start = performance.now();
        for (let i = 0; i < OPS_PER_ROUND; i++) op.run(c, i);
        const ns = ((performance.now() - start) * 1e6) / OPS_PER_ROUND;
        if (round < WARMUP_ROUNDS) continue;
        const times = c.nsPerOp.get(op.label) ?? [];
        times.push(ns);
        c.nsPerOp.set(op.label, times);
      }
    }
  }

  const [wasm, js] = contenders;
  const lines = [
    `endpoint health, ${ENDPOINTS} endpoints with a full 60 s window; ns per operation, ` +
      `median of ${ROUNDS} rounds x ${OPS_PER_ROUND}; node ${process.version}`,
    `  ${'operation'.padEnd(28)} ${'wasm'.padStart(9)} ${'js reference'.padStart(13)}  js / wasm`,
  ];
  for (const { label } of operations) {
    const w = median(wasm.nsPerOp.get(label) ?? []);
    const j = median(js.nsPerOp.get(label) ?? []);
    lines.push(
      `  ${label.padEnd(28)} ${w.toFixed(0).padStart(6)} ns ${j.toFixed(0).padStart(10)} ns` +
        `  ${(j / w).toFixed(2).padStart(8)}x`,
    );
  }
  lines.push(`  largest relative difference between the engines: ${worst.toExponential(2)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
