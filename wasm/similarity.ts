// Dot products, cosine similarity and top-k search over f32 vectors in linear memory.
//
// Layout, every region 16-byte aligned:
//
//   [static data][arena: capacity x dim f32, packed][scratch: the host's query and results]
//
// The arena starts at a fixed address and only grows upward, so growth never moves a stored
// vector. The scratch area sits after the arena and moves when the arena grows; nothing in it
// outlives one call, so it is never copied.
//
// Exported functions validate their arguments once (dimension, counts, pointer ranges) and then
// run loops that use raw load/store with no per-element checks. A failed check calls `abort`,
// which the host turns into an exception.
//
// Numeric tolerance. Inputs are f32, and products are summed in f32 over 16 lanes (4
// accumulators x 4 lanes) before a horizontal reduction, so each term passes through at most
// dim/16 + 12 roundings. Against the exact sum (a JS f64 loop is exact enough to stand for it),
// with u = 2^-24 and T = (dim/16 + 16) * u:
//
//   dot        |error| <= T * sum(|a_i * b_i|)
//   cosine     |error| <= 2T     (4.8e-6 at dim 384, 1.3e-5 at dim 1536)
//   normalize  |error of each component| <= T * |component|
//   topK       |error of each score| <= 3T against the cosine of the vectors before normalizing
//
// This is the recursive-summation bound gamma_n = n*u / (1 - n*u) (Higham, "Accuracy and
// Stability of Numerical Algorithms", 2nd ed., section 4.2); the +16 leaves room for rounding the
// products, the square root and the division. It is a worst case: on random vectors the
// measured cosine error stays under a tenth of it.

import { ensureMemory, MAX_MEMORY_BYTES, memoryBytes } from './lib/memory';

const ALIGN_MASK: usize = 15;
const MAX_DIM: i32 = 1 << 16;
const MIN_CAPACITY: i32 = 16;

const arenaBase: usize = (__heap_base + ALIGN_MASK) & ~ALIGN_MASK;
let arenaDim: i32 = 0;
let arenaCap: i32 = 0;
let scratchBytes: u64 = 0;

/**
 * Makes room for at least `capacity` vectors of `dim` f32 each and returns the arena's address.
 * Capacity at least doubles on growth, so adding n vectors costs O(log n) calls to memory.grow.
 * The dimension is fixed by the first call.
 */
export function arenaReserve(capacity: i32, dim: i32): usize {
  checkDim(dim);
  if (arenaDim != 0 && dim != arenaDim) abort("dim differs from the arena's dimension");
  if (capacity < 0) abort('capacity must not be negative');

  arenaDim = dim;
  if (capacity <= arenaCap) return arenaBase;

  const doubled = <i64>arenaCap * 2;
  const next = <i32>max<i64>(<i64>capacity, max<i64>(doubled, <i64>MIN_CAPACITY));
  ensureMemory(<u64>scratchOffset(next, dim) + scratchBytes);
  arenaCap = next;
  return arenaBase;
}

export function arenaCapacity(): i32 {
  return arenaCap;
}

/**
 * Returns the address of a scratch area of at least `bytes` bytes just past the arena. The
 * address changes whenever the arena grows, and the contents do not survive that growth.
 */
export function scratchReserve(bytes: i32): usize {
  if (bytes < 0) abort('scratch size must not be negative');

  const ptr = scratchOffset(arenaCap, arenaDim);
  ensureMemory(<u64>ptr + <u64>bytes);
  if (<u64>bytes > scratchBytes) scratchBytes = <u64>bytes;
  return ptr;
}

export function dot(aPtr: usize, bPtr: usize, dim: i32): f32 {
  checkDim(dim);
  checkSpan(aPtr, dim, 'a_ptr is outside the heap or not 4-byte aligned');
  checkSpan(bPtr, dim, 'b_ptr is outside the heap or not 4-byte aligned');
  return dotUnchecked(aPtr, bPtr, dim);
}

/** Cosine similarity in [-1, 1]; 0 when either vector is all zeros. NaN in, NaN out. */
export function cosine(aPtr: usize, bPtr: usize, dim: i32): f32 {
  checkDim(dim);
  checkSpan(aPtr, dim, 'a_ptr is outside the heap or not 4-byte aligned');
  checkSpan(bPtr, dim, 'b_ptr is outside the heap or not 4-byte aligned');

  // Three passes through one kernel instead of a fused loop: one tolerance to state, and at the
  // dimensions of text embeddings both vectors stay in L1 between passes.
  const ab = dotUnchecked(aPtr, bPtr, dim);
  const aa = dotUnchecked(aPtr, aPtr, dim);
  const bb = dotUnchecked(bPtr, bPtr, dim);
  if (aa == 0 || bb == 0) return 0;

  // In f64 so that aa * bb cannot overflow where each alone does not.
  const c = <f64>ab / Math.sqrt(<f64>aa * <f64>bb);
  return <f32>min<f64>(1, max<f64>(-1, c));
}

/**
 * Scales the vector at `ptr` to unit length in place and returns its former length. An all-zero
 * vector is left as it is and 0 is returned. Aborts when the length is not finite (a NaN or
 * infinite component, or components so large that their squares overflow f32).
 */
export function normalize(ptr: usize, dim: i32): f32 {
  checkDim(dim);
  checkSpan(ptr, dim, 'ptr is outside the heap or not 4-byte aligned');

  const squares = dotUnchecked(ptr, ptr, dim);
  if (squares == 0) return 0;
  if (!isFinite<f32>(squares)) abort('vector length is not finite');

  const length = Math.sqrt(<f64>squares);
  scaleUnchecked(ptr, dim, <f32>(1 / length));
  return <f32>length;
}

/**
 * Scores the first `count` arena vectors against the query by dot product (cosine, when all
 * are unit length) and writes the best `k` with score >= `minScore` to `outIdxPtr` (i32) and
 * `outScorePtr` (f32), best first; equal scores keep the lower index first. Returns how many
 * were written. A vector whose score is NaN is never returned. The output areas must not overlap
 * the query or the arena.
 */
export function topK(
  queryPtr: usize,
  count: i32,
  dim: i32,
  k: i32,
  outIdxPtr: usize,
  outScorePtr: usize,
  minScore: f32,
): i32 {
  checkDim(dim);
  if (dim != arenaDim) abort("dim differs from the arena's dimension");
  if (count < 0 || count > arenaCap) abort("count is negative or beyond the arena's capacity");
  if (k < 0) abort('k must not be negative');
  checkSpan(queryPtr, dim, 'query_ptr is outside the heap or not 4-byte aligned');
  checkSpan(outIdxPtr, k, 'out_idx_ptr is outside the heap or not 4-byte aligned');
  checkSpan(outScorePtr, k, 'out_score_ptr is outside the heap or not 4-byte aligned');

  return topKUnchecked(queryPtr, count, dim, k, outIdxPtr, outScorePtr, minScore);
}

function checkDim(dim: i32): void {
  if (dim <= 0 || dim > MAX_DIM) abort('dim must be between 1 and 65536');
}

// For `count` consecutive 4-byte values (f32 or i32) at `ptr`.
function checkSpan(ptr: usize, count: i32, message: string): void {
  checkRange(ptr, (<u64>count) << 2, message);
}

// Writes through a pointer below the heap would corrupt static data, so those are refused too.
function checkRange(ptr: usize, bytes: u64, message: string): void {
  const held = memoryBytes();
  if (ptr < arenaBase || (ptr & 3) != 0 || <u64>ptr + bytes > held) abort(message);
}

function scratchOffset(capacity: i32, dim: i32): usize {
  const arenaEnd = <u64>arenaBase + ((<u64>capacity * <u64>dim) << 2);
  if (arenaEnd > MAX_MEMORY_BYTES) abort('the arena would exceed 4 GiB of linear memory');
  return (<usize>arenaEnd + ALIGN_MASK) & ~ALIGN_MASK;
}

// Sixteen floats per iteration in four independent accumulators, so consecutive adds do not
// wait on each other; then four at a time; then a scalar tail for dim % 4.
function dotUnchecked(a: usize, b: usize, dim: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let acc2 = f32x4.splat(0);
  let acc3 = f32x4.splat(0);

  const wideEnd = (<usize>(dim & ~15)) << 2;
  const quadEnd = (<usize>(dim & ~3)) << 2;
  const end = (<usize>dim) << 2;
  let offset: usize = 0;

  for (; offset < wideEnd; offset += 64) {
    const pa = a + offset;
    const pb = b + offset;
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(pa), v128.load(pb)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(pa, 16), v128.load(pb, 16)));
    acc2 = f32x4.add(acc2, f32x4.mul(v128.load(pa, 32), v128.load(pb, 32)));
    acc3 = f32x4.add(acc3, f32x4.mul(v128.load(pa, 48), v128.load(pb, 48)));
  }
  for (; offset < quadEnd; offset += 16) {
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + offset), v128.load(b + offset)));
  }

  const acc = f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3));
  let sum =
    f32x4.extract_lane(acc, 0) +
    f32x4.extract_lane(acc, 1) +
    f32x4.extract_lane(acc, 2) +
    f32x4.extract_lane(acc, 3);
  for (; offset < end; offset += 4) {
    sum += load<f32>(a + offset) * load<f32>(b + offset);
  }
  return sum;
}

function scaleUnchecked(ptr: usize, dim: i32, factor: f32): void {
  const factors = f32x4.splat(factor);
  const quadEnd = (<usize>(dim & ~3)) << 2;
  const end = (<usize>dim) << 2;
  let offset: usize = 0;

  for (; offset < quadEnd; offset += 16) {
    v128.store(ptr + offset, f32x4.mul(v128.load(ptr + offset), factors));
  }
  for (; offset < end; offset += 4) {
    store<f32>(ptr + offset, load<f32>(ptr + offset) * factor);
  }
}

// The output arrays double as a binary heap whose root is the worst survivor, so selection
// costs O(count * log k) and no memory beyond what the caller passed in. A heapsort at the end
// puts the survivors best first.
function topKUnchecked(
  query: usize,
  count: i32,
  dim: i32,
  k: i32,
  outIdx: usize,
  outScore: usize,
  minScore: f32,
): i32 {
  if (k == 0) return 0;

  const stride = (<usize>dim) << 2;
  let row = arenaBase;
  let size = 0;
  for (let i = 0; i < count; i++, row += stride) {
    const score = dotUnchecked(query, row, dim);

    // Written as !(>=) so that NaN is rejected too.
    if (!(score >= minScore)) continue;
    if (size < k) {
      siftUp(outIdx, outScore, size, i, score);
      size++;
    } else if (score > load<f32>(outScore)) {
      // Rows arrive in index order, so a later row with an equal score never displaces.
      siftDown(outIdx, outScore, size, i, score);
    }
  }

  for (let last = size - 1; last > 0; last--) {
    const lastIdx = load<i32>(at(outIdx, last));
    const lastScore = load<f32>(at(outScore, last));
    store<i32>(at(outIdx, last), load<i32>(outIdx));
    store<f32>(at(outScore, last), load<f32>(outScore));
    siftDown(outIdx, outScore, last, lastIdx, lastScore);
  }
  return size;
}

// Address of the i-th 4-byte value after `base`.
function at(base: usize, i: i32): usize {
  return base + ((<usize>i) << 2);
}

// Lower score is worse; on equal scores the higher index is worse.
function isWorse(scoreA: f32, idxA: i32, scoreB: f32, idxB: i32): bool {
  return scoreA < scoreB || (scoreA == scoreB && idxA > idxB);
}

// Places (idx, score) at slot `hole` of a heap of `hole` entries and restores heap order.
function siftUp(outIdx: usize, outScore: usize, hole: i32, idx: i32, score: f32): void {
  while (hole > 0) {
    const parent = (hole - 1) >> 1;
    const parentIdx = load<i32>(at(outIdx, parent));
    const parentScore = load<f32>(at(outScore, parent));
    if (!isWorse(score, idx, parentScore, parentIdx)) break;

    store<i32>(at(outIdx, hole), parentIdx);
    store<f32>(at(outScore, hole), parentScore);
    hole = parent;
  }
  store<i32>(at(outIdx, hole), idx);
  store<f32>(at(outScore, hole), score);
}

// Replaces the root of a heap of `size` entries with (idx, score) and restores heap order.
function siftDown(outIdx: usize, outScore: usize, size: i32, idx: i32, score: f32): void {
  let hole = 0;
  while (true) {
    let child = 2 * hole + 1;
    if (child >= size) break;

    let childIdx = load<i32>(at(outIdx, child));
    let childScore = load<f32>(at(outScore, child));
    if (child + 1 < size) {
      const rightIdx = load<i32>(at(outIdx, child + 1));
      const rightScore = load<f32>(at(outScore, child + 1));
      if (isWorse(rightScore, rightIdx, childScore, childIdx)) {
        child++;
        childIdx = rightIdx;
        childScore = rightScore;
      }
    }
    if (!isWorse(childScore, childIdx, score, idx)) break;

    store<i32>(at(outIdx, hole), childIdx);
    store<f32>(at(outScore, hole), childScore);
    hole = child;
  }
  store<i32>(at(outIdx, hole), idx);
  store<f32>(at(outScore, hole), score);
}
