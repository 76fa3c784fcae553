// The sidecar's helper threads give way to the thread that serves requests.
//
// Beside the main thread, node runs V8's helper (its optimizing compiler and collector work)
// and libuv's pool (files, DNS lookups). A sidecar has about one core, and there they ran
// as equals with the main thread: a request that arrived while the helper compiled or marked
// waited for its time slice, and at one connection the p99 followed the helper's CPU time
// (README, Benchmarks). On Linux a process may lower its own threads' priority without
// privileges, and os.setPriority() takes a thread id there; a thread started later (libuv
// starts its pool on first use) is caught by a rescan.

import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The nice value given to helper threads unless --helper-nice says otherwise. */
export const DEFAULT_HELPER_NICE = 10;
/** How often threads started since are looked for. */
const RESCAN_MS = 10_000;

/**
 * --helper-nice or MODELGATE_HELPER_NICE as written: a whole number from 0 (leave the
 * threads alone) to 19; absent or blank means the default. Throws saying which was wrong.
 */
export function parseHelperNice(text: string | undefined, name: string): number {
  const value = text?.trim();
  if (value === undefined || value === '') return DEFAULT_HELPER_NICE;
  const nice = /^\d{1,2}$/.test(value) ? Number(value) : NaN;
  if (!(nice >= 0 && nice <= 19)) {
    throw new Error(`${name} must be a whole number from 0 to 19, got "${text}"`);
  }
  return nice;
}

export interface HelperThreads {
  /** Threads whose priority was lowered so far. */
  readonly lowered: number;
  /** Stops looking for new threads. */
  stop(): void;
}

export interface HelperThreadOptions {
  /** Where the process's threads are listed (one entry per thread id). */
  taskDir?: string;
  /** The thread that serves requests, left as it is: the process id on Linux. */
  mainTid?: number;
  /** Told once if the priority cannot be set; no later attempt is made. */
  onError?: (err: Error) => void;
  /** Milliseconds between rescans for threads started since. */
  rescanMs?: number;
}

/**
 * Gives every thread of this process but the main one at least `nice`, now and on each
 * rescan. Does nothing when `nice` is 0 or off Linux, where a pid would mean the whole
 * process, the main thread with it.
 */
export function lowerHelperThreads(nice: number, opts: HelperThreadOptions = {}): HelperThreads {
  const taskDir = opts.taskDir ?? '/proc/self/task';
  const mainTid = opts.mainTid ?? process.pid;
  let lowered = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const state = {
    get lowered() {
      return lowered;
    },
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
  if (nice === 0 || process.platform !== 'linux') return state;

  let seen = new Set<number>();
  const scan = (): void => {
    const now = new Set<number>();
    for (const entry of readdirSync(taskDir)) {
      const tid = Number(entry);
      if (tid === mainTid) continue;
      now.add(tid);
      if (seen.has(tid)) continue;
      try {
        if (getPriority(tid) < nice) {
          setPriority(tid, nice);
          lowered++;
        }
      } catch (err) {
        // A thread that ended since the listing: node's system errors carry libuv's code here.
        if ((err as { info?: { code?: string } }).info?.code === 'ESRCH') continue;
        state.stop();
        opts.onError?.(err as Error);
        return;
      }
    }
    seen = now;
  };
  scan();
  if (!stopped) timer = setInterval(scan, opts.rescanMs ?? RESCAN_MS).unref();
  return state;
}
