import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashKey } from '../../sidecar/auth/keys.js';
import { parseConfig } from '../../sidecar/config/load.js';

const MAIN = resolve(import.meta.dirname, '../../dist/sidecar/main.js');

const CONFIG = `providers: [{ id: d, protocol: demo }]
models: [{ name: m, provider: d, target: echo }]
`;

function keysNew(...args: string[]): { key: string; entry: string } {
  const text = execFileSync(process.execPath, [MAIN, 'keys', 'new', ...args], {
    encoding: 'utf8',
  });
  const lines = text.trimEnd().split('\n');
  return { key: lines[0].slice(lines[0].lastIndexOf(' ') + 1), entry: lines.slice(2).join('\n') };
}

describe('modelgate keys new', () => {
  it.each([
    ['checkout-svc', 'checkout', 'payments'],
    ['123', 'null', '#payments'],
    ['svc, v2', 'billing: eu', 'team \'b\' "quoted" \\ back'],
  ])('prints an entry the config reads back as given (id %j)', (id, project, team) => {
    const { key, entry } = keysNew('--id', id, '--project', project, '--team', team);

    const policy = parseConfig(CONFIG + entry, 'yaml', 'printed entry');

    expect(policy.apiKeys).toHaveLength(1);
    expect(policy.apiKeys[0]).toMatchObject({ id, sha256: hashKey(key), project, team });
  });

  it('refuses an empty --id, which the config would refuse', () => {
    expect(() => keysNew('--id', '')).toThrow(/--id must not be empty/);
  });
});
