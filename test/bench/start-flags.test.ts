import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startNodeFlags } from '../../bench/support/start-flags.js';

describe('npm start and npm run start:lean', () => {
  const packageJson = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const { scripts } = JSON.parse(packageJson) as { scripts: Record<string, string> };

  it.each(['start', 'start:lean'] as const)(
    '%s names heap options that this node accepts (a typo would stop the sidecar at start)',
    (script) => {
      const flags = startNodeFlags(packageJson, script);
      expect(flags.length).toBeGreaterThan(0);
      const run = spawnSync(process.execPath, [...flags, '-e', 'process.exit(0)'], {
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
    },
  );

  it('gives npm start 8 MB semi-spaces and start:lean a smaller heap still', () => {
    expect(startNodeFlags(packageJson, 'start')).toEqual(['--max-semi-space-size=8']);
    expect(startNodeFlags(packageJson, 'start:lean')).toEqual([
      '--max-semi-space-size=4',
      '--heap-growing-percent=30',
    ]);
  });

  it('runs the same entry point and command in both, and in the installed command', () => {
    const bare = (script: 'start' | 'start:lean') =>
      scripts[script].replace(` ${startNodeFlags(packageJson, script).join(' ')}`, '');
    expect(bare('start:lean')).toBe(bare('start'));
    // `modelgate start` (the bin) runs with the same options as npm start.
    const bin = readFileSync(new URL('../../sidecar/main.ts', import.meta.url), 'utf8');
    const shebang = bin.split('\n')[0];
    expect(shebang).toBe(
      `#!/usr/bin/env -S node ${startNodeFlags(packageJson, 'start').join(' ')}`,
    );
  });

  it('refuses a package.json whose script it cannot read', () => {
    expect(() => startNodeFlags('{"scripts":{}}', 'start:lean')).toThrow(/start:lean/);
    expect(() => startNodeFlags('{"scripts":{"start":"bun dist/x.js"}}', 'start')).toThrow(
      /"start"/,
    );
    expect(startNodeFlags('{"scripts":{"start":"exec node dist/x.js start"}}', 'start')).toEqual(
      [],
    );
  });
});
