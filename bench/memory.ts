// Memory against throughput: the sidecar as `npm start` runs it, and with the heap options
// of `npm run start:lean`, beside the bare passthrough, in the same run.
//
//   npx tsc -p tsconfig.json && node dist/bench/memory.js [--rounds 3] [--duration 5]
//       [--warmup 2] [--modes non-stream,stream]
//
// Each round starts every target afresh (in an order that rotates from round to round),
// loads it with non-stream then stream-64 requests at 64 connections (or the modes given,
// in their order: `--modes stream` is a process that only ever serves streams), waits SETTLE_S and
// reads its RSS: so each reading is of one load, not of the whole run. The rig is the
// latency scenario's: the target alone on CPU 0; mock, wrk and this orchestrator on CPU 1.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkAnswers, requestBody } from './support/chat-requests.js';
import { GOALS, mb, median, modeLabel, SETTLE_S, type Mode } from './support/latency-report.js';
import { memoryOf, pinSelf, sleep } from './support/processes.js';
import { chatUrl, DIST, LOAD_CPU, measure, ROOT, sidecarConfig } from './support/rig.js';
import { startMock, startPassthroughProcess, startSidecarProcess } from './support/rig.js';
import { PASSTHROUGH_NODE_FLAGS } from './support/rig.js';
import type { Server } from './support/rig.js';
import { machine, repositoryState } from './support/provenance.js';
import { startNodeFlags } from './support/start-flags.js';
import { wrkVersion, writeWrkScript } from './support/wrk.js';

const MODES: readonly Mode[] = ['non-stream', 'stream'];
const CONNECTIONS = 64;

type Target = 'sidecar' | 'sidecar, lean' | 'passthrough';
const TARGETS: readonly Target[] = ['sidecar', 'sidecar, lean', 'passthrough'];

interface Reading {
  rps: Record<Mode, number>;
  p99Us: Record<Mode, number>;
  cpuUsPerRequest: Record<Mode, number>;
  steadyRssBytes: number;
  peakRssBytes: number;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: process.env.BENCH_ROUNDS ?? '3' },
      duration: { type: 'string', default: process.env.BENCH_DURATION_S ?? '5' },
      warmup: { type: 'string', default: process.env.BENCH_WARMUP_S ?? '2' },
      modes: { type: 'string', default: process.env.BENCH_MODES ?? MODES.join(',') },
    },
  });
  const modes = values.modes.split(',').map((mode) => mode.trim()) as Mode[];
  if (modes.some((mode) => !MODES.includes(mode)) || new Set(modes).size !== modes.length) {
    throw new Error(`--modes takes ${MODES.join(', ')} or both, comma-separated, each once`);
  }
  const rounds = Number(values.rounds);
  const durationS = Number(values.duration);
  const warmupS = Number(values.warmup);
  for (const [name, n] of [
    ['rounds', rounds],
    ['duration', durationS],
    ['warmup', warmupS],
  ] as const) {
    if (!Number.isInteger(n) || n < (name === 'warmup' ? 0 : 1)) {
      throw new Error(`--${name} must be a whole number (at least ${name === 'warmup' ? 0 : 1})`);
    }
  }
  const wrk = wrkVersion();
  if (wrk === undefined) throw new Error('wrk is not installed: apt-get install -y wrk');
  const repository = repositoryState(ROOT);
  const packageJson = readFileSync(join(ROOT, 'package.json'), 'utf8');
  const flags = startNodeFlags(packageJson, 'start');
  const lean = startNodeFlags(packageJson, 'start:lean');
  pinSelf(LOAD_CPU);
  log(
    `memory bench: about ${Math.ceil((rounds * 3 * modes.length * (warmupS + durationS + 1) + rounds * 3 * (SETTLE_S + 2)) / 60)} min; npm start flags: ${flags.join(' ')}; lean flags: ${lean.join(' ')}`,
  );

  const tmp = mkdtempSync(join(tmpdir(), 'modelgate-memory-'));
  const mock = await startMock(64);
  try {
    const configPath = join(tmp, 'sidecar.yaml');
    writeFileSync(configPath, sidecarConfig(mock.port));
    const scripts = { 'non-stream': join(tmp, 'non-stream.lua'), stream: join(tmp, 'stream.lua') };
    for (const mode of MODES) writeWrkScript(scripts[mode], requestBody(mode));

    const start = (target: Target): Promise<Server> =>
      target === 'passthrough'
        ? startPassthroughProcess(mock.port)
        : startSidecarProcess({
            main: join(DIST, 'sidecar/main.js'),
            configPath,
            nodeFlags: target === 'sidecar, lean' ? lean : flags,
          });

    const readings: Record<Target, Reading[]> = {
      sidecar: [],
      'sidecar, lean': [],
      passthrough: [],
    };
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < TARGETS.length; k++) {
        const target = TARGETS[(round + k) % TARGETS.length];
        const server = await start(target);
        try {
          await checkAnswers({ [target]: chatUrl(server.port) }, 64, modes);
          const reading = { rps: {}, p99Us: {}, cpuUsPerRequest: {} } as Reading;
          for (const mode of modes) {
            const run = (seconds: number) =>
              measure({
                url: chatUrl(server.port),
                pid: server.proc.pid,
                mockPid: mock.proc.pid,
                scriptPath: scripts[mode],
                connections: CONNECTIONS,
                seconds,
              });
            // The warm-up, then the measured run: the last one's figures are kept.
            for (const seconds of warmupS > 0 ? [warmupS, durationS] : [durationS]) {
              const m = await run(seconds);
              if (m.errors > 0) throw new Error(`${target} ${mode}: ${m.errorKinds}`);
              reading.rps[mode] = m.rps;
              reading.p99Us[mode] = m.p99Us;
              reading.cpuUsPerRequest[mode] = m.cpuUsPerRequest;
            }
          }
          await sleep(SETTLE_S * 1000);
          const memory = memoryOf(server.proc.pid);
          reading.steadyRssBytes = memory.rssBytes;
          reading.peakRssBytes = memory.peakRssBytes;
          readings[target].push(reading);
          log(
            `round ${round + 1} ${target}: ` +
              `${modes.map((mode) => Math.round(reading.rps[mode])).join(' / ')} req/s, ` +
              `RSS ${mb(memory.rssBytes)} ` +
              `(peak ${mb(memory.peakRssBytes)})`,
          );
        } finally {
          await server.proc.stop();
        }
      }
    }

    const report = formatMemoryRun({
      readings,
      modes,
      flags,
      lean,
      rounds,
      durationS,
      warmupS,
      wrk,
      repository,
    });
    const dir = join(ROOT, 'bench/results');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `memory-${new Date().toISOString().slice(0, 10)}.md`);
    writeFileSync(path, report);
    process.stdout.write(report);
    log(`written to ${path}`);
  } finally {
    await mock.proc.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

interface MemoryRun {
  readings: Record<Target, Reading[]>;
  /** The modes each target served, in order. */
  modes: readonly Mode[];
  /** The node options of npm start, and of npm run start:lean. */
  flags: string[];
  lean: string[];
  rounds: number;
  durationS: number;
  warmupS: number;
  wrk: string;
  /** The commit the run began at (repositoryState). */
  repository: string;
}

export function formatMemoryRun(run: MemoryRun): string {
  const { readings, modes } = run;
  const base = readings.passthrough;
  // Per-round ratios to the passthrough of the same round, then their median.
  const ratio = (target: Target, mode: Mode): number =>
    median(readings[target].map((r, i) => r.rps[mode] / base[i].rps[mode]));
  const row = (target: Target): string => {
    const rs = readings[target];
    const m = (f: (r: Reading) => number): number => median(rs.map(f));
    const steady = rs.map((r) => r.steadyRssBytes);
    const cells = [
      target === 'passthrough'
        ? `passthrough, \`${PASSTHROUGH_NODE_FLAGS.join(' ')}\``
        : `${target === 'sidecar' ? 'npm start' : 'npm run start:lean'}, \`${(target === 'sidecar' ? run.flags : run.lean).join(' ')}\``,
      ...modes.map((mode) => String(Math.round(m((r) => r.rps[mode])))),
      ...modes.map(
        (mode) => (target === 'passthrough' ? '1' : ratio(target, mode).toFixed(2)) + 'x',
      ),
      ...modes.map((mode) => String(Math.round(m((r) => r.cpuUsPerRequest[mode])))),
      ...modes.map((mode) => (m((r) => r.p99Us[mode]) / 1000).toFixed(2)),
      mb(median(steady)),
      mb(Math.max(...steady)),
      mb(m((r) => r.peakRssBytes)),
    ];
    return `| ${cells.join(' | ')} |`;
  };
  return [
    `# Memory against throughput, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `${run.rounds} rounds; in each, every target is started afresh, then loaded at ` +
      `${CONNECTIONS} connections with ${modes.map((mode) => modeLabel(mode, 64)).join(' and then ')} requests ` +
      `(${run.warmupS} s warm-up and ${run.durationS} s measured each); its RSS is read ` +
      `${SETTLE_S} s after the load. ${run.wrk}; Node ${process.version}. Figures are ` +
      'medians over rounds; ratios are medians of per-round ratios to the passthrough.',
    '',
    `Machine: ${machine()}. Repository at ${run.repository} when the run began.`,
    '',
    `| target | ${[
      ...modes.map((mode) => `${mode} req/s`),
      ...modes.map((mode) => `${mode} ÷ passthrough`),
      ...modes.map((mode) => `CPU µs/req ${mode}`),
      ...modes.map((mode) => `p99 ms ${mode}`),
    ].join(' | ')} | steady RSS | largest steady RSS | peak RSS (VmHWM) |`,
    `|---|${'---:|'.repeat(modes.length * 4 + 3)}`,
    ...TARGETS.map(row),
    '',
    `Target for steady RSS: under ${mb(GOALS.maxRssBytes)}.`,
    '',
  ].join('\n');
}

main().catch((err: unknown) => {
  log(`memory bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
