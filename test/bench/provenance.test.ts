import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { machine, repositoryState } from '../../bench/support/provenance.js';

describe('what a bench report says it ran from', () => {
  const git = (cwd: string, ...args: string[]) =>
    // stderr piped: the call expected to fail would print git's "fatal: ..." in the run.
    execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

  it('names the commit, and says when the working tree has changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-provenance-'));
    git(dir, 'init', '-q');
    writeFileSync(join(dir, 'a.txt'), 'one\n');
    git(dir, 'add', 'a.txt');
    git(dir, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'one');
    const head = git(dir, 'rev-parse', '--short', 'HEAD');
    expect(repositoryState(dir)).toBe(head);

    writeFileSync(join(dir, 'a.txt'), 'two\n');
    expect(repositoryState(dir)).toBe(`${head} (working tree has changes)`);
  });

  it('says "?" outside a git checkout (a tree copied with git archive)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-provenance-'));
    // A parent repository must not answer for it: /tmp is not inside one on these machines.
    expect(() => git(dir, 'rev-parse', 'HEAD')).toThrow();
    expect(repositoryState(dir)).toBe('?');
  });

  it('names the CPUs', () => {
    expect(machine()).toMatch(/^\d+ × \S/);
  });
});
