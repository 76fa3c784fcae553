// Child processes for benchmarks: each pinned to one CPU with taskset (which execs the
// program, so the pid we hold is the program's own), each stopped by its pid alone.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export interface Pinned {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code once the process has gone. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL if it is still there after `graceMs`; a paused process is resumed. */
  stop(graceMs?: number): Promise<void>;
  /** SIGSTOP: not one of its threads runs until resume(). Does nothing once stop() began. */
  pause(): void;
  /** SIGCONT. Says whether it was paused. */
  resume(): boolean;
}

export interface PinnedOptions {
  name: string;
  cpu: number;
  command: string;
  args: string[];
  /** 'pipe' to read a ready line; a file descriptor to send output there. */
  stdout: 'pipe' | number;
}

const READY_TIMEOUT_MS = 10_000;

export function startPinned(opts: PinnedOptions): { proc: Pinned; child: ChildProcess } {
  const child = spawn('taskset', ['-c', String(opts.cpu), opts.command, ...opts.args], {
    stdio: ['ignore', opts.stdout, 'inherit'],
  });
  if (child.pid === undefined) throw new Error(`${opts.name}: could not start taskset`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  let paused = false;
  let stopping = false;
  const pause = (): void => {
    // Once stop() has begun, a pause would hold the SIGTERM back: the process must go.
    if (paused || stopping || gone()) return;
    child.kill('SIGSTOP');
    paused = true;
  };
  const resume = (): boolean => {
    if (!paused) return false;
    paused = false;
    if (!gone()) child.kill('SIGCONT');
    return true;
  };
  const stop = async (graceMs = 5_000): Promise<void> => {
    if (gone()) return;
    stopping = true;
    child.kill('SIGTERM');
    resume(); // a stopped process takes SIGTERM only once it runs again
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { proc: { name: opts.name, pid: child.pid, exited, stop, pause, resume }, child };
}

/** Starts a bench server that prints `{"port":N}` as its first stdout line. */
export async function startServer(opts: Omit<PinnedOptions, 'stdout'>): Promise<{
  proc: Pinned;
  port: number;
}> {
  const { proc, child } = startPinned({ ...opts, stdout: 'pipe' });
  const lines = createInterface({ input: child.stdout! });
  const first = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${opts.name}: not ready`)), READY_TIMEOUT_MS);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    void proc.exited.then((code) => reject(new Error(`${opts.name}: exited with ${code}`)));
  });
  try {
    const port = (JSON.parse(await first) as { port: number }).port;
    lines.on('line', () => undefined); // keep draining whatever else it says
    return { proc, port };
  } catch (err) {
    await proc.stop(1_000);
    throw err;
  }
}

/** A port that was free a moment ago, for a child that cannot report its own. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls a loopback URL until it answers 200, up to a deadline. */
export async function waitForHttp(url: string, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** Resident and peak resident memory of a process, in bytes, from /proc/PID/status. */
export function memoryOf(pid: number): { rssBytes: number; peakRssBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : NaN;
  };
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}

/** Moves all of this process's threads onto one CPU, off the proxy's core. */
export function pinSelf(cpu: number): void {
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)]);
  if (result.status !== 0) throw new Error(`taskset -p failed: ${String(result.stderr).trim()}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
