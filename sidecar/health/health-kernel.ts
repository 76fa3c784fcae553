import { compileKernel, instantiateKernel, kernelPath } from '../wasm-kernel.js';
import {
  BUCKET_COUNT,
  OUTCOME_CODES,
  SLICE_COUNT,
  SNAPSHOT,
  SNAPSHOT_FIELDS,
  type HealthEngine,
  type HealthEngineSource,
  type HealthOutcome,
  type HealthSettings,
  type OutcomeCode,
} from './health-engine.js';
import type { RateLimitInfo } from './rate-limit-headers.js';

export type { HealthOutcome } from './health-engine.js';

/** The exports of wasm/build/health.wasm; pointers are byte offsets into `memory`. */
export interface HealthExports {
  readonly memory: WebAssembly.Memory;
  bucketCount(): number;
  sliceCount(): number;
  configure(
    sliceMs: number,
    halfLifeMs: number,
    priorLatencyMs: number,
    priorSamples: number,
    clientErrorWeight: number,
  ): void;
  reserve(capacity: number): number;
  capacity(): number;
  scratchReserve(bytes: number): number;
  record(
    slot: number,
    nowMs: number,
    outcome: number,
    latencyMs: number,
    ttftMs: number,
    outputTokens: number,
    streamMs: number,
  ): void;
  observeRateLimit(
    slot: number,
    nowMs: number,
    requestsFraction: number,
    requestsResetMs: number,
    tokensFraction: number,
    tokensResetMs: number,
    blockedForMs: number,
  ): void;
  snapshot(slot: number, nowMs: number, outPtr: number): void;
  score(slot: number, nowMs: number): number;
  scores(slotsPtr: number, count: number, nowMs: number, outPtr: number): void;
}

/** One finished upstream attempt, as routing reports it. */
export interface HealthEvent {
  /** timeout and connect_error count as 5xx; rate_limited (429) as 4xx. */
  outcome: HealthOutcome;
  /** Request sent to response complete (or to failure). */
  latencyMs: number;
  /** Request sent to first content token; streams only. */
  ttftMs?: number;
  outputTokens?: number;
  /** First token to last; with outputTokens, gives the delivery rate. */
  streamMs?: number;
  /** From parseRateLimitHeaders. */
  rateLimit?: RateLimitInfo;
}

/** What /metrics and the JSON health endpoint show. Percentiles cover successes only. */
export interface EndpointHealth {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  ttftP50Ms: number;
  ttftP95Ms: number;
  ttftP99Ms: number;
  /** Successful requests in the window; 0 means the percentiles above are 0 for lack of data. */
  count: number;
  /** Of those, how many reported a time to first token. */
  ttftCount: number;
  errorRate4xx: number;
  errorRate5xx: number;
  /** 0 until a stream has been measured. */
  tokensPerSecond: number;
  /** 0 (at the limit or told to retry later) to 1 (full budget or none reported). */
  headroom: number;
  /** Expected milliseconds per successful response; lower is better. */
  score: number;
}

export interface HealthTableOptions {
  /** Endpoints to make room for up front; the arena doubles when it fills. */
  initialCapacity?: number;
  /** One of 12 window slices. Default 5000: a 60 s window. */
  sliceMs?: number;
  /** Default 30000. */
  halfLifeMs?: number;
  /** The latency assumed for an endpoint with no data. Default 1000. */
  priorLatencyMs?: number;
  /** The prior's weight in samples. Default 4. */
  priorSamples?: number;
  /** The 4xx rate's weight beside the 5xx rate in the score. Default 0.25. */
  clientErrorWeight?: number;
  /** Refill time assumed when a limit is reported without a reset. Default 60000. */
  defaultResetMs?: number;
  /** How long a 429 without Retry-After holds the headroom at 0. Default 1000. */
  rateLimitedBlockMs?: number;
}

const DEFAULTS: Required<HealthTableOptions> = {
  initialCapacity: 0,
  sliceMs: 5000,
  halfLifeMs: 30_000,
  priorLatencyMs: 1000,
  priorSamples: 4,
  clientErrorWeight: 0.25,
  defaultResetMs: 60_000,
  rateLimitedBlockMs: 1000,
};

const F64_BYTES = 8;
const I32_BYTES = 4;
const MIN_SCRATCH_BYTES = 256;
const EVENT_AMOUNTS = ['latencyMs', 'ttftMs', 'outputTokens', 'streamMs'] as const;

/** Loads and compiles the health kernel. Call once at startup and pass the result on. */
export async function loadHealthKernel(wasmPath = defaultHealthWasmPath()): Promise<HealthKernel> {
  return new HealthKernel(await compileKernel(wasmPath));
}

/** wasm/build/health.wasm under the package root, from source (vitest) or from dist/. */
export function defaultHealthWasmPath(): string {
  return kernelPath('health');
}

/** The compiled kernel. Each engine is an instance of its own, because memory holds one arena. */
export class HealthKernel implements HealthEngineSource {
  readonly #module: WebAssembly.Module;

  constructor(module: WebAssembly.Module) {
    this.#module = module;
  }

  /** A fresh instance with its own memory, for callers that drive the exports directly. */
  instantiate(): HealthExports {
    const wasm = instantiateKernel<HealthExports>(this.#module, 'health kernel');
    if (wasm.bucketCount() !== BUCKET_COUNT || wasm.sliceCount() !== SLICE_COUNT) {
      throw new Error('wasm/build/health.wasm does not match health-engine.ts; rebuild it');
    }
    return wasm;
  }

  createEngine(settings: HealthSettings): HealthEngine {
    const wasm = this.instantiate();
    const { sliceMs, halfLifeMs, priorLatencyMs, priorSamples, clientErrorWeight } = settings;
    wasm.configure(sliceMs, halfLifeMs, priorLatencyMs, priorSamples, clientErrorWeight);
    return new WasmHealthEngine(wasm);
  }
}

/**
 * Endpoint health by endpoint id. Slots are numbered from 0 in order of first sight and never
 * reused, so routing can hold on to them. Every call takes the caller's clock (monotonic
 * milliseconds, such as performance.now()), so tests and replays are exact.
 */
export class HealthTable {
  readonly #engine: HealthEngine;
  readonly #options: Required<HealthTableOptions>;
  readonly #slots = new Map<string, number>();
  readonly #snapshot = new Float64Array(SNAPSHOT_FIELDS);

  constructor(kernel: HealthEngineSource, options: HealthTableOptions = {}) {
    this.#options = Object.assign({}, DEFAULTS, options);
    checkOptions(this.#options);
    this.#engine = kernel.createEngine(this.#options);
    this.#engine.reserve(this.#options.initialCapacity);
  }

  get size(): number {
    return this.#slots.size;
  }

  /** Slots the table holds before it next grows. */
  get capacity(): number {
    return this.#engine.capacity;
  }

  /** The slot of an endpoint, assigning the next one on first sight. */
  slot(endpointId: string): number {
    let slot = this.#slots.get(endpointId);
    if (slot === undefined) {
      slot = this.#slots.size;
      this.#engine.reserve(slot + 1);
      this.#slots.set(endpointId, slot);
    }
    return slot;
  }

  /** Endpoint ids and their slots, in slot order: what /metrics iterates. */
  endpoints(): IterableIterator<[string, number]> {
    return this.#slots.entries();
  }

  record(slot: number, event: HealthEvent, nowMs: number): void {
    this.#checkSlot(slot);
    if (!Object.hasOwn(OUTCOME_CODES, event.outcome)) {
      throw new RangeError(`unknown outcome ${String(event.outcome)}`);
    }
    const outcome = OUTCOME_CODES[event.outcome];
    checkEvent(event);

    const { rateLimit } = event;
    if (rateLimit !== undefined || outcome === OUTCOME_CODES.rate_limited) {
      this.#observeRateLimit(slot, rateLimit, outcome, nowMs);
    }
    this.#engine.record(
      slot,
      nowMs,
      outcome,
      event.latencyMs,
      event.ttftMs ?? NaN,
      event.outputTokens ?? NaN,
      event.streamMs ?? NaN,
    );
  }

  /** Every tracked endpoint's snapshot, named: what /metrics and /health/endpoints show. */
  snapshots(nowMs: number): ({ endpoint: string } & EndpointHealth)[] {
    return [...this.endpoints()].map(([endpoint, slot]) => ({
      endpoint,
      ...this.snapshot(slot, nowMs),
    }));
  }

  snapshot(slot: number, nowMs: number): EndpointHealth {
    this.#checkSlot(slot);
    const v = this.#snapshot;
    this.#engine.snapshotInto(slot, nowMs, v);
    return {
      p50Ms: v[SNAPSHOT.p50Ms],
      p95Ms: v[SNAPSHOT.p95Ms],
      p99Ms: v[SNAPSHOT.p99Ms],
      ttftP50Ms: v[SNAPSHOT.ttftP50Ms],
      ttftP95Ms: v[SNAPSHOT.ttftP95Ms],
      ttftP99Ms: v[SNAPSHOT.ttftP99Ms],
      count: v[SNAPSHOT.count],
      ttftCount: v[SNAPSHOT.ttftCount],
      errorRate4xx: v[SNAPSHOT.errorRate4xx],
      errorRate5xx: v[SNAPSHOT.errorRate5xx],
      tokensPerSecond: v[SNAPSHOT.tokensPerSecond],
      headroom: v[SNAPSHOT.headroom],
      score: v[SNAPSHOT.score],
    };
  }

  /** Expected milliseconds per successful response; lower is better. */
  score(slot: number, nowMs: number): number {
    this.#checkSlot(slot);
    return this.#engine.score(slot, nowMs);
  }

  /** out[i] = score(slots[i], nowMs), in one call: what selection uses. */
  scores(slots: Int32Array | readonly number[], nowMs: number, out: Float64Array): void {
    if (out.length < slots.length) {
      throw new RangeError(`out holds ${out.length} scores; ${slots.length} slots were given`);
    }
    for (let i = 0; i < slots.length; i++) this.#checkSlot(slots[i]);
    this.#engine.scoresInto(slots, nowMs, out);
  }

  #observeRateLimit(
    slot: number,
    info: RateLimitInfo | undefined,
    outcome: OutcomeCode,
    nowMs: number,
  ): void {
    const { defaultResetMs, rateLimitedBlockMs } = this.#options;
    // Retry-After means something on a refusal (RFC 9110 gives it to 503, 429 and 3xx); on
    // an answer that succeeded it is noise, and must not block the endpoint.
    const refused = outcome !== OUTCOME_CODES.ok;
    const blockedForMs =
      (refused ? validAmount(info?.retryAfterMs) : undefined) ??
      (outcome === OUTCOME_CODES.rate_limited ? rateLimitedBlockMs : NaN);

    this.#engine.observeRateLimit(
      slot,
      nowMs,
      fractionOf(info?.requestsRemaining, info?.requestsLimit),
      validAmount(info?.requestsResetMs) ?? defaultResetMs,
      fractionOf(info?.tokensRemaining, info?.tokensLimit),
      validAmount(info?.tokensResetMs) ?? defaultResetMs,
      blockedForMs,
    );
  }

  #checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.#slots.size) {
      throw new RangeError(`slot ${slot} was not assigned by this table`);
    }
  }
}

/**
 * One kernel instance driven through scratch memory. memory.grow detaches the old ArrayBuffer,
 * so the views are re-derived whenever `memory.buffer` is a different object, and only then.
 */
class WasmHealthEngine implements HealthEngine {
  readonly #wasm: HealthExports;
  #buffer: ArrayBuffer | undefined;
  #f64 = new Float64Array(0);
  #i32 = new Int32Array(0);
  #scratchPtr = 0;
  #scratchBytes = 0;

  constructor(wasm: HealthExports) {
    this.#wasm = wasm;
  }

  get capacity(): number {
    return this.#wasm.capacity();
  }

  reserve(capacity: number): void {
    const before = this.#wasm.capacity();
    this.#wasm.reserve(capacity);
    // Scratch sits just past the arena, so growth moved it.
    if (this.#wasm.capacity() !== before) this.#scratchBytes = 0;
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
    this.#wasm.record(slot, nowMs, outcome, latencyMs, ttftMs, outputTokens, streamMs);
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
    this.#wasm.observeRateLimit(
      slot,
      nowMs,
      requestsFraction,
      requestsResetMs,
      tokensFraction,
      tokensResetMs,
      blockedForMs,
    );
  }

  snapshotInto(slot: number, nowMs: number, out: Float64Array): void {
    const ptr = this.#scratch(SNAPSHOT_FIELDS * F64_BYTES);
    this.#wasm.snapshot(slot, nowMs, ptr);

    const f64 = this.#sharedF64View();
    const base = ptr / F64_BYTES;
    for (let i = 0; i < SNAPSHOT_FIELDS; i++) out[i] = f64[base + i];
  }

  score(slot: number, nowMs: number): number {
    return this.#wasm.score(slot, nowMs);
  }

  // Scratch layout: [n scores (f64)][n slot indexes (i32)], so the scores stay 8-byte aligned.
  scoresInto(slots: ArrayLike<number>, nowMs: number, out: Float64Array): void {
    const n = slots.length;
    const outPtr = this.#scratch(n * (F64_BYTES + I32_BYTES));
    const slotsPtr = outPtr + n * F64_BYTES;

    const i32 = this.#sharedI32View();
    const slotBase = slotsPtr / I32_BYTES;
    for (let i = 0; i < n; i++) i32[slotBase + i] = slots[i];
    this.#wasm.scores(slotsPtr, n, nowMs, outPtr);

    const f64 = this.#sharedF64View();
    const outBase = outPtr / F64_BYTES;
    for (let i = 0; i < n; i++) out[i] = f64[outBase + i];
  }

  // Reserved once and grown geometrically; the kernel hands back the same address until the
  // arena grows, so only the first call after growth asks it again.
  #scratch(bytes: number): number {
    if (bytes > this.#scratchBytes) {
      const want = Math.max(bytes, 2 * this.#scratchBytes, MIN_SCRATCH_BYTES);
      this.#scratchPtr = this.#wasm.scratchReserve(want) >>> 0;
      this.#scratchBytes = want;
    }
    return this.#scratchPtr;
  }

  /** A view over all of memory, shared and reused until the next memory.grow. */
  #sharedF64View(): Float64Array {
    this.#refresh();
    return this.#f64;
  }

  /** A view over all of memory, shared and reused until the next memory.grow. */
  #sharedI32View(): Int32Array {
    this.#refresh();
    return this.#i32;
  }

  #refresh(): void {
    const buffer = this.#wasm.memory.buffer;
    if (buffer === this.#buffer) return;

    this.#buffer = buffer;
    this.#f64 = new Float64Array(buffer);
    this.#i32 = new Int32Array(buffer);
  }
}

function checkOptions(o: Required<HealthTableOptions>): void {
  if (!Number.isInteger(o.initialCapacity) || o.initialCapacity < 0) {
    throw new RangeError(`initialCapacity must be an integer >= 0, got ${o.initialCapacity}`);
  }
  if (!(o.defaultResetMs >= 0 && o.defaultResetMs < Infinity)) {
    throw new RangeError(`defaultResetMs must be a finite number >= 0, got ${o.defaultResetMs}`);
  }
  if (!(o.rateLimitedBlockMs >= 0 && o.rateLimitedBlockMs < Infinity)) {
    throw new RangeError(
      `rateLimitedBlockMs must be a finite number >= 0, got ${o.rateLimitedBlockMs}`,
    );
  }
  // The engine checks the rest (sliceMs, halfLifeMs, the prior, the weight) when configured.
}

// Checked here, before anything is recorded, so that a bad event changes nothing.
function checkEvent(event: HealthEvent): void {
  for (const field of EVENT_AMOUNTS) {
    const value = event[field];
    if (value === undefined && field !== 'latencyMs') continue;
    if (!(typeof value === 'number' && value >= 0 && value < Infinity)) {
      throw new RangeError(`${field} must be a finite number >= 0, got ${value}`);
    }
  }
}

function validAmount(value: number | undefined): number | undefined {
  return value !== undefined && value >= 0 && value < Infinity ? value : undefined;
}

function fractionOf(remaining: number | undefined, limit: number | undefined): number {
  if (remaining === undefined || limit === undefined || !(limit > 0) || !(remaining >= 0)) {
    return NaN;
  }
  return Math.min(1, remaining / limit);
}
