// What a report says it measured: the machine, and the commit of the tree it ran from, read
// when the run starts (a commit made during a long run must not be taken for what it ran).

import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/** "2 × <CPU model>". */
export function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? '?'}`;
}

/** The short commit of `root`, with "(working tree has changes)" when it has; "?" off git. */
export function repositoryState(root: string): string {
  const git = (args: string[]): string | undefined => {
    try {
      return execFileSync('git', args, {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return undefined;
    }
  };
  const head = git(['rev-parse', '--short', 'HEAD']);
  if (head === undefined) return '?';
  return git(['status', '--porcelain']) === '' ? head : `${head} (working tree has changes)`;
}
