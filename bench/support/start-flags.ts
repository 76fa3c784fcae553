// The node options of `npm start` and `npm run start:lean`, read from package.json, so that
// the benches measure exactly what the scripts run and the two cannot drift apart.

export type StartScript = 'start' | 'start:lean';

/**
 * The `--name=value` and `--name` options between `node` and `dist/` in the script (none is
 * valid).
 */
export function startNodeFlags(packageJson: string, script: StartScript): string[] {
  const scripts = (JSON.parse(packageJson) as { scripts?: Record<string, string> }).scripts;
  const text = scripts?.[script];
  const match = text === undefined ? null : /\bnode((?: --[\w-]+(?:=\S+)?)*) dist\//.exec(text);
  if (match === null) {
    throw new Error(
      `package.json needs a "${script}" script: "... node [--name[=value] ...] dist/..."`,
    );
  }
  const flags = match[1].trim();
  return flags === '' ? [] : flags.split(' ');
}
