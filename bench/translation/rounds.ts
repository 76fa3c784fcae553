// The measured rounds: every cell once per round, as one batch, in a new order each round, so
// that drift, noise and collections fall on every protocol alike. The machine is shared: how
// busy each core was meanwhile goes into the report.

import { busyPct, readCpuTimes } from '../support/cpu-usage.js';
import { runBatch, type Cell, type Mode, type Sample } from './measure.js';

export interface RoundsPlan {
  cells: readonly Cell[];
  warmupRounds: number;
  rounds: number;
  requestsPerBatch: Readonly<Record<Mode, number>>;
}

export interface RoundsResult {
  samples: Map<Cell, Sample[]>;
  /** Busy share of each core during the measured rounds, and this process's own CPU share. */
  coreBusyPct: number[];
  ownPct: number;
}

// xorshift32, seeded, so every run visits the cells in the same sequence of orders.
function shuffler(seed: number): <T>(items: readonly T[]) => T[] {
  let state = seed;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  return (items) => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  };
}

export async function runRounds(plan: RoundsPlan): Promise<RoundsResult> {
  const shuffle = shuffler(2026);
  const round = async (record?: Map<Cell, Sample[]>): Promise<void> => {
    for (const cell of shuffle(plan.cells)) {
      const sample = await runBatch(cell, plan.requestsPerBatch[cell.mode]);
      record?.get(cell)?.push(sample);
    }
  };
  for (let i = 0; i < plan.warmupRounds; i++) await round();

  const samples = new Map<Cell, Sample[]>(plan.cells.map((cell) => [cell, []]));
  const coresBefore = readCpuTimes();
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < plan.rounds; i++) await round(samples);
  const wallUs = Number(process.hrtime.bigint() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const coresAfter = readCpuTimes();

  return {
    samples,
    coreBusyPct: [...coresAfter.keys()].map((core) => busyPct(coresBefore, coresAfter, core)),
    ownPct: (100 * (cpu.user + cpu.system)) / wallUs,
  };
}
