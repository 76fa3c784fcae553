// The first scenario: what the sidecar adds to a chat call, beside calling the mock provider
// directly and beside a bare uWS-to-undici passthrough measured in the same run.
//
//   npx tsc -p tsconfig.json && node dist/bench/latency.js [--duration 5] [--warmup 2]
//       [--rounds 3] [--connections 1,64] [--chunks 64] [--sidecar-http uws|node]
//       [--sidecar-dist DIR] [--profile]
//
// The rig: the proxy under test (passthrough or sidecar) runs alone on CPU 0; the mock, wrk
// and this orchestrator share CPU 1. Unpinned, the figures would measure the scheduler.
// bench/README.md says what each number means.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { checkAnswers, requestBody } from './support/chat-requests.js';
import { plannedSeconds, preflight, readLatencyConfig } from './support/latency-config.js';
import type { LatencyConfig } from './support/latency-config.js';
import { formatLatencyRun, median, SETTLE_S, TARGETS } from './support/latency-report.js';
import type { CellKey, LatencyRun, Measured, Memory, Mode } from './support/latency-report.js';
import type { Target } from './support/latency-report.js';
import { memoryOf, pinSelf, sleep, type Pinned } from './support/processes.js';
import { profileProxies, type Proxy } from './support/profile-proxies.js';
import { chatUrl, LOAD_CPU, measure, PROXY_CPU, ROOT, sidecarConfig } from './support/rig.js';
import { PASSTHROUGH_NODE_FLAGS } from './support/rig.js';
import { startMock, startPassthroughProcess, startSidecarProcess } from './support/rig.js';
import type { Server } from './support/rig.js';
import { describeQuietRuns, measureQuietly, quietBudget } from './support/quiet-runs.js';
import { QUIET_WAIT_BUDGET_MS, type QuietBudget } from './support/quiet-runs.js';
import { writeWrkScript } from './support/wrk.js';
import { machine, repositoryState } from './support/provenance.js';
import { startNodeFlags } from './support/start-flags.js';

const MODES: readonly Mode[] = ['non-stream', 'stream'];
const PROXIES = ['passthrough', 'sidecar'] as const;

interface Plan {
  cfg: LatencyConfig;
  /**
   * Each mode's own passthrough and sidecar; the mock is shared. A process that has served
   * one kind of request only is what a pod with one kind of traffic runs, and it can differ
   * from one that served both: V8's decisions (what it compiles, which allocations it puts
   * straight into the old generation) follow what the process has seen (bench/README.md,
   * "One process per mode").
   */
  servers: Record<Mode, Record<Target, Server>>;
  scripts: Record<Mode, string>;
}

/** How long a resumed proxy gets to catch up (overdue timers, closed idle sockets). */
const RESUME_SETTLE_MS = 250;

/**
 * Only `target` may run on the proxy core: every other proxy, of either mode, is paused
 * (SIGSTOP), because an idle proxy is not idle for long after a load. Its collector
 * finishes marking and sweeping and V8's memory reducer runs full collections seconds
 * later (the sidecar used 50 ms of CPU in the 12 s after a stream load), in bursts on the
 * core the measured proxy should have to itself. Paused, it does that work in its own next
 * run. Direct runs pause every proxy.
 */
async function runAlone(plan: Plan, mode: Mode, target: Target): Promise<void> {
  for (const other of MODES) {
    for (const proxy of PROXIES) {
      if (other !== mode || proxy !== target) plan.servers[other][proxy].proc.pause();
    }
  }
  const server = plan.servers[mode][target];
  if (target !== 'direct' && server.proc.resume()) await sleep(RESUME_SETTLE_MS);
}

async function measureCell(plan: Plan, key: CellKey, target: Target, seconds: number) {
  await runAlone(plan, key.mode, target);
  const server = plan.servers[key.mode][target];
  return measure({
    url: chatUrl(server.port),
    pid: server.proc.pid,
    mockPid: plan.servers[key.mode].direct.proc.pid,
    scriptPath: plan.scripts[key.mode],
    connections: key.connections,
    seconds,
  });
}

async function runCells(plan: Plan): Promise<{ cells: LatencyRun['cells']; budget: QuietBudget }> {
  const { cfg } = plan;
  const keys = MODES.flatMap((mode) =>
    cfg.connections.map((connections) => ({ mode, connections })),
  );
  const cells = keys.map((key) => ({
    key,
    rounds: { direct: [], passthrough: [], sidecar: [] } as Record<Target, Measured[]>,
  }));

  if (cfg.warmupS > 0) {
    log(`warm-up: ${cfg.warmupS} s per cell and target`);
    for (const key of keys) {
      for (const target of TARGETS) await measureCell(plan, key, target, cfg.warmupS);
    }
  }

  // Each round runs every cell with the three targets back to back, so the per-round
  // ratios compare runs made under the same background load.
  const total = cfg.rounds * keys.length * TARGETS.length;
  const budget = quietBudget(total);
  let done = 0;
  for (let round = 1; round <= cfg.rounds; round++) {
    for (const cell of cells) {
      for (const target of TARGETS) {
        const run = () => measureCell(plan, cell.key, target, cfg.durationS);
        const m = await measureQuietly(run, target !== 'direct', budget, log);
        cell.rounds[target].push(m);
        done++;
        log(
          `[${done}/${total}] round ${round} ${cell.key.mode} c${cell.key.connections} ` +
            `${target}: ${Math.round(m.rps)} req/s, p50 ${m.p50Us} us, p99 ${m.p99Us} us, ` +
            `${Math.round(m.cpuUsPerRequest)} us cpu/req, ` +
            `load core ${Math.round(m.loadCpuPct)}%, other work ` +
            `${Math.round(m.proxyCoreOtherPct)}% / ${Math.round(m.loadCoreOtherPct)}%` +
            (m.errors > 0 ? `, errors: ${m.errorKinds}` : ''),
        );
      }
    }
  }
  return { cells, budget };
}

function rigLines(
  cfg: LatencyConfig,
  wrk: string,
  repository: string,
  budget: QuietBudget,
  nodeFlags: readonly string[],
): string[] {
  const build = relative(ROOT, cfg.sidecarMain);
  return [
    `Machine: ${machine()}, shared with other work: figures are medians of rounds.`,
    `Pinning: the proxy under test alone on CPU ${PROXY_CPU} (taskset -c ${PROXY_CPU}), ` +
      'the other proxies paused (SIGSTOP) meanwhile; mock, wrk (1 thread) and the ' +
      `orchestrator on CPU ${LOAD_CPU}.`,
    'Each mode has its own passthrough and sidecar processes, which serve only that ' +
      "mode's requests; the RSS rows give the larger of a target's two processes.",
    `Node ${process.version}; ${wrk}; repository at ${repository} when the run began; ` +
      `sidecar ${build.startsWith('..') ? cfg.sidecarMain : build}, ` +
      `${cfg.sidecarHttp} front, node options of npm start ` +
      `(${nodeFlags.join(' ') || 'none'}); the passthrough's: ` +
      `${PASSTHROUGH_NODE_FLAGS.join(' ')}.`,
    `${cfg.rounds} rounds × ${cfg.durationS} s per cell and target after a ${cfg.warmupS} s ` +
      'warm-up per cell and target; the three targets run back to back within each round.',
    describeQuietRuns(budget),
    `Request: 2 messages, ${requestBody('non-stream').length} bytes. Stream: role chunk, ` +
      `${cfg.chunks} content chunks, finish chunk, usage chunk, [DONE], sent by the mock in ` +
      'one burst.',
    'Added latency = target minus direct-to-mock, paired per round. CPU µs/req = CPU time ' +
      'of the serving process (the mock when direct) per request. Load core busy = busy ' +
      `share of CPU ${LOAD_CPU}. Other work = busy share of CPU ${PROXY_CPU} / ` +
      `CPU ${LOAD_CPU} not spent in our processes (other tenants, steal, interrupts).`,
  ];
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  const cfg = readLatencyConfig(process.argv.slice(2), process.env);
  const wrk = preflight(cfg);
  const repository = repositoryState(ROOT);
  pinSelf(LOAD_CPU);
  const runs = cfg.rounds * cfg.connections.length * MODES.length * TARGETS.length;
  const worstS =
    plannedSeconds(cfg) + Math.ceil(runs / 4) * (cfg.durationS + 1) + QUIET_WAIT_BUDGET_MS / 1000;
  log(
    `latency bench: about ${Math.ceil(plannedSeconds(cfg) / 60)} min, ` +
      `up to ${Math.ceil(worstS / 60)} if other work disturbs runs`,
  );

  const tmp = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  const running: Pinned[] = [];
  const stopAll = () => Promise.all(running.splice(0).map((p) => p.stop()));
  // Stopped on purpose or not, the children go too: a paused proxy left behind stays paused.
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  process.once('SIGTERM', () => void stopAll().finally(() => process.exit(143)));

  try {
    const mock = await startMock(cfg.chunks);
    running.push(mock.proc);
    const configPath = join(tmp, 'sidecar.yaml');
    writeFileSync(configPath, sidecarConfig(mock.port));
    // With the node options `npm start` gives it: the bench measures what users run.
    const sidecarStart = {
      main: cfg.sidecarMain,
      configPath,
      http: cfg.sidecarHttp,
      nodeFlags: startNodeFlags(readFileSync(join(ROOT, 'package.json'), 'utf8'), 'start'),
    };
    const servers = {} as Plan['servers'];
    for (const mode of MODES) {
      const passthrough = await startPassthroughProcess(mock.port);
      running.push(passthrough.proc);
      const sidecar = await startSidecarProcess(sidecarStart);
      running.push(sidecar.proc);
      servers[mode] = { direct: mock, passthrough, sidecar };
      // Each answers one request of its own mode only before the load.
      const urls = { passthrough: chatUrl(passthrough.port), sidecar: chatUrl(sidecar.port) };
      await checkAnswers({ direct: chatUrl(mock.port), ...urls }, cfg.chunks, [mode]);
    }
    const scripts = { 'non-stream': join(tmp, 'non-stream.lua'), stream: join(tmp, 'stream.lua') };
    for (const mode of MODES) writeWrkScript(scripts[mode], requestBody(mode));

    const { cells, budget } = await runCells({ cfg, servers, scripts });
    for (const mode of MODES) for (const proxy of PROXIES) servers[mode][proxy].proc.resume();
    await sleep(SETTLE_S * 1000);
    const larger = (proxy: Proxy): Memory => {
      const each = MODES.map((mode) => memoryOf(servers[mode][proxy].proc.pid));
      return {
        rssBytes: Math.max(...each.map((m) => m.rssBytes)),
        peakRssBytes: Math.max(...each.map((m) => m.peakRssBytes)),
      };
    };
    const run: LatencyRun = {
      date: new Date(),
      rig: rigLines(cfg, wrk, repository, budget, sidecarStart.nodeFlags),
      chunks: cfg.chunks,
      cells,
      memory: {
        sidecar: larger('sidecar'),
        passthrough: larger('passthrough'),
        mock: memoryOf(mock.proc.pid),
      },
    };

    if (cfg.profile) {
      await Promise.all(
        MODES.flatMap((mode) => PROXIES.map((proxy) => servers[mode][proxy].proc.stop())),
      );
      const top = Math.max(...cfg.connections);
      const cpuPerRequest = (target: Proxy, mode: Mode): number => {
        const cell = cells.find((c) => c.key.mode === mode && c.key.connections === top)!;
        return median(cell.rounds[target].map((r) => r.cpuUsPerRequest));
      };
      const perMode = (target: Proxy) => ({
        'non-stream': cpuPerRequest(target, 'non-stream'),
        stream: cpuPerRequest(target, 'stream'),
      });
      run.profile = await profileProxies({
        cpuUsPerRequest: { sidecar: perMode('sidecar'), passthrough: perMode('passthrough') },
        sidecar: sidecarStart,
        mockPort: mock.port,
        mockPid: mock.proc.pid,
        scripts,
        connections: top,
        seconds: cfg.warmupS + cfg.durationS,
        chunks: cfg.chunks,
        tmp,
        log,
      });
    }

    const report = formatLatencyRun(run);
    process.stdout.write(`${report}\n`);
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    const file = join('bench/results', `latency-${run.date.toISOString().slice(0, 10)}.md`);
    writeFileSync(join(ROOT, file), `${report}\n`);
    log(`written to ${file}`);
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  log(`latency bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
