// One request's worth of adapter work, timed in two phases, and batches of them. Batches
// rather than single requests: a batch mean carries its share of garbage collection, which a
// median over single requests would leave out, and the timer's own cost is spread thin.

import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ChatCall } from '../../sidecar/providers/adapter.js';
import { median } from '../support/latency-report.js';
import type { Contender } from './adapters.js';

export type Mode = 'non-stream' | 'stream';

/** A contender in one mode, with the call it is given and the bytes it gets back. */
export interface Cell {
  contender: Contender;
  mode: Mode;
  call: ChatCall;
  /** Non-stream: the one answer body. Stream: the stream in network reads. */
  upstream: readonly Buffer[];
}

/** Per-request means over one batch, in microseconds. */
export interface Sample {
  /** Wall clock, both phases and the loop around them. */
  totalUs: number;
  /** buildChat, awaited as the sidecar awaits it. */
  buildUs: number;
  /** parseChat, or openStream plus every push and end. */
  answerUs: number;
  /** CPU time of the whole process (all threads) over the batch. */
  cpuUs: number;
}

// Results are folded in here so that no call's output is dead code to the compiler.
let sink = 0;

export function sinkValue(): number {
  return sink;
}

function answer(cell: Cell): void {
  const { adapter } = cell.contender;
  if (cell.mode === 'non-stream') {
    const parsed = adapter.parseChat(cell.upstream[0], cell.call);
    sink += 'bytes' in parsed ? parsed.bytes.length : 1;
    return;
  }
  const decoder = adapter.openStream(cell.call);
  for (const read of cell.upstream) sink += decoder.push(read).length;
  sink += decoder.end().items.length;
}

export async function runBatch(cell: Cell, requests: number): Promise<Sample> {
  let buildMs = 0;
  let answerMs = 0;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < requests; i++) {
    const t0 = performance.now();
    const request = await cell.contender.adapter.buildChat(cell.call);
    const t1 = performance.now();
    answer(cell);
    const t2 = performance.now();
    sink += request.body.length;
    buildMs += t1 - t0;
    answerMs += t2 - t1;
  }
  const totalMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    totalUs: (totalMs * 1000) / requests,
    buildUs: (buildMs * 1000) / requests,
    answerUs: (answerMs * 1000) / requests,
    cpuUs: (cpu.user + cpu.system) / requests,
  };
}

let gc: (() => void) | undefined;

/** Bytes in the young generation, where nearly everything a request makes is allocated. */
function youngBytes(): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space') {
      bytes += space.space_used_size;
    }
  }
  return bytes;
}

/** Young-generation growth across `work`, right after a full collection; median of trials. */
async function youngGrowth(work: () => Promise<void>, trials: number): Promise<number> {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  const bytes: number[] = [];
  for (let i = 0; i < trials; i++) {
    gc();
    const before = youngBytes();
    await work();
    bytes.push(youngBytes() - before);
  }
  return median(bytes);
}

/**
 * JS heap bytes one request allocates, less what the probe allocates itself. Old-space
 * growth is left out: the concurrent sweeper after a full collection makes it move by whole
 * pages, and a request's objects are born young. Buffer backing stores live outside the heap
 * and are not counted either.
 */
export async function heapBytesPerRequest(cell: Cell, trials: number): Promise<number> {
  const probeItself = await youngGrowth(async () => {}, trials);
  const request = await youngGrowth(async () => {
    const request = await cell.contender.adapter.buildChat(cell.call);
    answer(cell);
    sink += request.body.length;
  }, trials);
  return request - probeItself;
}
