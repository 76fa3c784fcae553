// The `api_keys` entry `modelgate keys new` prints for the config file.

export interface KeyEntry {
  id: string;
  sha256: string;
  project: string;
  team: string;
}

/**
 * One YAML flow mapping. Every value is written as a JSON string, which YAML reads as a
 * double-quoted scalar: a bare `123`, `null`, `#team` or `a, b` would otherwise come back
 * as a number, a null, a comment or a second key, and the sidecar would refuse the file.
 */
export function keyEntryYaml(entry: KeyEntry): string {
  const q = JSON.stringify;
  return (
    `  - { id: ${q(entry.id)}, sha256: ${q(entry.sha256)}, project: ${q(entry.project)}, ` +
    `team: ${q(entry.team)} }`
  );
}
