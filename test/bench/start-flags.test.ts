import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startNodeFlags } from '../../bench/support/start-flags.js';
import {
  START_NODE_OPTIONS,
  pretenuringOff,
  semiSpaceChosen,
} from '../../sidecar/cli/heap-option.js';

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

  it('gives npm start 4 MB semi-spaces and no memory reducer, start:lean a smaller old generation and the reducer, both no pretenuring', () => {
    expect(startNodeFlags(packageJson, 'start')).toEqual([
      '--max-semi-space-size=4',
      '--heap-growing-percent=100',
      '--v8-pool-size=1',
      '--no-memory-reducer',
      '--no-allocation-site-pretenuring',
    ]);
    expect(startNodeFlags(packageJson, 'start:lean')).toEqual([
      '--max-semi-space-size=4',
      '--heap-growing-percent=30',
      '--v8-pool-size=1',
      '--no-allocation-site-pretenuring',
    ]);
  });

  it('runs the same entry point and command in both', () => {
    const bare = (script: 'start' | 'start:lean') =>
      scripts[script].replace(` ${startNodeFlags(packageJson, script).join(' ')}`, '');
    expect(bare('start:lean')).toBe(bare('start'));
    // What the sidecar names in its startup advice is what npm start runs.
    expect(startNodeFlags(packageJson, 'start')).toEqual([...START_NODE_OPTIONS]);
  });

  it('tells a chosen semi-space size from none, on the command line or in NODE_OPTIONS', () => {
    expect(semiSpaceChosen(['--max-semi-space-size=8'])).toBe(true);
    expect(semiSpaceChosen(['--max_semi_space_size=4'])).toBe(true);
    expect(semiSpaceChosen([], '--inspect --max-semi-space-size=16')).toBe(true);
    expect(semiSpaceChosen(['--max-old-space-size=512'], '--max-semi-space-sizes=1')).toBe(false);
    expect(semiSpaceChosen([], undefined)).toBe(false);
  });

  it('tells pretenuring turned off from left on, the last of --no- and -- winning as in V8', () => {
    expect(pretenuringOff(['--no-allocation-site-pretenuring'])).toBe(true);
    expect(pretenuringOff(['--no_allocation_site_pretenuring', '--inspect'])).toBe(true);
    expect(pretenuringOff([])).toBe(false);
    expect(pretenuringOff(['--allocation-site-pretenuring'])).toBe(false);
    expect(
      pretenuringOff(['--no-allocation-site-pretenuring', '--allocation-site-pretenuring']),
    ).toBe(false);
    expect(
      pretenuringOff(['--allocation-site-pretenuring', '--no-allocation-site-pretenuring']),
    ).toBe(true);
    expect(pretenuringOff(['--noallocation-site-pretenuring'])).toBe(true);
    expect(pretenuringOff(['--no-allocation-site-pretenuring-x'])).toBe(false);
    expect(pretenuringOff(['--not-allocation-site-pretenuring'])).toBe(false);
  });

  it('node refuses the pretenuring option in NODE_OPTIONS, so only the command line is read', () => {
    const run = spawnSync(process.execPath, ['-e', 'process.exit(0)'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '--no-allocation-site-pretenuring' },
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('not allowed in NODE_OPTIONS');
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

  it('reads options with and without a value', () => {
    const json = '{"scripts":{"start":"node --a=1 --no-b --c-d=x dist/x.js start"}}';
    expect(startNodeFlags(json, 'start')).toEqual(['--a=1', '--no-b', '--c-d=x']);
  });
});
