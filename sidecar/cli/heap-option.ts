// The heap options `npm start` runs node with, and whether a run chose a young-generation
// size (README "Memory": with node's 16 MB default, sustained load sets off back-to-back
// full collections; the other two keep steady memory down at no cost in throughput).

export const START_NODE_OPTIONS = [
  '--max-semi-space-size=4',
  '--heap-growing-percent=100',
  '--v8-pool-size=1',
] as const;

/** Whether node was started with a semi-space size of someone's choosing. */
export function semiSpaceChosen(execArgv: readonly string[], nodeOptions = ''): boolean {
  const chosen = (option: string) => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(option);
  return execArgv.some(chosen) || nodeOptions.split(/\s+/).some(chosen);
}
