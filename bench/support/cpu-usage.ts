// Where CPU time went during a run, on a shared machine: the busy share of each core from
// /proc/stat, the run time of one process from its threads' schedstat, and that of our
// finished children (wrk) from /proc/self/stat. What is left on a core is other work.

import { readdirSync, readFileSync } from 'node:fs';

export type CpuTimes = Map<number, { busy: number; total: number }>;

export function readCpuTimes(): CpuTimes {
  const times: CpuTimes = new Map();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    // user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
    const fields = match[2].trim().split(/\s+/).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    times.set(Number(match[1]), { busy: total - fields[3] - fields[4], total });
  }
  return times;
}

/** Busy percentage of one CPU between two readings; NaN when the CPU is unknown. */
export function busyPct(before: CpuTimes, after: CpuTimes, cpu: number): number {
  const a = before.get(cpu);
  const b = after.get(cpu);
  if (a === undefined || b === undefined || b.total === a.total) return NaN;
  return (100 * (b.busy - a.busy)) / (b.total - a.total);
}

/** CPU time a process ran, and time it was ready to run but waited for a CPU, in ns. */
export interface ProcessCpu {
  runNs: number;
  waitNs: number;
}

/**
 * Sums /proc/PID/task/TID/schedstat over the process's threads (V8 collects garbage on
 * helper threads too). A thread that exits between two readings takes its share with it.
 */
export function readProcessCpu(pid: number): ProcessCpu {
  let runNs = 0;
  let waitNs = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
      runNs += Number(run);
      waitNs += Number(wait);
    } catch {
      // the thread ended while we listed them
    }
  }
  return { runNs, waitNs };
}

/** USER_HZ: /proc/PID/stat counts in 10 ms ticks on Linux. */
const TICK_NS = 10_000_000;

/** CPU time of this process's children that have exited and been reaped (wrk), in ns. */
export function readReapedChildrenCpuNs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // The name in parentheses may hold spaces; fields after it start at field 3 (state), so
  // cutime and cstime, fields 16 and 17, sit at 13 and 14.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * TICK_NS;
}

const QUIET_SAMPLE_MS = 500;

/**
 * Waits, while our own processes are idle, until no core is busier than `limitPct` over
 * a short sample, or until `maxWaitMs` has passed. Returns the milliseconds waited.
 */
export async function waitForQuiet(limitPct: number, maxWaitMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const before = readCpuTimes();
    await new Promise((resolve) => setTimeout(resolve, QUIET_SAMPLE_MS));
    const after = readCpuTimes();
    const busiest = Math.max(...[...after.keys()].map((cpu) => busyPct(before, after, cpu)));
    const waited = Date.now() - started;
    if (busiest <= limitPct || waited >= maxWaitMs) return waited;
  }
}
