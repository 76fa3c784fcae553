// The heap options `npm start` runs node with, and whether a run chose a young-generation
// size (README "Memory": together they keep steady memory under 100 MB at no cost in
// throughput; with node's 16 MB default young generation, sustained load sets off
// back-to-back full collections). Without the memory reducer, a full collection during
// an idle spell no longer finds the request objects' maps unused and throws away the
// optimized code that relies on them, which then has to be compiled again as the next
// requests arrive (README "Memory").

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
