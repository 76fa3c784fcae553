// Translation overhead per protocol (issue 3): the CPU each native adapter spends on one
// request, beside the OpenAI passthrough measured in the same process and run. Per protocol,
// buildChat for the same ~2 KB client request, then parseChat of a non-streamed answer or the
// stream decoder over a 64-delta answer arriving in 4 KB reads, each in the provider's own
// wire format. No network: adapters come from their factories with a fake AdapterInit.
//
//   npx tsc -p tsconfig.json && node dist/bench/translation.js [--rounds 51]

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForQuiet } from './support/cpu-usage.js';
import { pinSelf } from './support/processes.js';
import { machine, repositoryState } from './support/provenance.js';
import { buildContenders, type Contender } from './translation/adapters.js';
import { checkCell } from './translation/check-output.js';
import { chatCall } from './translation/client-request.js';
import { heapBytesPerRequest, sinkValue, type Cell, type Mode } from './translation/measure.js';
import { answerBody } from './translation/provider-answers.js';
import { networkReads, streamBody } from './translation/provider-streams.js';
import { formatTranslationRun, type CellResult } from './translation/report.js';
import { runRounds } from './translation/rounds.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const MODES: readonly Mode[] = ['non-stream', 'stream'];
const READ_BYTES = 4096;
// Batches of about 5 ms, long enough to carry their share of young-generation collections.
const REQUESTS_PER_BATCH: Record<Mode, number> = { 'non-stream': 200, stream: 40 };
const WARMUP_ROUNDS = 10;
const DEFAULT_ROUNDS = 51;
const HEAP_TRIALS = 9;
/** The sidecar's CPU per request at 64 and 1 connections, OpenAI protocol, from this report. */
const SIDECAR_CPU_SOURCE = 'bench/results/latency-2026-12-04.md';
const SIDECAR_CPU_US: Record<Mode, [number, number]> = {
  'non-stream': [137, 276],
  stream: [364, 524],
};
const PIN_CPU = 0;
const QUIET_LIMIT_PCT = 25;
const QUIET_WAIT_MS = 30_000;

function readRounds(args: string[]): number {
  const at = args.indexOf('--rounds');
  if (at === -1) return DEFAULT_ROUNDS;
  const rounds = Number(args[at + 1]);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a positive integer');
  return rounds;
}

function makeCell(contender: Contender, mode: Mode): Cell & { events: number } {
  const call = chatCall(contender.target, mode === 'stream');
  if (mode === 'non-stream') {
    return { contender, mode, call, upstream: [answerBody(contender.format)], events: 0 };
  }
  const { body, events } = streamBody(contender.format);
  return { contender, mode, call, upstream: networkReads(body, READ_BYTES), events };
}

function tryPin(): string {
  try {
    pinSelf(PIN_CPU);
    return `all threads pinned to CPU ${PIN_CPU}, as the sidecar is in the latency bench`;
  } catch (err) {
    return `not pinned (${(err as Error).message})`;
  }
}

interface RunFacts {
  rounds: number;
  pinning: string;
  waitedMs: number;
  coreBusyPct: number[];
  ownPct: number;
  cells: readonly Cell[];
}

function describeRun(run: RunFacts): string[] {
  return [
    `Machine: ${machine()}, shared with other work; ${run.pinning}.`,
    `Before the rounds, ${(run.waitedMs / 1000).toFixed(1)} s went to waiting for every core ` +
      `to be under ${QUIET_LIMIT_PCT}% busy (at most ${QUIET_WAIT_MS / 1000} s). During them: ` +
      run.coreBusyPct.map((pct, core) => `CPU ${core} ${pct.toFixed(0)}% busy`).join(', ') +
      `; this process ${run.ownPct.toFixed(0)}% of a core.`,
    `Node ${process.version}; repository at ${repositoryState(ROOT)}.`,
    `Client request: ${run.cells[0].call.raw.length} bytes of OpenAI chat JSON (system message, ` +
      'user / assistant / user turns, one function tool with a 3-property schema), the same ' +
      'for every protocol; each adapter made by its factory in ADAPTER_FACTORIES from a fake ' +
      'AdapterInit.',
    "Answers: the same 64-token text and token counts in each provider's own wire format. " +
      "Streams: 64 text deltas plus each protocol's own opening, finish and usage events " +
      "(Gemini puts the finish and usage on its last delta; Bedrock's are binary event-stream " +
      `frames), fed to the decoder in ${READ_BYTES}-byte reads. Decode = openStream, every ` +
      'push, end.',
    `${run.rounds} rounds after ${WARMUP_ROUNDS} warm-up rounds; each round runs every cell ` +
      `once, as a batch of ${REQUESTS_PER_BATCH['non-stream']} non-stream or ` +
      `${REQUESTS_PER_BATCH.stream} stream requests, cells in a new random order per round. ` +
      'Figures are medians over rounds of the batch means (so collections are included); ' +
      '"vs openai" is the difference and ratio of those medians to the OpenAI ones.',
    'CPU µs: process.cpuUsage over each batch (every thread, GC helpers included), per ' +
      'request: unlike the wall clock, it does not count time other work held the core. ' +
      'JS heap KB: young-generation growth over one request after a ' +
      `full GC, less the probe's own, median of ${HEAP_TRIALS}; Buffer backing stores are ` +
      'outside the heap and not counted.',
    'Vertex: Gemini models, through the Gemini translators it shares; the service-account key ' +
      'is generated in a temporary directory and the token exchange answered in process ' +
      '(vertexAdapterFactory with a stub poster, the factory ADAPTER_FACTORIES holds), so per ' +
      'request the adapter pays only for its cached token. Bedrock is shown signing with ' +
      'SigV4 (AWS keys) and with a Bedrock API key (bearer, no signing).',
  ];
}

async function main(): Promise<void> {
  const rounds = readRounds(process.argv.slice(2));
  const pinning = tryPin();
  const cells = buildContenders().flatMap((c) => MODES.map((mode) => makeCell(c, mode)));
  for (const cell of cells) await checkCell(cell);

  const waitedMs = await waitForQuiet(QUIET_LIMIT_PCT, QUIET_WAIT_MS);
  const plan = { cells, rounds, warmupRounds: WARMUP_ROUNDS, requestsPerBatch: REQUESTS_PER_BATCH };
  const { samples, coreBusyPct, ownPct } = await runRounds(plan);
  if (sinkValue() === 0) throw new Error('the adapters produced nothing');

  const results: CellResult[] = [];
  for (const cell of cells) {
    const request = await cell.contender.adapter.buildChat(cell.call);
    results.push({
      label: cell.contender.label,
      mode: cell.mode,
      samples: samples.get(cell)!,
      heapBytes: await heapBytesPerRequest(cell, HEAP_TRIALS),
      requestBytes: Buffer.byteLength(request.body),
      answerBytes: cell.upstream.reduce((sum, b) => sum + b.length, 0),
      events: cell.events,
      reads: cell.upstream.length,
    });
  }

  const date = new Date();
  const notes = describeRun({ rounds, pinning, waitedMs, coreBusyPct, ownPct, cells });
  const report = formatTranslationRun({
    date,
    notes,
    cells: results,
    sidecarCpuUs: SIDECAR_CPU_US,
    sidecarCpuSource: SIDECAR_CPU_SOURCE,
  });
  process.stdout.write(`${report}\n`);

  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join('bench/results', `translation-${date.toISOString().slice(0, 10)}.md`);
  writeFileSync(join(ROOT, file), `${report}\n`);
  process.stdout.write(`\nwritten to ${file}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
