// The benchmark rig: which CPU runs what, how each server is started, and one measured wrk
// run with the CPU time the serving process spent on it.

import { mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { busyPct, readCpuTimes, readProcessCpu, readReapedChildrenCpuNs } from './cpu-usage.js';
import type { Measured } from './latency-report.js';
import { freePort, memoryOf, startPinned, startServer, waitForHttp } from './processes.js';
import type { Pinned } from './processes.js';
import { runWrk } from './wrk.js';

/** The proxy under test runs alone on this CPU... */
export const PROXY_CPU = 0;
/** ...and the mock, wrk and the orchestrator share this one. */
export const LOAD_CPU = 1;

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DIST = join(ROOT, 'dist');

export interface Server {
  proc: Pinned;
  port: number;
}

export function chatUrl(port: number): string {
  return `http://127.0.0.1:${port}/v1/chat/completions`;
}

function profilerFlags(cpuProfDir: string | undefined): string[] {
  return cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`];
}

export function startMock(chunks: number): Promise<Server> {
  return startServer({
    name: 'mock',
    cpu: LOAD_CPU,
    command: process.execPath,
    args: [join(DIST, 'bench/mocks/openai-mock.js'), '--chunks', String(chunks)],
  });
}

/**
 * node's defaults but for one: V8's memory reducer runs a full collection once a process
 * goes quiet, and the latency scenario keeps each proxy paused for a minute or more between
 * its runs. After such pauses a passthrough that served only streams fell from 16,809
 * streams a second in round 1 to 10,807-11,860 in rounds 2-5 (latency-2026-12-05-27;
 * bench/README.md, "One process per mode"). The sidecar runs without the reducer too (npm
 * start), so the two start even.
 */
export const PASSTHROUGH_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];

export function startPassthroughProcess(mockPort: number, cpuProfDir?: string): Promise<Server> {
  return startServer({
    name: 'passthrough',
    cpu: PROXY_CPU,
    command: process.execPath,
    args: [
      ...PASSTHROUGH_NODE_FLAGS,
      ...profilerFlags(cpuProfDir),
      join(DIST, 'bench/baseline-passthrough.js'),
      ...['--upstream', `http://127.0.0.1:${mockPort}`],
    ],
  });
}

export function sidecarConfig(mockPort: number): string {
  return [
    'listen: { host: 127.0.0.1, port: 0 }',
    'providers:',
    `  - { id: mock, protocol: openai, base_url: "http://127.0.0.1:${mockPort}/v1" }`,
    'models:',
    '  - { name: "bench/*", provider: mock, target: "*" }',
    '',
  ].join('\n');
}

export interface SidecarStart {
  /** The compiled entry point, dist/sidecar/main.js of this or another build. */
  main: string;
  configPath: string;
  /** Passed as --http; when absent the sidecar picks (auto). */
  http?: 'uws' | 'node';
  /** Passed as --port, which overrides the config's listen port; a free port when absent. */
  port?: number;
  /** Where its stdout (the log) goes; /dev/null when absent. */
  stdout?: number;
  cpuProfDir?: string;
  /** Options for node itself, before the entry point (e.g. heap sizes). */
  nodeFlags?: readonly string[];
}

/**
 * Starts the sidecar, its one log line per request going to `stdout` (by default /dev/null),
 * and waits for /healthz; if it does not answer, stops the process and throws.
 */
export async function startSidecarProcess(opts: SidecarStart): Promise<Server> {
  const port = opts.port ?? (await freePort());
  const { proc } = startPinned({
    name: 'sidecar',
    cpu: PROXY_CPU,
    command: process.execPath,
    args: [
      ...(opts.nodeFlags ?? []),
      ...profilerFlags(opts.cpuProfDir),
      opts.main,
      'start',
      ...['--config', opts.configPath, '--port', String(port)],
      ...(opts.http === undefined ? [] : ['--http', opts.http]),
    ],
    stdout: opts.stdout ?? openSync('/dev/null', 'w'),
  });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
  } catch (err) {
    await proc.stop(1_000);
    throw err;
  }
  return { proc, port };
}

export interface ConfiguredSidecar extends Server {
  /** The config it was started with. */
  config: string;
  /** Where its log (stdout) goes. */
  logPath: string;
}

/**
 * This build's sidecar on a free port, with `makeConfig(port)` as its config: config and
 * log in a fresh temporary folder named after `name`. Throws, with the sidecar stopped,
 * when it does not come up.
 */
export async function startConfiguredSidecar(
  name: string,
  makeConfig: (port: number) => string,
): Promise<ConfiguredSidecar> {
  const dir = mkdtempSync(join(tmpdir(), `modelgate-${name}-`));
  const port = await freePort();
  const config = makeConfig(port);
  const configPath = join(dir, 'config.yaml');
  const logPath = join(dir, 'sidecar.log');
  writeFileSync(configPath, config);
  const { proc } = await startSidecarProcess({
    main: join(DIST, 'sidecar/main.js'),
    configPath,
    port,
    stdout: openSync(logPath, 'w'),
  });
  return { proc, port, config, logPath };
}

export interface MeasureOptions {
  url: string;
  /** The process answering: the proxy, or the mock when called directly. */
  pid: number;
  /** The mock, whose CPU time counts as ours on the load core. */
  mockPid: number;
  scriptPath: string;
  connections: number;
  seconds: number;
}

/**
 * One wrk run, with the serving process's CPU time and memory read around it, and the
 * share of each core taken by work that is not ours (other tenants, steal, interrupts).
 */
export async function measure(opts: MeasureOptions): Promise<Measured> {
  const isProxy = opts.pid !== opts.mockPid;
  const cores = readCpuTimes();
  const server = readProcessCpu(opts.pid).runNs;
  const mock = readProcessCpu(opts.mockPid).runNs;
  const wrk = readReapedChildrenCpuNs();
  const self = process.cpuUsage();

  const result = await runWrk({
    url: opts.url,
    scriptPath: opts.scriptPath,
    connections: opts.connections,
    durationS: opts.seconds,
    cpu: LOAD_CPU,
  });

  const serverNs = readProcessCpu(opts.pid).runNs - server;
  const mockNs = readProcessCpu(opts.mockPid).runNs - mock;
  const wrkNs = readReapedChildrenCpuNs() - wrk;
  const selfUs = process.cpuUsage(self);
  const coresAfter = readCpuTimes();

  const pct = (ns: number): number => (100 * ns) / 1e9 / result.durationS;
  const loadOwnNs = mockNs + wrkNs + (selfUs.user + selfUs.system) * 1000;
  const loadBusy = busyPct(cores, coresAfter, LOAD_CPU);
  return {
    ...result,
    cpuUsPerRequest: serverNs / 1000 / result.requests,
    loadCpuPct: loadBusy,
    proxyCoreOtherPct: Math.max(
      0,
      busyPct(cores, coresAfter, PROXY_CPU) - (isProxy ? pct(serverNs) : 0),
    ),
    loadCoreOtherPct: Math.max(0, loadBusy - pct(loadOwnNs)),
    rssBytes: memoryOf(opts.pid).rssBytes,
  };
}
