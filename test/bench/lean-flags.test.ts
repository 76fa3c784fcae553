import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { leanNodeFlags } from '../../bench/support/lean-flags.js';

describe('npm run start:lean', () => {
  const packageJson = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');

  it('names heap options that this node accepts (a typo would stop the sidecar at start)', () => {
    const flags = leanNodeFlags(packageJson);
    expect(flags).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=30']);
    const run = spawnSync(process.execPath, [...flags, '-e', 'process.exit(0)'], {
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('runs the same entry point and command as npm start', () => {
    const { scripts } = JSON.parse(packageJson) as { scripts: Record<string, string> };
    const lean = scripts['start:lean'];
    expect(lean.replace(` ${leanNodeFlags(packageJson).join(' ')}`, '')).toBe(scripts.start);
  });

  it('refuses a package.json whose start:lean it cannot read', () => {
    expect(() => leanNodeFlags('{"scripts":{}}')).toThrow(/start:lean/);
    expect(() => leanNodeFlags('{"scripts":{"start:lean":"node dist/x.js"}}')).toThrow(
      /start:lean/,
    );
  });
});
