// The V8 options `npm start` runs node with, and which of them a run left out (README
// "Memory"). The semi-space size and growth factor keep steady memory under 100 MB; with
// node's 16 MB default young generation, sustained load sets off back-to-back full
// collections. The memory reducer's collections, run when a busy process goes quiet, were
// seen to throw away the optimized code of tens of functions (V8: "weak objects"). And
// V8's allocation-site pretenuring, once it decides that a site's objects live long, puts
// them straight into the old generation: a sidecar started straight into streamed load at
// 64 connections then ran full collections every 85-100 ms, at about three quarters of the
// throughput it had without it (9,350 against 12,500 streams/s, bench/results/memory-*-15
// and -16).

export const START_NODE_OPTIONS = [
  '--max-semi-space-size=4',
  '--heap-growing-percent=100',
  '--v8-pool-size=1',
  '--no-memory-reducer',
  '--no-allocation-site-pretenuring',
] as const;

/** Whether node was started with a semi-space size of someone's choosing. */
export function semiSpaceChosen(execArgv: readonly string[], nodeOptions = ''): boolean {
  const chosen = (option: string) => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(option);
  return execArgv.some(chosen) || nodeOptions.split(/\s+/).some(chosen);
}

/**
 * Whether pretenuring is off. V8 does not take this option from NODE_OPTIONS (node refuses
 * to start), so only node's own command line counts; the last of `--[no-]` wins, as in V8.
 */
export function pretenuringOff(execArgv: readonly string[]): boolean {
  let off = false;
  for (const option of execArgv) {
    // V8 takes `--no-x`, `--no_x` and `--nox` alike.
    const named = /^--(no[-_]?)?allocation[-_]site[-_]pretenuring$/.exec(option);
    if (named !== null) off = named[1] !== undefined;
  }
  return off;
}
