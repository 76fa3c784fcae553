// The contract between HealthTable and the engines that do its math: the WASM kernel
// (wasm/health.ts) and the plain-JS reference that checks it. Positional arguments mirror the
// kernel's exports, so that the WASM engine passes them straight through without allocating.

/** Outcome codes as the kernel takes them. */
export const OUTCOME_CODES = {
  ok: 0,
  client_error: 1,
  server_error: 2,
  rate_limited: 3,
  timeout: 4,
  connect_error: 5,
} as const;

export type HealthOutcome = keyof typeof OUTCOME_CODES;
export type OutcomeCode = (typeof OUTCOME_CODES)[HealthOutcome];

/** Window slices and histogram buckets; wasm/health.ts holds the same numbers. */
export const SLICE_COUNT = 12;
export const OCTAVES = 20;
export const SUB_BUCKETS = 8;
export const BUCKET_COUNT = OCTAVES * SUB_BUCKETS + 2;

/** Where each value sits in a snapshot written by `snapshotInto`. */
export const SNAPSHOT = {
  p50Ms: 0,
  p95Ms: 1,
  p99Ms: 2,
  ttftP50Ms: 3,
  ttftP95Ms: 4,
  ttftP99Ms: 5,
  count: 6,
  ttftCount: 7,
  errorRate4xx: 8,
  errorRate5xx: 9,
  tokensPerSecond: 10,
  headroom: 11,
  score: 12,
} as const;
export const SNAPSHOT_FIELDS = 13;

/** Score shaping: see the formula in wasm/health.ts. */
export const MAX_ERROR_SHARE = 0.99;
export const HEADROOM_KNEE = 0.1;
export const HEADROOM_FLOOR = 0.001;

export interface HealthSettings {
  /** One of SLICE_COUNT window slices; the percentile window is SLICE_COUNT * sliceMs. */
  sliceMs: number;
  /** Half-life of the error rates and of the token rate's weights. */
  halfLifeMs: number;
  /** What an endpoint with no live samples is assumed to take. */
  priorLatencyMs: number;
  /** How many samples the prior is worth against measured ones. */
  priorSamples: number;
  /** Weight of the 4xx rate (client errors and 429s) beside the 5xx rate in the score. */
  clientErrorWeight: number;
}

/**
 * One table's worth of endpoint slots. Every method takes the caller's clock; a time earlier
 * than one already seen counts as that time, and one more than a window earlier throws.
 */
export interface HealthEngine {
  readonly capacity: number;
  /** Makes room for at least `capacity` slots; existing slots keep their state. */
  reserve(capacity: number): void;
  /** NaN marks an absent ttftMs, outputTokens or streamMs. */
  record(
    slot: number,
    nowMs: number,
    outcome: OutcomeCode,
    latencyMs: number,
    ttftMs: number,
    outputTokens: number,
    streamMs: number,
  ): void;
  /** Fractions are remaining / limit in [0, 1] or NaN (unchanged); NaN blockedForMs is none. */
  observeRateLimit(
    slot: number,
    nowMs: number,
    requestsFraction: number,
    requestsResetMs: number,
    tokensFraction: number,
    tokensResetMs: number,
    blockedForMs: number,
  ): void;
  /** Writes SNAPSHOT_FIELDS values, in SNAPSHOT order, to the start of `out`. */
  snapshotInto(slot: number, nowMs: number, out: Float64Array): void;
  score(slot: number, nowMs: number): number;
  /** out[i] = score(slots[i]) for every i < slots.length. */
  scoresInto(slots: ArrayLike<number>, nowMs: number, out: Float64Array): void;
}

export interface HealthEngineSource {
  createEngine(settings: HealthSettings): HealthEngine;
}
