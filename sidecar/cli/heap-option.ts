// The young-generation size `npm start` runs node with, and whether a run chose one
// (README "Memory": with node's 16 MB default, sustained load sets off back-to-back full
// collections).

export const SEMI_SPACE_OPTION = '--max-semi-space-size=8';

/** Whether node was started with a semi-space size of someone's choosing. */
export function semiSpaceChosen(execArgv: readonly string[], nodeOptions = ''): boolean {
  const chosen = (option: string) => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(option);
  return execArgv.some(chosen) || nodeOptions.split(/\s+/).some(chosen);
}
