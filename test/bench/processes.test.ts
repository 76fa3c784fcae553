import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, startPinned, type Pinned } from '../../bench/support/processes.js';

// The latency bench pauses the proxy it is not measuring; these check that a paused
// process really stops running, runs again when resumed, and can still be stopped.

/** The state letter of /proc/PID/stat: T when stopped by a signal. */
function state(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
}

/** Waits until the process's state is (or, with `not`, is no longer) `letter`. */
async function waitForState(pid: number, letter: string, not = false): Promise<void> {
  const until = Date.now() + 5_000;
  // A signalled process stops only once it next gets a CPU: the state may lag the signal.
  while ((state(pid) === letter) === not && Date.now() < until) await sleep(5);
}

/** A child that prints a counter every 10 ms, pinned to CPU 0. */
function ticking(): { proc: Pinned; ticks: () => number } {
  const { proc, child } = startPinned({
    name: 'ticker',
    cpu: 0,
    command: process.execPath,
    args: ['-e', 'let n = 0; setInterval(() => process.stdout.write(`${++n}\\n`), 10);'],
    stdout: 'pipe',
  });
  let last = 0;
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    const lines = text.trim().split('\n');
    last = Number(lines[lines.length - 1]);
  });
  return { proc, ticks: () => last };
}

describe('a pinned bench process', () => {
  let running: Pinned | undefined;
  afterEach(async () => {
    await running?.stop(1_000);
    running = undefined;
  });

  it('does not run while paused and runs again once resumed', async () => {
    const { proc, ticks } = ticking();
    running = proc;
    while (ticks() < 3) await sleep(10);

    proc.pause();
    await waitForState(proc.pid, 'T');
    expect(state(proc.pid)).toBe('T');
    await sleep(100); // lines written just before the stop may still be on their way
    const frozen = ticks();
    await sleep(200);
    expect(ticks()).toBe(frozen);

    expect(proc.resume()).toBe(true);
    expect(proc.resume()).toBe(false);
    const until = Date.now() + 5_000;
    while (ticks() <= frozen && Date.now() < until) await sleep(10);
    expect(ticks()).toBeGreaterThan(frozen);
    expect(state(proc.pid)).not.toBe('T');
  });

  it('is not paused again once stop() has begun', async () => {
    const { proc, ticks } = ticking();
    running = proc;
    while (ticks() < 1) await sleep(10);

    const stopped = proc.stop(10_000);
    proc.pause();
    const started = Date.now();
    await stopped;
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('exits on stop() while paused, without waiting for SIGKILL', async () => {
    const { proc, ticks } = ticking();
    running = proc;
    while (ticks() < 1) await sleep(10);
    proc.pause();

    const started = Date.now();
    await proc.stop(10_000);
    // Ended by a signal, well inside the 10 s grace: SIGTERM, not the SIGKILL after it.
    expect(await proc.exited).toBeNull();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
