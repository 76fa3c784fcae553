// The node options of `npm run start:lean`, read from package.json, so that the memory
// bench measures exactly what the script runs and the two cannot drift apart.

/** The `--name=value` options between `node` and `dist/` in the start:lean script. */
export function leanNodeFlags(packageJson: string): string[] {
  const scripts = (JSON.parse(packageJson) as { scripts?: Record<string, string> }).scripts;
  const script = scripts?.['start:lean'];
  const match = script === undefined ? null : /\bnode((?: --[\w-]+=\S+)+) dist\//.exec(script);
  if (match === null) {
    throw new Error(
      'package.json needs a "start:lean" script: "... node --name=value ... dist/..."',
    );
  }
  return match[1].trim().split(' ');
}
