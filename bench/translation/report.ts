// The translation report: per protocol, the adapter's own work per request beside the OpenAI
// passthrough's, measured in the same run, and what that adds to the sidecar's CPU.

import { median } from '../support/latency-report.js';
import type { Mode, Sample } from './measure.js';

export interface CellResult {
  label: string;
  mode: Mode;
  /** One per measured round. */
  samples: Sample[];
  heapBytes: number;
  /** The upstream request body buildChat made. */
  requestBytes: number;
  /** The answer body, or the whole stream. */
  answerBytes: number;
  /** Stream only: events in it, and network reads it arrived in. */
  events: number;
  reads: number;
}

export interface TranslationRun {
  date: Date;
  /** Machine, build and method lines, said before the tables. */
  notes: string[];
  /** OpenAI's cells first; it is the baseline. */
  cells: CellResult[];
  /** The sidecar's CPU per request in the latency bench, at 64 and 1 connections. */
  sidecarCpuUs: Readonly<Record<Mode, readonly [number, number]>>;
  /** Where those figures come from. */
  sidecarCpuSource: string;
}

const us = (x: number): string => x.toFixed(1);
const signed = (x: number): string => `${x >= 0 ? '+' : '−'}${us(Math.abs(x))}`;
const kb = (bytes: number): string => (bytes / 1024).toFixed(1);
const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;

function pick(run: TranslationRun, label: string, mode: Mode): CellResult {
  const cell = run.cells.find((c) => c.label === label && c.mode === mode);
  if (cell === undefined) throw new Error(`no ${mode} cell for ${label}`);
  return cell;
}

const mid = (cell: CellResult, key: keyof Sample): number =>
  median(cell.samples.map((s) => s[key]));

/** CPU over the baseline's, both medians of the same interleaved rounds. */
function versus(cell: CellResult, base: CellResult): { deltaUs: number; ratio: number } {
  const [cpu, baseCpu] = [mid(cell, 'cpuUs'), mid(base, 'cpuUs')];
  return { deltaUs: cpu - baseCpu, ratio: cpu / baseCpu };
}

export function formatTranslationRun(run: TranslationRun): string {
  const labels = [...new Set(run.cells.map((c) => c.label))];
  const [baseLabel] = labels;
  const base = {
    'non-stream': pick(run, baseLabel, 'non-stream'),
    stream: pick(run, baseLabel, 'stream'),
  };
  const lines = [
    `# Translation overhead per protocol, ${run.date.toISOString().slice(0, 10)}`,
    '',
    ...run.notes.map((n) => `- ${n}`),
    '',
    '## Adapter CPU per request (median of rounds)',
    '',
    '| protocol | non-stream CPU µs (build + parse) | vs openai | ' +
      'stream CPU µs (build + decode) | vs openai | wall µs (non-stream / stream) | ' +
      'JS heap KB (non-stream / stream) |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const label of labels) {
    const plain = pick(run, label, 'non-stream');
    const stream = pick(run, label, 'stream');
    const cmp = (cell: CellResult) => {
      if (label === baseLabel) return 'baseline';
      const { deltaUs, ratio } = versus(cell, base[cell.mode]);
      return `${signed(deltaUs)} µs, ${ratio.toFixed(1)}x`;
    };
    lines.push(
      `| ${label} | ${us(mid(plain, 'cpuUs'))} | ${cmp(plain)} | ${us(mid(stream, 'cpuUs'))} | ` +
        `${cmp(stream)} | ${us(mid(plain, 'totalUs'))} / ${us(mid(stream, 'totalUs'))} | ` +
        `${kb(plain.heapBytes)} / ${kb(stream.heapBytes)} |`,
    );
  }

  lines.push(
    '',
    '## Where it goes (median wall µs per request) and the bytes involved',
    '',
    '| protocol | build | parse | build (stream) | decode | decode ns / event | ' +
      'upstream body B | answer B | stream B, events, reads |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const label of labels) {
    const plain = pick(run, label, 'non-stream');
    const stream = pick(run, label, 'stream');
    const decodeUs = mid(stream, 'answerUs');
    const perEventNs = ((decodeUs * 1000) / stream.events).toFixed(0);
    lines.push(
      `| ${label} | ${us(mid(plain, 'buildUs'))} | ${us(mid(plain, 'answerUs'))} | ` +
        `${us(mid(stream, 'buildUs'))} | ${us(decodeUs)} | ${perEventNs} | ` +
        `${plain.requestBytes} | ${plain.answerBytes} | ` +
        `${stream.answerBytes}, ${stream.events}, ${stream.reads} |`,
    );
  }

  lines.push(
    '',
    'Phases are timed by the wall clock, which also counts time the process waited for its ' +
      'core; on a quiet core it equals CPU time. A collection is charged to the phase it ' +
      "interrupts, so the stream rows' build figures also carry some of the decoder's garbage.",
  );

  const cpu = run.sidecarCpuUs;
  lines.push(
    '',
    "## Against the sidecar's CPU per request",
    '',
    `The latency bench (${run.sidecarCpuSource}) measured the sidecar's CPU per request to an ` +
      `OpenAI-protocol provider at ${cpu['non-stream'][0]} µs non-streamed and ` +
      `${cpu.stream[0]} µs streamed at 64 connections (${cpu['non-stream'][1]} and ` +
      `${cpu.stream[1]} µs at 1). A native protocol adds its overhead over the passthrough ` +
      'on top of that; the share is the overhead over those figures, 64 connections first.',
    '',
    '| protocol | non-stream overhead | adds | stream overhead | adds |',
    '|---|---:|---:|---:|---:|',
  );
  for (const label of labels.slice(1)) {
    const row = (['non-stream', 'stream'] as const).map((mode) => {
      const { deltaUs } = versus(pick(run, label, mode), base[mode]);
      const [c64, c1] = cpu[mode];
      return `${signed(deltaUs)} µs | ${pct(deltaUs / c64)} (${pct(deltaUs / c1)})`;
    });
    lines.push(`| ${label} | ${row.join(' | ')} |`);
  }
  return lines.join('\n');
}
