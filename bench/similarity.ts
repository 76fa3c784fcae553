// Top-k cosine search over 10k x 384-dim vectors: the WASM SIMD kernel (through VectorIndex, as
// the semantic cache will call it) beside two plain-JS scans measured in the same run: the
// straightforward loop (the baseline) and one with four independent sums, which shows how much
// of the gap is SIMD rather than instruction-level parallelism.
//
//   npx tsc -p tsconfig.json && node dist/bench/similarity.js

import { performance } from 'node:perf_hooks';
import { loadSimilarityKernel, VectorIndex } from '../sidecar/cache/similarity-kernel.js';

const COUNT = 10_000;
const DIM = 384;
const K = 10;
const MIN_SCORE = -1;
const QUERIES = 64;
const WARMUP_RUNS = 100;
const ROUNDS = 5;
const RUNS_PER_ROUND = 100;

interface Hit {
  index: number;
  score: number;
}

// xorshift32, so every run searches the same data.
function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

function randomVector(next: () => number): Float32Array {
  const vec = new Float32Array(DIM);
  for (let i = 0; i < DIM; i++) vec[i] = next() * 2 - 1;
  return vec;
}

function normalizeCopy(vec: Float32Array): Float32Array {
  let squares = 0;
  for (let i = 0; i < vec.length; i++) squares += vec[i] * vec[i];
  const scale = squares === 0 ? 0 : 1 / Math.sqrt(squares);
  return vec.map((x) => x * scale);
}

// The loop one would write first: each add waits for the one before it.
function dotSimple(q: Float32Array, rows: Float32Array, base: number): number {
  let sum = 0;
  for (let i = 0; i < DIM; i++) sum += q[i] * rows[base + i];
  return sum;
}

// The same with four independent sums, as the kernel does per lane; DIM is a multiple of 4.
function dotUnrolled(q: Float32Array, rows: Float32Array, base: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < DIM; i += 4) {
    s0 += q[i] * rows[base + i];
    s1 += q[i + 1] * rows[base + i + 1];
    s2 += q[i + 2] * rows[base + i + 2];
    s3 += q[i + 3] * rows[base + i + 3];
  }
  return s0 + s1 + s2 + s3;
}

/** The baselines: plain JS over the same packed, normalized rows, f64 sums. */
class PlainJsIndex {
  readonly #rows = new Float32Array(COUNT * DIM);
  readonly #unrolled: boolean;
  #size = 0;

  constructor(unrolled: boolean) {
    this.#unrolled = unrolled;
  }

  add(vec: Float32Array): void {
    this.#rows.set(normalizeCopy(vec), this.#size * DIM);
    this.#size++;
  }

  search(query: Float32Array, k: number, minScore: number): Hit[] {
    const q = normalizeCopy(query);
    const rows = this.#rows;
    const hits: Hit[] = [];
    for (let row = 0; row < this.#size; row++) {
      const base = row * DIM;
      const score = this.#unrolled ? dotUnrolled(q, rows, base) : dotSimple(q, rows, base);
      if (score < minScore) continue;
      if (hits.length === k && score <= hits[k - 1].score) continue;

      // Insertion into a short sorted list beats a heap for k = 10.
      let at = Math.min(hits.length, k - 1);
      while (at > 0 && hits[at - 1].score < score) at--;
      hits.splice(at, 0, { index: row, score });
      if (hits.length > k) hits.pop();
    }
    return hits;
  }
}

function timeRuns(
  search: (query: Float32Array) => unknown,
  queries: Float32Array[],
  runs: number,
  into: number[],
): void {
  for (let run = 0; run < runs; run++) {
    const query = queries[run % queries.length];
    const start = performance.now();
    search(query);
    into.push(performance.now() - start);
  }
}

function median(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

async function main(): Promise<void> {
  const next = rng(2026);
  const vectors = Array.from({ length: COUNT }, () => randomVector(next));
  const queries = Array.from({ length: QUERIES }, () => randomVector(next));

  const wasmIndex = new VectorIndex(await loadSimilarityKernel(), { dim: DIM });
  const simpleIndex = new PlainJsIndex(false);
  const unrolledIndex = new PlainJsIndex(true);
  for (const vec of vectors) {
    wasmIndex.add(vec);
    simpleIndex.add(vec);
    unrolledIndex.add(vec);
  }

  const contenders = [
    { label: 'wasm simd (VectorIndex.search)', index: wasmIndex, times: [] as number[] },
    { label: 'plain js, one sum (baseline)', index: simpleIndex, times: [] as number[] },
    { label: 'plain js, four sums', index: unrolledIndex, times: [] as number[] },
  ];
  const searches = contenders.map(
    ({ index }) =>
      (query: Float32Array) =>
        index.search(query, K, MIN_SCORE),
  );

  // All must find the same best match, or the timing compares different work.
  for (const query of queries) {
    const best = new Set(searches.map((search) => search(query)[0].index));
    if (best.size !== 1) throw new Error('the searches disagree on the best match');
  }

  searches.forEach((search) => timeRuns(search, queries, WARMUP_RUNS, []));
  // Interleaved rounds, so that drift in clock speed or GC falls on every contender alike.
  for (let round = 0; round < ROUNDS; round++) {
    searches.forEach((search, i) => timeRuns(search, queries, RUNS_PER_ROUND, contenders[i].times));
  }

  const wasmMs = median(contenders[0].times);
  const lines = [
    `top-${K} cosine search, ${COUNT} vectors x ${DIM} dims, ` +
      `median of ${ROUNDS * RUNS_PER_ROUND} runs each, node ${process.version}`,
    `  ${''.padEnd(32)} ${'median'.padStart(10)}  time / wasm`,
  ];
  for (const { label, times } of contenders) {
    const ms = median(times);
    const ratio = `${(ms / wasmMs).toFixed(1)}x`;
    lines.push(`  ${label.padEnd(32)} ${ms.toFixed(3).padStart(7)} ms  ${ratio.padStart(7)}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
