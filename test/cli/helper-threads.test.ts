import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HELPER_NICE, parseHelperNice } from '../../sidecar/cli/helper-threads.js';

describe('--helper-nice', () => {
  it.each([
    [undefined, DEFAULT_HELPER_NICE],
    ['', DEFAULT_HELPER_NICE],
    [' ', DEFAULT_HELPER_NICE],
    ['0', 0],
    ['7', 7],
    ['19', 19],
  ])('reads %j as %d', (text, nice) => {
    expect(parseHelperNice(text, '--helper-nice')).toBe(nice);
  });

  it.each(['20', '-1', '5.5', 'ten', '0x5', '1e1'])('refuses "%s", naming the option', (text) => {
    expect(() => parseHelperNice(text, 'MODELGATE_HELPER_NICE')).toThrow(
      `MODELGATE_HELPER_NICE must be a whole number from 0 to 19, got "${text}"`,
    );
  });
});

// Run in a child process of its own: lowering this test runner's threads would outlast the
// test (raising a nice value back needs privileges).
const MODULE = resolve(import.meta.dirname, '../../dist/sidecar/cli/helper-threads.js');
const built = existsSync(MODULE);

/** Starts node with `script` (ESM, MODULE importable as `h`); returns what it printed. */
function child(script: string): unknown {
  const run = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import * as h from ${JSON.stringify(MODULE)};\n${script}`],
    { encoding: 'utf8', timeout: 10_000 },
  );
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout);
}

const NICE_OF = `
import { readdirSync, readFileSync } from 'node:fs';
const niceOf = () => Object.fromEntries(readdirSync('/proc/self/task').map((t) => [
  t === String(process.pid) ? 'main' : t,
  Number(readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[16]),
]));`;

describe.runIf(process.platform === 'linux')('lowering the helper threads', () => {
  it('needs the build (npm run build) to have run', () => {
    expect(built, `${MODULE} is missing: run npm run build`).toBe(true);
  });

  it.runIf(built)('gives every thread but the main one the nice value, and says how many', () => {
    const out = child(`${NICE_OF}
const before = niceOf();
const helpers = h.lowerHelperThreads(7);
helpers.stop();
console.log(JSON.stringify({ before, after: niceOf(), lowered: helpers.lowered }));`) as {
      before: Record<string, number>;
      after: Record<string, number>;
      lowered: number;
    };
    // Relative to the nice value this runner passed on, in case it runs under `nice`.
    const base = out.before.main;
    const helpers = Object.keys(out.after).filter((t) => t !== 'main');
    expect(helpers.length).toBeGreaterThan(0);
    expect(out.after.main).toBe(base);
    for (const t of helpers) expect(out.after[t], `thread ${t}`).toBe(Math.max(base, 7));
    expect(out.lowered).toBe(base < 7 ? helpers.length : 0);
  });

  it.runIf(built)('catches a thread started later on its next scan', () => {
    const out = child(`${NICE_OF}
import { Worker } from 'node:worker_threads';
const helpers = h.lowerHelperThreads(9, { rescanMs: 50 });
const first = helpers.lowered;
const known = Object.keys(niceOf());
const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
await new Promise((r) => worker.once('online', r));
await new Promise((r) => setTimeout(r, 300));
const later = niceOf();
helpers.stop();
await worker.terminate();
console.log(JSON.stringify({ first, lowered: helpers.lowered, known, later }));`) as {
      first: number;
      lowered: number;
      known: string[];
      later: Record<string, number>;
    };
    const fresh = Object.keys(out.later).filter((t) => !out.known.includes(t));
    expect(fresh.length, 'a worker runs on a thread of its own').toBeGreaterThan(0);
    expect(out.later.main, 'this test needs a runner below nice 9').toBeLessThan(9);
    for (const t of fresh) expect(out.later[t], `thread ${t}`).toBe(9);
    expect(out.lowered).toBe(out.first + fresh.length);
  });

  it.runIf(built)('leaves every thread alone at 0, and never raises a lower priority', () => {
    const out = child(`${NICE_OF}
const off = h.lowerHelperThreads(0);
const atZero = niceOf();
const high = h.lowerHelperThreads(12);
high.stop();
const milder = h.lowerHelperThreads(4);
milder.stop();
console.log(JSON.stringify({ offLowered: off.lowered, atZero, after: niceOf(), milder: milder.lowered }));`) as {
      offLowered: number;
      atZero: Record<string, number>;
      after: Record<string, number>;
      milder: number;
    };
    const base = out.atZero.main;
    expect(out.offLowered).toBe(0);
    expect(Object.values(out.atZero).every((n) => n === base)).toBe(true);
    for (const [t, n] of Object.entries(out.after)) {
      expect(n, `thread ${t}`).toBe(t === 'main' ? base : Math.max(base, 12));
    }
    expect(out.milder).toBe(0);
  });
});
