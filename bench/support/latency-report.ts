// Turns the rounds of the latency scenario into the markdown report: medians per cell,
// latency added over calling the mock directly, and the sidecar's ratios to the bare
// passthrough. Differences and ratios are taken per round (the three targets of a cell run
// back to back) and the median of those is reported, so slow drift on a shared machine
// cancels out instead of landing on whichever target ran in a bad minute.

import type { WrkResult } from './wrk.js';

export type Target = 'direct' | 'passthrough' | 'sidecar';
export type Mode = 'non-stream' | 'stream';

export interface Measured extends WrkResult {
  /** CPU time the serving process (the proxy, or the mock when direct) spent per request. */
  cpuUsPerRequest: number;
  /**
   * Busy share of each core not spent in our processes: other tenants of the machine,
   * steal, interrupts (loopback traffic costs a few percent). High values mean the run
   * was disturbed.
   */
  proxyCoreOtherPct: number;
  loadCoreOtherPct: number;
  /** Busy share of the load CPU (mock, wrk): near 100% means the load side set the pace. */
  loadCpuPct: number;
  /** Resident memory of the serving process right after the run. */
  rssBytes: number;
}

export interface CellKey {
  mode: Mode;
  connections: number;
}

export interface Memory {
  rssBytes: number;
  peakRssBytes: number;
}

export interface LatencyRun {
  date: Date;
  /** Lines describing the machine, versions and settings. */
  rig: string[];
  chunks: number;
  /** rounds[cell][target] = one result per round, in round order. */
  cells: { key: CellKey; rounds: Record<Target, Measured[]> }[];
  memory: { sidecar: Memory; passthrough: Memory; mock: Memory };
  /** Markdown of the profile phase, when one ran. */
  profile?: string;
}

/** Quiet time after the load before the steady memory reading. */
export const SETTLE_S = 2;

export const TARGETS: readonly Target[] = ['direct', 'passthrough', 'sidecar'];
const LABEL: Record<Target, string> = {
  direct: 'direct to mock',
  passthrough: 'bare passthrough',
  sidecar: 'sidecar',
};

/** Targets, as ratios to the bare passthrough in the same run (issue: bench/ first scenario). */
export const GOALS = { minThroughputRatio: 0.8, maxP99Ratio: 1.2, maxRssBytes: 100 * 1024 * 1024 };

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median over rounds of f(a[i], b[i]): a paired comparison. */
function pairedMedian(a: Measured[], b: Measured[], f: (x: Measured, y: Measured) => number) {
  return median(a.map((x, i) => f(x, b[i])));
}

export function ratios(cell: LatencyRun['cells'][number]) {
  const { sidecar, passthrough } = cell.rounds;
  return {
    rps: pairedMedian(sidecar, passthrough, (s, p) => s.rps / p.rps),
    p99: pairedMedian(sidecar, passthrough, (s, p) => s.p99Us / p.p99Us),
    // Requests per CPU-second: what throughput would be with the core to itself.
    efficiency: pairedMedian(sidecar, passthrough, (s, p) => p.cpuUsPerRequest / s.cpuUsPerRequest),
  };
}

const ms = (us: number): string => (us / 1000).toFixed(us < 10_000 ? 3 : 1);
const plusMs = (us: number): string => `${us >= 0 ? '+' : '−'}${ms(Math.abs(us))}`;
/** Bytes as megabytes (MiB) with one decimal, as every report prints memory. */
/** A mode as the reports name it: `stream-64` for streams of 64 content chunks. */
export function modeLabel(mode: Mode, chunks: number): string {
  return mode === 'stream' ? `stream-${chunks}` : mode;
}

export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (n: number): string => (Number.isNaN(n) ? '?' : `${Math.round(n)}%`);
const verdict = (ok: boolean): string => (ok ? 'meets' : '**misses**');

export function formatLatencyRun(run: LatencyRun): string {
  const out: string[] = [
    `# Sidecar latency and throughput, ${run.date.toISOString().slice(0, 10)}`,
    '',
    ...run.rig.map((line) => `- ${line}`),
    '',
    '## Results (median of rounds)',
    '',
    '| mode | conns | target | req/s | req/s range | p50 ms | p99 ms | added p50 ms | ' +
      'added p99 ms | CPU µs/req | load core busy | other work, core 0 / 1 | errors |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];

  for (const cell of run.cells) {
    const { mode, connections } = cell.key;
    const direct = cell.rounds.direct;
    for (const target of TARGETS) {
      const rounds = cell.rounds[target];
      const rps = rounds.map((r) => r.rps);
      const added =
        target === 'direct'
          ? ['', '']
          : [
              plusMs(pairedMedian(rounds, direct, (t, d) => t.p50Us - d.p50Us)),
              plusMs(pairedMedian(rounds, direct, (t, d) => t.p99Us - d.p99Us)),
            ];
      out.push(
        `| ${modeLabel(mode, run.chunks)} | ${connections} | ${LABEL[target]} | ${int(median(rps))} | ` +
          `${int(Math.min(...rps))}–${int(Math.max(...rps))} | ` +
          `${ms(median(rounds.map((r) => r.p50Us)))} | ` +
          `${ms(median(rounds.map((r) => r.p99Us)))} | ` +
          `${added[0]} | ${added[1]} | ` +
          `${median(rounds.map((r) => r.cpuUsPerRequest)).toFixed(0)} | ` +
          `${pct(median(rounds.map((r) => r.loadCpuPct)))} | ` +
          `${pct(median(rounds.map((r) => r.proxyCoreOtherPct)))} / ` +
          `${pct(median(rounds.map((r) => r.loadCoreOtherPct)))} | ` +
          `${errorsCell(rounds)} |`,
      );
    }
  }

  out.push(...formatGoals(run), '');
  if (run.profile !== undefined) out.push('## Sidecar CPU profile under load', '', run.profile, '');
  return out.join('\n');
}

function errorsCell(rounds: Measured[]): string {
  const total = rounds.reduce((sum, r) => sum + r.errors, 0);
  if (total === 0) return '0';
  return `${total} (${rounds
    .filter((r) => r.errors > 0)
    .map((r) => r.errorKinds)
    .join('; ')})`;
}

function formatGoals(run: LatencyRun): string[] {
  const modes = [...new Set(run.cells.map((c) => c.key.mode))];
  const cellOf = (mode: Mode, connections: number) =>
    run.cells.find((c) => c.key.mode === mode && c.key.connections === connections);
  const conns = [...new Set(run.cells.map((c) => c.key.connections))].sort((a, b) => b - a);
  const label = (mode: Mode): string => modeLabel(mode, run.chunks);

  const out = [
    '',
    '## Targets: sidecar ÷ bare passthrough, same run (median of per-round ratios)',
    '',
    `| check | ${modes.map(label).join(' | ')} | target |`,
    `|---|${modes.map(() => '---:|').join('')}---|`,
  ];
  for (const c of conns) {
    const cells = modes.map((m) => cellOf(m, c));
    const r = cells.map((cell) => (cell === undefined ? undefined : ratios(cell)));
    const show = (value: number | undefined, ok: boolean, judged: boolean): string =>
      value === undefined ? '' : `${value.toFixed(2)}x${judged ? ` ${verdict(ok)}` : ''}`;
    const judged = c === Math.max(...conns);
    out.push(
      `| throughput, ${c} conns | ${r
        .map((x) => show(x?.rps, (x?.rps ?? 0) >= GOALS.minThroughputRatio, judged))
        .join(' | ')} | ${judged ? `≥ ${GOALS.minThroughputRatio}x` : '(for information)'} |`,
      `| p99, ${c} conns | ${r
        .map((x) => show(x?.p99, (x?.p99 ?? Infinity) <= GOALS.maxP99Ratio, true))
        .join(' | ')} | ≤ ${GOALS.maxP99Ratio}x |`,
      `| requests per CPU-second, ${c} conns | ${r
        .map((x) => show(x?.efficiency, true, false))
        .join(' | ')} | (for information) |`,
    );
  }

  const { sidecar, passthrough, mock } = run.memory;
  const underLoad = (target: Target): string =>
    mb(Math.max(...run.cells.flatMap((c) => c.rounds[target].map((r) => r.rssBytes))));
  out.push(
    '',
    '| RSS | sidecar | bare passthrough | mock | target |',
    '|---|---:|---:|---:|---|',
    `| steady, ${SETTLE_S} s after the load | ${mb(sidecar.rssBytes)} ` +
      `${verdict(sidecar.rssBytes < GOALS.maxRssBytes)} | ${mb(passthrough.rssBytes)} | ` +
      `${mb(mock.rssBytes)} | < ${mb(GOALS.maxRssBytes)} |`,
    `| largest reading at the end of a run | ${underLoad('sidecar')} | ` +
      `${underLoad('passthrough')} | ${underLoad('direct')} | |`,
    `| peak (VmHWM) | ${mb(sidecar.peakRssBytes)} | ${mb(passthrough.peakRssBytes)} | ` +
      `${mb(mock.peakRssBytes)} | |`,
  );
  return out;
}
