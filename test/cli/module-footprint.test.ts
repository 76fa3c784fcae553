// What the sidecar's command loads decides a share of its resident memory: every module
// parsed stays in the heap. This checks, on the built command, that the module graph of
// `modelgate` leaves out what it does not use.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, '../../dist/sidecar/main.js');

/** The CommonJS modules that importing the command loaded, under node_modules/PKG/. */
function loadedFrom(pkg: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(MAIN)});
    const loaded = Object.keys(createRequire(${JSON.stringify(MAIN)}).cache);
    process.stdout.write(JSON.stringify(loaded.filter((f) => f.includes('/node_modules/${pkg}/'))));
  `;
  // With no arguments the command prints its usage and returns: nothing is started.
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out.slice(out.lastIndexOf('['))) as string[];
}

describe.skipIf(!existsSync(MAIN))('the command module graph (needs npm run build)', () => {
  it("loads undici's pool, not its entry point (fetch, WebSocket, cache: 9 MB)", () => {
    const undici = loadedFrom('undici');
    expect(undici.some((f) => f.endsWith('/lib/dispatcher/pool.js'))).toBe(true);
    expect(undici.filter((f) => f.endsWith('/undici/index.js'))).toEqual([]);
    expect(undici.filter((f) => f.includes('/lib/web/'))).toEqual([]);
  });
});
