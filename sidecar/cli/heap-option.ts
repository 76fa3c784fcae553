// The heap options `npm start` runs node with, and whether a run chose a young-generation
// size (README "Memory": together they keep steady memory under 100 MB at no measured cost
// in throughput; with node's 16 MB default young generation, sustained load sets off
// back-to-back full collections). The memory reducer's collections, run when a busy
// process goes quiet, were seen to throw away the optimized code of tens of functions
// (V8: "weak objects"), compiled again as the next requests arrived; without it that
// stopped (README "Memory").

export const START_NODE_OPTIONS = [
  '--max-semi-space-size=4',
  '--heap-growing-percent=100',
  '--v8-pool-size=1',
  '--no-memory-reducer',
] as const;

/** Whether node was started with a semi-space size of someone's choosing. */
export function semiSpaceChosen(execArgv: readonly string[], nodeOptions = ''): boolean {
  const chosen = (option: string) => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(option);
  return execArgv.some(chosen) || nodeOptions.split(/\s+/).some(chosen);
}
