// Measuring on a machine shared with other work: wait for quiet before a run, and run again
// when other work still took a good share of a core we use. The rig assumes the proxy has
// its core to itself; a disturbed run measures the neighbours instead.

import { waitForQuiet } from './cpu-usage.js';
import type { Measured } from './latency-report.js';
import { sleep } from './processes.js';

/** A run is disturbed when other work took more than this share of a core we use. */
export const NOISE_LIMIT_PCT = 25;
export const MAX_ATTEMPTS = 3;
/** Longest wait for quiet before one run... */
const QUIET_WAIT_MAX_MS = 10_000;
/** ...and over the whole benchmark. */
export const QUIET_WAIT_BUDGET_MS = 60_000;

/** What is left of a benchmark's allowance for repeats and for waiting. */
export interface QuietBudget {
  repeatsLeft: number;
  repeatsUsed: number;
  quietWaitMs: number;
}

export function quietBudget(runs: number): QuietBudget {
  return { repeatsLeft: Math.ceil(runs / 4), repeatsUsed: 0, quietWaitMs: QUIET_WAIT_BUDGET_MS };
}

/** Share of a core other work took, on the cores the run used: direct runs use only one. */
function disturbance(m: Measured, usesProxyCore: boolean): number {
  return usesProxyCore ? Math.max(m.proxyCoreOtherPct, m.loadCoreOtherPct) : m.loadCoreOtherPct;
}

/** Runs `run` up to MAX_ATTEMPTS times while it is disturbed and budget lasts; the quietest. */
export async function measureQuietly(
  run: () => Promise<Measured>,
  usesProxyCore: boolean,
  budget: QuietBudget,
  log: (line: string) => void,
): Promise<Measured> {
  let best: Measured | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (budget.quietWaitMs > 0) {
      const limitMs = Math.min(budget.quietWaitMs, QUIET_WAIT_MAX_MS);
      budget.quietWaitMs -= await waitForQuiet(NOISE_LIMIT_PCT, limitMs);
    }
    const m = await run();
    const noise = disturbance(m, usesProxyCore);
    if (best === undefined || noise < disturbance(best, usesProxyCore)) best = m;
    if (noise <= NOISE_LIMIT_PCT || budget.repeatsLeft === 0) break;

    budget.repeatsLeft--;
    budget.repeatsUsed++;
    log(`  other work took ${Math.round(noise)}% of a core: measuring again`);
    await sleep(1_000);
  }
  return best!;
}

export function describeQuietRuns(budget: QuietBudget): string {
  const waitedS = Math.round((QUIET_WAIT_BUDGET_MS - budget.quietWaitMs) / 1000);
  return (
    `A run during which other work took over ${NOISE_LIMIT_PCT}% of a core we use is ` +
    `measured again (up to ${MAX_ATTEMPTS} times, the quietest kept): ` +
    `${budget.repeatsUsed} repeats. Before each run, up to ${QUIET_WAIT_MAX_MS / 1000} s ` +
    `(${QUIET_WAIT_BUDGET_MS / 1000} s in all) goes to waiting for every core to be under ` +
    `${NOISE_LIMIT_PCT}% busy; ${waitedS} s went so.`
  );
}
