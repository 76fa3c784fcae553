// A plain-JS engine with the WASM kernel's semantics (wasm/health.ts states them), written for
// clarity: f64 throughout, plain loops, bucket boundaries found with Math.log2 rather than from
// the float's bits. The tests check the kernel against it, and the benchmark measures it as the
// baseline.

import {
  BUCKET_COUNT,
  HEADROOM_FLOOR,
  HEADROOM_KNEE,
  MAX_ERROR_SHARE,
  OCTAVES,
  OUTCOME_CODES,
  SLICE_COUNT,
  SNAPSHOT,
  SUB_BUCKETS,
  type HealthEngine,
  type HealthEngineSource,
  type HealthSettings,
  type OutcomeCode,
} from './health-engine.js';

const OVERFLOW_BUCKET = BUCKET_COUNT - 1;
const MAX_SLICE_NUMBER = 2_000_000_000;

/** The histogram bucket of a latency: 0 below 1 ms, then 8 per power of two up to 2^20 ms. */
export function referenceBucket(valueMs: number): number {
  if (valueMs < 1) return 0;

  // log2 may round across a power of two; step to the octave whose range holds the value.
  let octave = Math.floor(Math.log2(valueMs));
  while (2 ** octave > valueMs) octave--;
  while (2 ** (octave + 1) <= valueMs) octave++;
  if (octave >= OCTAVES) return OVERFLOW_BUCKET;

  return 1 + octave * SUB_BUCKETS + Math.floor((valueMs / 2 ** octave - 1) * SUB_BUCKETS);
}

/** The value a bucket reports: its midpoint; 0.5 ms below 1 ms; 2^20 ms for the overflow. */
export function referenceBucketMidpoint(bucket: number): number {
  if (bucket === 0) return 0.5;
  if (bucket === OVERFLOW_BUCKET) return 2 ** OCTAVES;

  const octave = Math.floor((bucket - 1) / SUB_BUCKETS);
  const sub = (bucket - 1) % SUB_BUCKETS;
  return 2 ** octave * (1 + (2 * sub + 1) / 16);
}

export class ReferenceHealthKernel implements HealthEngineSource {
  createEngine(settings: HealthSettings): HealthEngine {
    return new ReferenceHealthEngine(settings);
  }
}

class Histogram {
  readonly total = new Float64Array(BUCKET_COUNT);
  readonly slices = Array.from({ length: SLICE_COUNT }, () => new Float64Array(BUCKET_COUNT));
  readonly sliceCounts = new Float64Array(SLICE_COUNT);
  count = 0;

  add(index: number, valueMs: number): void {
    const bucket = referenceBucket(valueMs);
    this.total[bucket]++;
    this.slices[index][bucket]++;
    this.sliceCounts[index]++;
    this.count++;
  }

  drop(index: number): void {
    const slice = this.slices[index];
    for (let b = 0; b < BUCKET_COUNT; b++) this.total[b] -= slice[b];
    slice.fill(0);
    this.count -= this.sliceCounts[index];
    this.sliceCounts[index] = 0;
  }

  percentile(percent: number): number {
    if (this.count === 0) return 0;

    const rank = Math.ceil((this.count * percent) / 100);
    let seen = 0;
    for (let b = 0; b < BUCKET_COUNT; b++) {
      seen += this.total[b];
      if (seen >= rank) return referenceBucketMidpoint(b);
    }
    return referenceBucketMidpoint(OVERFLOW_BUCKET);
  }
}

interface Dimension {
  fraction: number;
  fromMs: number;
  resetMs: number;
}

class Slot {
  readonly latency = new Histogram();
  readonly ttft = new Histogram();
  /** The slice number each ring position holds, or -1. */
  readonly sliceIds: number[] = new Array<number>(SLICE_COUNT).fill(-1);
  lastEventMs: number | undefined;
  err4xx = 0;
  err5xx = 0;
  lastStreamMs: number | undefined;
  streamTokens = 0;
  streamSeconds = 0;
  readonly requests: Dimension = { fraction: 0, fromMs: 0, resetMs: 0 };
  readonly tokens: Dimension = { fraction: 0, fromMs: 0, resetMs: 0 };
  blockedUntilMs = 0;
}

class ReferenceHealthEngine implements HealthEngine {
  readonly #settings: HealthSettings;
  readonly #slots: Slot[] = [];
  #clockMs = 0;

  constructor(settings: HealthSettings) {
    checkSettings(settings);
    this.#settings = Object.assign({}, settings);
  }

  get capacity(): number {
    return this.#slots.length;
  }

  reserve(capacity: number): void {
    if (capacity > this.#slots.length) {
      const next = Math.max(capacity, 2 * this.#slots.length, 4);
      while (this.#slots.length < next) this.#slots.push(new Slot());
    }
  }

  record(
    slot: number,
    nowMs: number,
    outcome: OutcomeCode,
    latencyMs: number,
    ttftMs: number,
    outputTokens: number,
    streamMs: number,
  ): void {
    const s = this.#slot(slot);
    if (!(outcome >= 0 && outcome <= 5)) fail('outcome must be 0 to 5');
    if (!isAmount(latencyMs)) fail('latencyMs must be a finite number >= 0');
    if (!isAmountOrNaN(ttftMs)) fail('ttftMs must be a finite number >= 0');
    if (!isAmountOrNaN(outputTokens)) fail('outputTokens must be a finite number >= 0');
    if (!isAmountOrNaN(streamMs)) fail('streamMs must be a finite number >= 0');
    const now = this.#advance(nowMs);

    const slice = this.#sliceNumber(now);
    this.#expire(s, slice);
    this.#updateErrors(s, now, outcome);
    if (outcome !== OUTCOME_CODES.ok) return;

    const index = slice % SLICE_COUNT;
    s.sliceIds[index] = slice;
    s.latency.add(index, latencyMs);
    if (!Number.isNaN(ttftMs)) s.ttft.add(index, ttftMs);
    if (outputTokens > 0 && streamMs > 0) {
      const keep = s.lastStreamMs === undefined ? 0 : this.#decay(now - s.lastStreamMs);
      s.streamTokens = s.streamTokens * keep + outputTokens;
      s.streamSeconds = s.streamSeconds * keep + streamMs / 1000;
      s.lastStreamMs = now;
    }
  }

  observeRateLimit(
    slot: number,
    nowMs: number,
    requestsFraction: number,
    requestsResetMs: number,
    tokensFraction: number,
    tokensResetMs: number,
    blockedForMs: number,
  ): void {
    const s = this.#slot(slot);
    checkDimension(requestsFraction, requestsResetMs);
    checkDimension(tokensFraction, tokensResetMs);
    if (!isAmountOrNaN(blockedForMs)) fail('blockedForMs must be a finite number >= 0');
    const now = this.#advance(nowMs);

    setDimension(s.requests, now, requestsFraction, requestsResetMs);
    setDimension(s.tokens, now, tokensFraction, tokensResetMs);
    if (!Number.isNaN(blockedForMs)) {
      s.blockedUntilMs = Math.max(s.blockedUntilMs, now + blockedForMs);
    }
  }

  snapshotInto(slot: number, nowMs: number, out: Float64Array): void {
    const s = this.#slot(slot);
    const now = this.#advance(nowMs);
    this.#expire(s, this.#sliceNumber(now));

    out[SNAPSHOT.p50Ms] = s.latency.percentile(50);
    out[SNAPSHOT.p95Ms] = s.latency.percentile(95);
    out[SNAPSHOT.p99Ms] = s.latency.percentile(99);
    out[SNAPSHOT.ttftP50Ms] = s.ttft.percentile(50);
    out[SNAPSHOT.ttftP95Ms] = s.ttft.percentile(95);
    out[SNAPSHOT.ttftP99Ms] = s.ttft.percentile(99);
    out[SNAPSHOT.count] = s.latency.count;
    out[SNAPSHOT.ttftCount] = s.ttft.count;
    const errorDecay = this.#errorDecay(s, now);
    out[SNAPSHOT.errorRate4xx] = s.err4xx * errorDecay;
    out[SNAPSHOT.errorRate5xx] = s.err5xx * errorDecay;
    out[SNAPSHOT.tokensPerSecond] = s.streamSeconds > 0 ? s.streamTokens / s.streamSeconds : 0;
    out[SNAPSHOT.headroom] = headroom(s, now);
    out[SNAPSHOT.score] = this.#score(s, now);
  }

  score(slot: number, nowMs: number): number {
    const s = this.#slot(slot);
    const now = this.#advance(nowMs);
    this.#expire(s, this.#sliceNumber(now));
    return this.#score(s, now);
  }

  scoresInto(slots: ArrayLike<number>, nowMs: number, out: Float64Array): void {
    for (let i = 0; i < slots.length; i++) this.#slot(slots[i]);
    const now = this.#advance(nowMs);

    const slice = this.#sliceNumber(now);
    for (let i = 0; i < slots.length; i++) {
      const s = this.#slots[slots[i]];
      this.#expire(s, slice);
      out[i] = this.#score(s, now);
    }
  }

  #slot(slot: number): Slot {
    const s = Number.isInteger(slot) ? this.#slots[slot] : undefined;
    if (s === undefined) fail('slot is negative or beyond the reserved capacity');
    return s;
  }

  #advance(nowMs: number): number {
    const { sliceMs } = this.#settings;
    if (!(nowMs >= 0 && nowMs / sliceMs < MAX_SLICE_NUMBER)) {
      fail('nowMs must be a finite time >= 0 within the range of slice numbers');
    }
    if (nowMs < this.#clockMs - sliceMs * SLICE_COUNT) {
      fail('nowMs is more than one window before a time already seen');
    }
    this.#clockMs = Math.max(this.#clockMs, nowMs);
    return this.#clockMs;
  }

  #sliceNumber(now: number): number {
    return Math.floor(now / this.#settings.sliceMs);
  }

  #expire(s: Slot, slice: number): void {
    for (let i = 0; i < SLICE_COUNT; i++) {
      const id = s.sliceIds[i];
      if (id < 0 || id > slice - SLICE_COUNT) continue;
      s.latency.drop(i);
      s.ttft.drop(i);
      s.sliceIds[i] = -1;
    }
  }

  #decay(elapsedMs: number): number {
    return Math.exp(-(elapsedMs / this.#settings.halfLifeMs) * Math.LN2);
  }

  #updateErrors(s: Slot, now: number, outcome: OutcomeCode): void {
    const keep = s.lastEventMs === undefined ? 0 : this.#decay(now - s.lastEventMs);
    const is4xx = outcome === OUTCOME_CODES.client_error || outcome === OUTCOME_CODES.rate_limited;
    const is5xx =
      outcome === OUTCOME_CODES.server_error ||
      outcome === OUTCOME_CODES.timeout ||
      outcome === OUTCOME_CODES.connect_error;

    s.err4xx = s.err4xx * keep + (is4xx ? 1 : 0) * (1 - keep);
    s.err5xx = s.err5xx * keep + (is5xx ? 1 : 0) * (1 - keep);
    s.lastEventMs = now;
  }

  // What is left now of the error rates as of the last event; 0 for a slot without events.
  #errorDecay(s: Slot, now: number): number {
    return s.lastEventMs === undefined ? 0 : this.#decay(now - s.lastEventMs);
  }

  #score(s: Slot, now: number): number {
    const { priorLatencyMs, priorSamples, clientErrorWeight } = this.#settings;
    const n = s.latency.count;
    const expectedMs =
      n === 0
        ? priorLatencyMs
        : (n * s.latency.percentile(95) + priorSamples * priorLatencyMs) / (n + priorSamples);

    const errorDecay = this.#errorDecay(s, now);
    const e4 = s.err4xx * errorDecay;
    const e5 = s.err5xx * errorDecay;
    const errors = Math.min(MAX_ERROR_SHARE, e5 + clientErrorWeight * e4);

    const room = headroom(s, now);
    const penalty = room >= HEADROOM_KNEE ? 1 : HEADROOM_KNEE / Math.max(room, HEADROOM_FLOOR);
    return (expectedMs / (1 - errors)) * penalty;
  }
}

function checkSettings(s: HealthSettings): void {
  const { sliceMs, halfLifeMs, priorLatencyMs, priorSamples, clientErrorWeight } = s;
  if (!(sliceMs >= 1 && sliceMs <= 3_600_000)) fail('sliceMs must be between 1 and 3600000');
  if (!(halfLifeMs >= 1 && halfLifeMs <= 86_400_000)) {
    fail('halfLifeMs must be between 1 and 86400000');
  }
  if (!(priorLatencyMs > 0 && priorLatencyMs <= 86_400_000)) {
    fail('priorLatencyMs must be above 0 and at most 86400000');
  }
  if (!(priorSamples >= 0 && priorSamples <= 1_000_000)) fail('priorSamples must be 0 to 1000000');
  if (!(clientErrorWeight >= 0 && clientErrorWeight <= 1)) {
    fail('clientErrorWeight must be 0 to 1');
  }
}

function headroom(s: Slot, now: number): number {
  if (now < s.blockedUntilMs) return 0;
  return Math.min(dimension(s.requests, now), dimension(s.tokens, now));
}

function dimension(d: Dimension, now: number): number {
  if (now >= d.resetMs) return 1;
  return d.fraction + ((1 - d.fraction) * (now - d.fromMs)) / (d.resetMs - d.fromMs);
}

function setDimension(d: Dimension, now: number, fraction: number, resetMs: number): void {
  if (Number.isNaN(fraction)) return;
  d.fraction = fraction;
  d.fromMs = now;
  d.resetMs = now + resetMs;
}

function checkDimension(fraction: number, resetMs: number): void {
  if (Number.isNaN(fraction)) return;
  if (!(fraction >= 0 && fraction <= 1)) fail('a rate-limit fraction must be between 0 and 1');
  if (!isAmount(resetMs)) fail('a rate-limit reset must be a finite number >= 0');
}

function isAmount(x: number): boolean {
  return x >= 0 && x < Infinity;
}

function isAmountOrNaN(x: number): boolean {
  return Number.isNaN(x) || isAmount(x);
}

function fail(message: string): never {
  throw new RangeError(`health reference: ${message}`);
}
