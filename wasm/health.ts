// Endpoint health over an arena of endpoint slots: windowed latency and time-to-first-token
// histograms with p50/p95/p99, time-decayed 4xx and 5xx error rates, a recency-weighted token
// delivery rate, rate-limit headroom, and one score per endpoint for routing.
//
// Layout, every region 16-byte aligned:
//
//   [static data][arena: capacity x SLOT_BYTES][scratch: the host's slot lists and outputs]
//
// A slot is a header (rates, headroom, which slice each ring position holds) followed by two
// histograms, latency and TTFT. A histogram is its live count and per-slice counts, then a
// running total row, then one row per window slice. The arena starts at a fixed address and only
// grows upward, so growth never moves a slot. Scratch sits after the arena and moves when it
// grows; nothing in it outlives one call.
//
// The clock is always passed in. The kernel keeps the latest time it was given and treats an
// earlier one (a request that finished a moment before another was recorded) as that latest
// time; a time more than one window before it is refused as a broken clock.
//
// Buckets. Log-linear: 8 sub-buckets per power of two from 1 ms to 2^20 ms (17.5 min), plus one
// bucket below 1 ms and one at or above 2^20 ms; 162 in all. A bucket [lo, lo + 2^e/8) is
// reported as its midpoint, so a percentile is within 1/16 (6.25%) of the sample it stands for,
// relative to that sample; below 1 ms it reads 0.5 ms, and at or above 2^20 ms it reads 2^20 ms.
// Percentiles are nearest-rank: the bucket holding the ceil(q * n)-th smallest live sample.
//
// Window. 12 slices of `sliceMs` (5 s by default): a sample is live while its slice is one of
// the 12 latest, so it counts for between 11 and 12 slice lengths (55 to 60 s). Expired slices
// are subtracted from the running totals and cleared on every call that names the slot, record
// or query alike, by the clock passed in. Only successful requests enter the histograms, so a
// fast failure never makes an endpoint look fast.
//
// Error rates. A time-weighted average of the outcome (1 for an error of the class, else 0) with
// half-life h: an event that arrives dt after the previous one moves the rate towards its
// outcome by 1 - 2^(-dt/h), and between events the rate relaxes towards 0 (no news is good
// news) by 2^(-dt/h). So with steady traffic it is (in expectation) the share of failing
// requests; with no traffic it halves every h; and a burst of events counts for the time it
// spans, not for how many requests it holds. The first event of a slot speaks for all the time before it. 4xx
// holds client errors and 429s; 5xx holds server errors, timeouts and connection failures.
// (Eckner, "Algorithms for Unevenly Spaced Time Series", 2019: the EMA with previous-point
// interpolation.)
//
// Token rate. Output tokens over streaming seconds, both summed with weights that halve every h
// of age, so it is the recent average rate rather than the average of per-request rates.
//
// Headroom. Per dimension (requests, tokens) the last reported remaining/limit fraction, refilled
// linearly to 1 at its reset time (both OpenAI and Anthropic refill continuously); the minimum
// of the two; 0 while a Retry-After is pending.
//
// Score, lower is better, in milliseconds of expected latency per successful response:
//
//   n       = live successful samples;  L = (n * p95 + k * P) / (n + k)   (L = P when n = 0)
//   e       = min(0.99, err5xx + w4 * err4xx)
//   penalty = 1 when headroom >= 0.1, else 0.1 / max(headroom, 0.001)
//   score   = L / (1 - e) * penalty
//
// P is the prior latency and k its weight in samples: an endpoint with an empty window is
// unknown, and scores P instead of looking like the best. L / (1 - e) is the expected time to a
// success when failed attempts are retried. Below 10% headroom a 429 is near, and the penalty
// grows to 100x at none. Token rate and TTFT are reported but not scored: total latency already
// contains them.
//
// Tolerance. Counts are integers, so percentiles match a plain-JS f64 reference exactly. Rates,
// headroom, token rate and score are f64 computed in the reference's order; only Math.exp may
// differ by an ulp or two per call, and the averages contract, so they match to 1e-9 relative
// (plus 1e-12 absolute near 0).
//
// Exported functions validate their arguments once (slot index, times, values, pointer ranges)
// before they change anything, then run loops with raw loads and stores. A failed check calls
// `abort`, which the host turns into an exception; the instance stays usable.

import { ensureMemory, MAX_MEMORY_BYTES, memoryBytes } from './lib/memory';

const ALIGN_MASK: usize = 15;
const MIN_CAPACITY: i32 = 4;

const SLICES: i32 = 12;
const OCTAVES: i32 = 20;
const SUB_BITS: i32 = 3;
const BUCKETS: i32 = (OCTAVES << SUB_BITS) + 2;
const OVERFLOW_BUCKET: i32 = BUCKETS - 1;
const ROW_BYTES: usize = 656; // BUCKETS i32 counts, rounded up to 16 bytes

// Histogram: live count (i32), SLICES per-slice counts (i32), the total row, the slice rows.
const SLICE_COUNTS: usize = 4;
const ROWS: usize = 64;
const HISTOGRAM_BYTES: usize = ROWS + ROW_BYTES * (1 + <usize>SLICES);

// Slot header. Times are milliseconds on the caller's clock.
const LAST_EVENT_MS: usize = 0;
const ERR_4XX: usize = 8;
const ERR_5XX: usize = 16;
const STREAM_TOKENS: usize = 24;
const STREAM_SECONDS: usize = 32;
const LAST_STREAM_MS: usize = 40;
const REQUESTS_BUDGET: usize = 48;
const TOKENS_BUDGET: usize = 72;
const BLOCKED_UNTIL_MS: usize = 96;
const FLAGS: usize = 104; // i32
const SLICE_IDS: usize = 108; // SLICES x i32: slice number + 1, or 0 when empty
const HEADER_BYTES: usize = 160;
const LATENCY: usize = HEADER_BYTES;
const TTFT: usize = HEADER_BYTES + HISTOGRAM_BYTES;
const SLOT_BYTES: usize = HEADER_BYTES + 2 * HISTOGRAM_BYTES;

// Budget (requests or tokens): the fraction left when reported, when that was, when it is full.
const BUDGET_FRACTION: usize = 0;
const BUDGET_FROM_MS: usize = 8;
const BUDGET_RESET_MS: usize = 16;

const SEEN: i32 = 1;
const STREAMED: i32 = 2;

const OK: i32 = 0;
const CLIENT_ERROR: i32 = 1;
const SERVER_ERROR: i32 = 2;
const RATE_LIMITED: i32 = 3;
const TIMEOUT: i32 = 4;
const CONNECT_ERROR: i32 = 5;

const SNAPSHOT_BYTES: u64 = 13 * 8;
const MAX_ERROR_SHARE: f64 = 0.99;
const HEADROOM_KNEE: f64 = 0.1;
const HEADROOM_FLOOR: f64 = 0.001;
// Slice numbers must fit an i32 with room for the +1 of SLICE_IDS.
const MAX_SLICE_NUMBER: f64 = 2_000_000_000;

const arenaBase: usize = (__heap_base + ALIGN_MASK) & ~ALIGN_MASK;
let arenaCap: i32 = 0;
let scratchBytes: u64 = 0;
let clockMs: f64 = 0;

let sliceMs: f64 = 5_000;
let halfLifeMs: f64 = 30_000;
let priorLatencyMs: f64 = 1_000;
let priorSamples: f64 = 4;
let clientErrorWeight: f64 = 0.25;

/** Buckets per histogram row, for the host to check its reference against. */
export function bucketCount(): i32 {
  return BUCKETS;
}

export function sliceCount(): i32 {
  return SLICES;
}

/** Sets the window slice, the decay half-life and the score's prior; only before any slot. */
export function configure(
  slice: f64,
  halfLife: f64,
  priorLatency: f64,
  priorWeight: f64,
  clientWeight: f64,
): void {
  if (arenaCap != 0) abort('configure before the first slot is reserved');
  if (!(slice >= 1 && slice <= 3_600_000)) abort('sliceMs must be between 1 and 3600000');
  if (!(halfLife >= 1 && halfLife <= 86_400_000)) {
    abort('halfLifeMs must be between 1 and 86400000');
  }
  if (!(priorLatency > 0 && priorLatency <= 86_400_000)) {
    abort('priorLatencyMs must be above 0 and at most 86400000');
  }
  if (!(priorWeight >= 0 && priorWeight <= 1_000_000)) abort('priorSamples must be 0 to 1000000');
  if (!(clientWeight >= 0 && clientWeight <= 1)) abort('clientErrorWeight must be 0 to 1');

  sliceMs = slice;
  halfLifeMs = halfLife;
  priorLatencyMs = priorLatency;
  priorSamples = priorWeight;
  clientErrorWeight = clientWeight;
}

/**
 * Makes room for at least `capacity` slots and returns the arena's address. Capacity at least
 * doubles on growth, so n slots cost O(log n) calls to memory.grow. New slots start empty.
 */
export function reserve(capacity: i32): usize {
  if (capacity < 0) abort('capacity must not be negative');
  if (capacity <= arenaCap) return arenaBase;

  const doubled = <i64>arenaCap * 2;
  const next = <i32>max<i64>(<i64>capacity, max<i64>(doubled, <i64>MIN_CAPACITY));
  ensureMemory(<u64>scratchOffset(next) + scratchBytes);

  // The new slots may lie where scratch was, so they are cleared rather than assumed zero.
  const oldEnd = slotPtr(arenaCap);
  memory.fill(oldEnd, 0, <usize>(next - arenaCap) * SLOT_BYTES);
  arenaCap = next;
  return arenaBase;
}

export function capacity(): i32 {
  return arenaCap;
}

/**
 * Returns the address of a scratch area of at least `bytes` bytes just past the arena. The
 * address changes whenever the arena grows, and the contents do not survive that growth.
 */
export function scratchReserve(bytes: i32): usize {
  if (bytes < 0) abort('scratch size must not be negative');

  const ptr = scratchOffset(arenaCap);
  ensureMemory(<u64>ptr + <u64>bytes);
  if (<u64>bytes > scratchBytes) scratchBytes = <u64>bytes;
  return ptr;
}

/**
 * Records one finished request. `outcome` is 0 ok, 1 client error, 2 server error, 3 rate
 * limited, 4 timeout, 5 connection error. NaN marks an absent ttftMs, outputTokens or streamMs.
 */
export function record(
  slot: i32,
  nowMs: f64,
  outcome: i32,
  latencyMs: f64,
  ttftMs: f64,
  outputTokens: f64,
  streamMs: f64,
): void {
  checkSlot(slot);
  if (outcome < OK || outcome > CONNECT_ERROR) abort('outcome must be 0 to 5');
  if (!isAmount(latencyMs)) abort('latencyMs must be a finite number >= 0');
  if (!isAmountOrNaN(ttftMs)) abort('ttftMs must be a finite number >= 0');
  if (!isAmountOrNaN(outputTokens)) abort('outputTokens must be a finite number >= 0');
  if (!isAmountOrNaN(streamMs)) abort('streamMs must be a finite number >= 0');
  const now = advanceClock(nowMs);

  const ptr = slotPtr(slot);
  const slice = sliceNumber(now);
  expireUnchecked(ptr, slice);
  updateErrorsUnchecked(ptr, now, outcome);
  if (outcome != OK) return;

  const index = claimSliceUnchecked(ptr, slice);
  addSampleUnchecked(ptr + LATENCY, index, latencyMs);
  if (!isNaN(ttftMs)) addSampleUnchecked(ptr + TTFT, index, ttftMs);
  // Written as > so that NaN (absent) is skipped too; a zero-length stream has no rate.
  if (outputTokens > 0 && streamMs > 0) updateStreamUnchecked(ptr, now, outputTokens, streamMs);
}

/**
 * Records the rate-limit state a response reported. A fraction is remaining / limit in [0, 1],
 * or NaN to leave that dimension as it was; its reset is the time until it is full again.
 * `blockedForMs` (a Retry-After) holds the headroom at 0 for that long, or is NaN.
 */
export function observeRateLimit(
  slot: i32,
  nowMs: f64,
  requestsFraction: f64,
  requestsResetMs: f64,
  tokensFraction: f64,
  tokensResetMs: f64,
  blockedForMs: f64,
): void {
  checkSlot(slot);
  checkDimension(requestsFraction, requestsResetMs);
  checkDimension(tokensFraction, tokensResetMs);
  if (!isAmountOrNaN(blockedForMs)) abort('blockedForMs must be a finite number >= 0');
  const now = advanceClock(nowMs);

  const ptr = slotPtr(slot);
  setBudgetUnchecked(ptr + REQUESTS_BUDGET, now, requestsFraction, requestsResetMs);
  setBudgetUnchecked(ptr + TOKENS_BUDGET, now, tokensFraction, tokensResetMs);
  if (!isNaN(blockedForMs)) {
    const until = max<f64>(load<f64>(ptr + BLOCKED_UNTIL_MS), now + blockedForMs);
    store<f64>(ptr + BLOCKED_UNTIL_MS, until);
  }
}

/**
 * Writes the slot's health to 13 f64 at `outPtr`: p50, p95, p99, TTFT p50, p95, p99 (ms),
 * live samples, live TTFT samples, 4xx rate, 5xx rate, tokens per second, headroom, score.
 */
export function snapshot(slot: i32, nowMs: f64, outPtr: usize): void {
  checkSlot(slot);
  checkScratch(outPtr, SNAPSHOT_BYTES, 7, 'out_ptr is outside scratch or misaligned');
  const now = advanceClock(nowMs);

  const ptr = slotPtr(slot);
  expireUnchecked(ptr, sliceNumber(now));

  const latency = ptr + LATENCY;
  const ttft = ptr + TTFT;
  store<f64>(outPtr, percentileUnchecked(latency, 50));
  store<f64>(outPtr + 8, percentileUnchecked(latency, 95));
  store<f64>(outPtr + 16, percentileUnchecked(latency, 99));
  store<f64>(outPtr + 24, percentileUnchecked(ttft, 50));
  store<f64>(outPtr + 32, percentileUnchecked(ttft, 95));
  store<f64>(outPtr + 40, percentileUnchecked(ttft, 99));
  store<f64>(outPtr + 48, <f64>load<i32>(latency));
  store<f64>(outPtr + 56, <f64>load<i32>(ttft));
  const errorDecay = errorDecayUnchecked(ptr, now);
  store<f64>(outPtr + 64, load<f64>(ptr + ERR_4XX) * errorDecay);
  store<f64>(outPtr + 72, load<f64>(ptr + ERR_5XX) * errorDecay);
  store<f64>(outPtr + 80, tokensPerSecondUnchecked(ptr));
  store<f64>(outPtr + 88, headroomUnchecked(ptr, now));
  store<f64>(outPtr + 96, scoreUnchecked(ptr, now));
}

/** The slot's score (lower is better; see the formula at the top of this file). */
export function score(slot: i32, nowMs: f64): f64 {
  checkSlot(slot);
  const now = advanceClock(nowMs);

  const ptr = slotPtr(slot);
  expireUnchecked(ptr, sliceNumber(now));
  return scoreUnchecked(ptr, now);
}

/**
 * Scores `count` slots whose indexes are the i32 at `slotsPtr`, writing f64 to `outPtr` in the
 * same order. Both areas must lie in scratch and must not overlap.
 */
export function scores(slotsPtr: usize, count: i32, nowMs: f64, outPtr: usize): void {
  if (count < 0) abort('count must not be negative');
  checkScratch(slotsPtr, (<u64>count) << 2, 3, 'slots_ptr is outside scratch or misaligned');
  checkScratch(outPtr, (<u64>count) << 3, 7, 'out_ptr is outside scratch or misaligned');
  for (let i = 0; i < count; i++) checkSlot(load<i32>(slotsPtr + ((<usize>i) << 2)));
  const now = advanceClock(nowMs);

  const slice = sliceNumber(now);
  for (let i = 0; i < count; i++) {
    const ptr = slotPtr(load<i32>(slotsPtr + ((<usize>i) << 2)));
    expireUnchecked(ptr, slice);
    store<f64>(outPtr + ((<usize>i) << 3), scoreUnchecked(ptr, now));
  }
}

function checkSlot(slot: i32): void {
  if (slot < 0 || slot >= arenaCap) abort('slot is negative or beyond the reserved capacity');
}

function isAmount(x: f64): bool {
  return x >= 0 && x < Infinity;
}

function isAmountOrNaN(x: f64): bool {
  return isNaN(x) || isAmount(x);
}

function checkDimension(fraction: f64, resetMs: f64): void {
  if (isNaN(fraction)) return;
  if (!(fraction >= 0 && fraction <= 1)) abort('a rate-limit fraction must be between 0 and 1');
  if (!isAmount(resetMs)) abort('a rate-limit reset must be a finite number >= 0');
}

// Outputs and slot lists live past the arena, so a bad pointer cannot overwrite a slot.
function checkScratch(ptr: usize, bytes: u64, alignMask: usize, message: string): void {
  const held = memoryBytes();
  const start = scratchOffset(arenaCap);
  if (ptr < start || (ptr & alignMask) != 0 || <u64>ptr + bytes > held) abort(message);
}

// Validates `nowMs` and returns the time to use: never earlier than a time already seen.
function advanceClock(nowMs: f64): f64 {
  if (!(nowMs >= 0 && nowMs / sliceMs < MAX_SLICE_NUMBER)) {
    abort('nowMs must be a finite time >= 0 within the range of slice numbers');
  }
  if (nowMs < clockMs - sliceMs * <f64>SLICES) {
    abort('nowMs is more than one window before a time already seen');
  }
  if (nowMs > clockMs) clockMs = nowMs;
  return clockMs;
}

function slotPtr(slot: i32): usize {
  return arenaBase + <usize>slot * SLOT_BYTES;
}

function scratchOffset(capacity: i32): usize {
  const arenaEnd = <u64>arenaBase + <u64>capacity * <u64>SLOT_BYTES;
  if (arenaEnd > MAX_MEMORY_BYTES) abort('the arena would exceed 4 GiB of linear memory');
  return <usize>arenaEnd; // SLOT_BYTES is a multiple of 16
}

function sliceNumber(now: f64): i32 {
  return <i32>Math.floor(now / sliceMs);
}

// Drops every slice that has left the window: its counts leave the running totals.
function expireUnchecked(ptr: usize, slice: i32): void {
  const oldest = slice - SLICES + 1;
  for (let i = 0; i < SLICES; i++) {
    const idPtr = ptr + SLICE_IDS + ((<usize>i) << 2);
    const id = load<i32>(idPtr);
    if (id == 0 || id - 1 >= oldest) continue;

    dropSliceUnchecked(ptr + LATENCY, i);
    dropSliceUnchecked(ptr + TTFT, i);
    store<i32>(idPtr, 0);
  }
}

function dropSliceUnchecked(histogram: usize, i: i32): void {
  const sliceCountPtr = histogram + SLICE_COUNTS + ((<usize>i) << 2);
  const n = load<i32>(sliceCountPtr);
  if (n == 0) return;

  const rows = histogram + ROWS;
  drainRowUnchecked(rows, rows + ROW_BYTES * (1 + <usize>i));
  store<i32>(histogram, load<i32>(histogram) - n);
  store<i32>(sliceCountPtr, 0);
}

// The ring position of the current slice. After expiry a position holds either this slice or
// nothing, because live slices are the last SLICES numbers and so differ modulo SLICES.
function claimSliceUnchecked(ptr: usize, slice: i32): i32 {
  const index = slice % SLICES;
  store<i32>(ptr + SLICE_IDS + ((<usize>index) << 2), slice + 1);
  return index;
}

function addSampleUnchecked(histogram: usize, index: i32, valueMs: f64): void {
  const offset = (<usize>bucketOf(valueMs)) << 2;
  const totalPtr = histogram + ROWS + offset;
  const slicePtr = totalPtr + ROW_BYTES * (1 + <usize>index);
  const sliceCountPtr = histogram + SLICE_COUNTS + ((<usize>index) << 2);

  store<i32>(totalPtr, load<i32>(totalPtr) + 1);
  store<i32>(slicePtr, load<i32>(slicePtr) + 1);
  store<i32>(histogram, load<i32>(histogram) + 1);
  store<i32>(sliceCountPtr, load<i32>(sliceCountPtr) + 1);
}

// The exponent and top three mantissa bits of the f64 are the octave and sub-bucket, exactly.
function bucketOf(valueMs: f64): i32 {
  if (valueMs < 1) return 0;
  const bits = reinterpret<u64>(valueMs);
  const octave = <i32>(bits >> 52) - 1023;
  if (octave >= OCTAVES) return OVERFLOW_BUCKET;
  return 1 + (octave << SUB_BITS) + <i32>((bits >> 49) & 7);
}

function bucketMidpoint(bucket: i32): f64 {
  if (bucket == 0) return 0.5;
  if (bucket == OVERFLOW_BUCKET) return <f64>(1 << OCTAVES);
  const octave = (bucket - 1) >> SUB_BITS;
  const sub = (bucket - 1) & 7;
  return <f64>(1 << octave) * (1 + <f64>(2 * sub + 1) / 16);
}

// Nearest rank: the bucket of the ceil(percent / 100 * count)-th smallest sample; 0 when empty.
function percentileUnchecked(histogram: usize, percent: i32): f64 {
  const count = load<i32>(histogram);
  if (count == 0) return 0;
  const rank = <i32>((<i64>count * <i64>percent + 99) / 100);
  return bucketMidpoint(rankBucketUnchecked(histogram + ROWS, rank));
}

// The first bucket at which the running count reaches `rank` (1 <= rank <= the row's total).
// Sixteen buckets are summed at once to step over the bulk of the distribution; the bucket is
// then found one count at a time, which also covers the tail past the last group of sixteen.
function rankBucketUnchecked(row: usize, rank: i32): i32 {
  const wideEnd = BUCKETS & ~15;
  let seen = 0;
  let bucket = 0;
  for (; bucket < wideEnd; bucket += 16) {
    const p = row + ((<usize>bucket) << 2);
    const sums = i32x4.add(
      i32x4.add(v128.load(p), v128.load(p, 16)),
      i32x4.add(v128.load(p, 32), v128.load(p, 48)),
    );
    const group =
      i32x4.extract_lane(sums, 0) +
      i32x4.extract_lane(sums, 1) +
      i32x4.extract_lane(sums, 2) +
      i32x4.extract_lane(sums, 3);
    if (seen + group >= rank) break;
    seen += group;
  }
  for (; bucket < BUCKETS; bucket++) {
    seen += load<i32>(row + ((<usize>bucket) << 2));
    if (seen >= rank) return bucket;
  }
  return OVERFLOW_BUCKET;
}

// total -= slice, then slice = 0: sixteen counts per iteration, then four, then one at a time.
function drainRowUnchecked(total: usize, slice: usize): void {
  const zero = i32x4.splat(0);
  const wideEnd = (<usize>(BUCKETS & ~15)) << 2;
  const quadEnd = (<usize>(BUCKETS & ~3)) << 2;
  const end = (<usize>BUCKETS) << 2;
  let offset: usize = 0;

  for (; offset < wideEnd; offset += 64) {
    const t = total + offset;
    const s = slice + offset;
    v128.store(t, i32x4.sub(v128.load(t), v128.load(s)));
    v128.store(t, i32x4.sub(v128.load(t, 16), v128.load(s, 16)), 16);
    v128.store(t, i32x4.sub(v128.load(t, 32), v128.load(s, 32)), 32);
    v128.store(t, i32x4.sub(v128.load(t, 48), v128.load(s, 48)), 48);
    v128.store(s, zero);
    v128.store(s, zero, 16);
    v128.store(s, zero, 32);
    v128.store(s, zero, 48);
  }
  for (; offset < quadEnd; offset += 16) {
    v128.store(total + offset, i32x4.sub(v128.load(total + offset), v128.load(slice + offset)));
    v128.store(slice + offset, zero);
  }
  for (; offset < end; offset += 4) {
    store<i32>(total + offset, load<i32>(total + offset) - load<i32>(slice + offset));
    store<i32>(slice + offset, 0);
  }
}

function decay(elapsedMs: f64): f64 {
  return Math.exp(-(elapsedMs / halfLifeMs) * Math.LN2);
}

function updateErrorsUnchecked(ptr: usize, now: f64, outcome: i32): void {
  const flags = load<i32>(ptr + FLAGS);
  const keep = (flags & SEEN) != 0 ? decay(now - load<f64>(ptr + LAST_EVENT_MS)) : 0;
  const is4xx: f64 = outcome == CLIENT_ERROR || outcome == RATE_LIMITED ? 1 : 0;
  const is5xx: f64 =
    outcome == SERVER_ERROR || outcome == TIMEOUT || outcome == CONNECT_ERROR ? 1 : 0;

  store<f64>(ptr + ERR_4XX, load<f64>(ptr + ERR_4XX) * keep + is4xx * (1 - keep));
  store<f64>(ptr + ERR_5XX, load<f64>(ptr + ERR_5XX) * keep + is5xx * (1 - keep));
  store<f64>(ptr + LAST_EVENT_MS, now);
  store<i32>(ptr + FLAGS, flags | SEEN);
}

// What is left now of the error rates as of the last event; 0 for a slot without events.
function errorDecayUnchecked(ptr: usize, now: f64): f64 {
  if ((load<i32>(ptr + FLAGS) & SEEN) == 0) return 0;
  return decay(now - load<f64>(ptr + LAST_EVENT_MS));
}

function updateStreamUnchecked(ptr: usize, now: f64, tokens: f64, streamMs: f64): void {
  const flags = load<i32>(ptr + FLAGS);
  const keep = (flags & STREAMED) != 0 ? decay(now - load<f64>(ptr + LAST_STREAM_MS)) : 0;

  store<f64>(ptr + STREAM_TOKENS, load<f64>(ptr + STREAM_TOKENS) * keep + tokens);
  store<f64>(ptr + STREAM_SECONDS, load<f64>(ptr + STREAM_SECONDS) * keep + streamMs / 1000);
  store<f64>(ptr + LAST_STREAM_MS, now);
  store<i32>(ptr + FLAGS, flags | STREAMED);
}

function tokensPerSecondUnchecked(ptr: usize): f64 {
  const seconds = load<f64>(ptr + STREAM_SECONDS);
  return seconds > 0 ? load<f64>(ptr + STREAM_TOKENS) / seconds : 0;
}

function setBudgetUnchecked(budget: usize, now: f64, fraction: f64, resetMs: f64): void {
  if (isNaN(fraction)) return;
  store<f64>(budget + BUDGET_FRACTION, fraction);
  store<f64>(budget + BUDGET_FROM_MS, now);
  store<f64>(budget + BUDGET_RESET_MS, now + resetMs);
}

// A fresh slot holds zeros: reset time 0 has passed, so an unreported budget reads as full.
function budgetLeftUnchecked(budget: usize, now: f64): f64 {
  const resetMs = load<f64>(budget + BUDGET_RESET_MS);
  if (now >= resetMs) return 1;

  const fromMs = load<f64>(budget + BUDGET_FROM_MS);
  const f = load<f64>(budget + BUDGET_FRACTION);
  return f + ((1 - f) * (now - fromMs)) / (resetMs - fromMs);
}

function headroomUnchecked(ptr: usize, now: f64): f64 {
  if (now < load<f64>(ptr + BLOCKED_UNTIL_MS)) return 0;
  const requests = budgetLeftUnchecked(ptr + REQUESTS_BUDGET, now);
  return min<f64>(requests, budgetLeftUnchecked(ptr + TOKENS_BUDGET, now));
}

function scoreUnchecked(ptr: usize, now: f64): f64 {
  const n = <f64>load<i32>(ptr + LATENCY);
  let expectedMs = priorLatencyMs;
  if (n > 0) {
    const p95 = percentileUnchecked(ptr + LATENCY, 95);
    expectedMs = (n * p95 + priorSamples * priorLatencyMs) / (n + priorSamples);
  }

  const errorDecay = errorDecayUnchecked(ptr, now);
  const e4 = load<f64>(ptr + ERR_4XX) * errorDecay;
  const e5 = load<f64>(ptr + ERR_5XX) * errorDecay;
  const errors = min<f64>(MAX_ERROR_SHARE, e5 + clientErrorWeight * e4);

  const room = headroomUnchecked(ptr, now);
  const penalty = room >= HEADROOM_KNEE ? 1 : HEADROOM_KNEE / max<f64>(room, HEADROOM_FLOOR);
  return (expectedMs / (1 - errors)) * penalty;
}
