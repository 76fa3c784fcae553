// `modelgate providers`: the provider catalog as an aligned table, as JSON for machines, or as
// the Markdown table the README carries.

import { parseArgs } from 'node:util';
import {
  CAPABILITIES,
  CATALOG,
  PROTOCOL_OF,
  type Capability,
  type CatalogEntry,
  type CatalogProtocol,
} from '../providers/catalog.js';

export const PROVIDERS_USAGE = `Usage: modelgate providers [--json | --markdown] [--protocol P] [--capability C]...

Lists the providers modelgate knows (use one in a config with "catalog: <id>").
  --json            the entries as JSON
  --markdown        a Markdown table (the README's list)
  --protocol P      only entries speaking P: ${Object.keys(PROTOCOL_OF).join(', ')}
  --capability C    only entries with C (repeat for several): ${CAPABILITIES.join(', ')}`;

/** Runs the command; returns the exit code (2 for a usage error, said through `out`). */
export function runProvidersCommand(argv: string[], out: (line: string) => void): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean' },
        markdown: { type: 'boolean' },
        protocol: { type: 'string' },
        capability: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return usageError(out, (err as Error).message);
  }
  if (values.help) {
    out(PROVIDERS_USAGE);
    return 0;
  }
  if (values.json && values.markdown) return usageError(out, 'choose one of --json and --markdown');

  const protocol = values.protocol;
  if (protocol !== undefined && !(protocol in PROTOCOL_OF)) {
    return usageError(out, `unknown protocol "${protocol}"`);
  }
  const wanted = values.capability ?? [];
  const unknown = wanted.find((c) => !(CAPABILITIES as readonly string[]).includes(c));
  if (unknown !== undefined) return usageError(out, `unknown capability "${unknown}"`);

  const entries = CATALOG.filter(
    (e) =>
      (protocol === undefined || e.protocol === (protocol as CatalogProtocol)) &&
      wanted.every((c) => e.capabilities[c as Capability]),
  );

  if (values.json) out(JSON.stringify(entries, null, 2));
  else if (values.markdown) markdownTable(entries).forEach((line) => out(line));
  else alignedTable(entries).forEach((line) => out(line));
  return 0;
}

function usageError(out: (line: string) => void, message: string): number {
  out(`modelgate providers: ${message}\n\n${PROVIDERS_USAGE}`);
  return 2;
}

/** The variable an operator sets for an entry: its key, or its credentials, or nothing. */
function keyVariable(entry: CatalogEntry): string {
  if (entry.apiKeyEnv.length > 0) return entry.apiKeyEnv[0];
  if (entry.credentialsEnv === 'AWS_') return 'AWS_ACCESS_KEY_ID';
  return entry.credentialsEnv ?? '-';
}

/** Capabilities beyond streaming, which every entry has. */
function capabilityList(entry: CatalogEntry): string {
  return CAPABILITIES.filter((c) => c !== 'streaming' && entry.capabilities[c]).join(',') || '-';
}

function alignedTable(entries: readonly CatalogEntry[]): string[] {
  const rows = [
    ['ID', 'PROTOCOL', 'AUTH', 'KEY VARIABLE', 'CAPABILITIES'],
    ...entries.map((e) => [e.id, e.protocol, e.auth, keyVariable(e), capabilityList(e)]),
  ];
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  const lines = rows.map((row) =>
    row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]))).join('  '),
  );
  lines.push('', summary(entries));
  return lines;
}

function markdownTable(entries: readonly CatalogEntry[]): string[] {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    '| id | provider | protocol | key variable | capabilities (besides streaming) |',
    '|---|---|---|---|---|',
  ];
  for (const e of entries) {
    const local = e.local ? ' (local)' : '';
    lines.push(
      `| \`${e.id}\` | [${cell(e.name)}](${e.docs})${local} | ${e.protocol} | ` +
        `${keyVariable(e) === '-' ? '-' : `\`${keyVariable(e)}\``} | ` +
        `${capabilityList(e).split(',').join(', ')} |`,
    );
  }
  return lines;
}

/** "104 providers: 98 openai, 1 anthropic, ...; 21 run locally". */
function summary(entries: readonly CatalogEntry[]): string {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.protocol, (counts.get(e.protocol) ?? 0) + 1);
  const byProtocol = [...counts].map(([p, n]) => `${n} ${p}`).join(', ');
  const local = entries.filter((e) => e.local).length;
  const noun = entries.length === 1 ? 'provider' : 'providers';
  return `${entries.length} ${noun}${byProtocol ? `: ${byProtocol}` : ''}; ${local} run locally`;
}
