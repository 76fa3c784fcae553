// The drift schedule of the simulated fleet: what each provider is like at each moment.
//
// The clock is the fleet tick: the index of the client request (0..N-1) that caused an
// upstream attempt. The load generator writes it into the prompt ("fleet tick 1234") and the
// mocks read it back, so the schedule is keyed to the request count, not to wall time, and
// every routing mode meets the same provider behaviour for the same request. Because the
// generator issues requests at a fixed rate, tick i also lands about i / rate seconds into
// the run; that rate converts ticks into the durations the rate-limit headers report.
//
// Every random draw is a pure function of (seed, provider, tick, attempt), so a run repeats
// whatever order the concurrent requests arrive in.

export type ProviderId = 'p1' | 'p2' | 'p3';
export const PROVIDERS: readonly ProviderId[] = ['p1', 'p2', 'p3'];

/** A stretch of the run, as fractions of the request count, and what it does to a provider. */
export interface Segment {
  from: number;
  to: number;
  label: string;
  /** Multiplies the base latency. */
  slowdown: number;
  /** Share of requests that spike, and the spike's range as a multiple of the latency. */
  spikeShare: number;
  spike: readonly [number, number];
  /** Share of requests answered 500/503 (inside a burst: see burstTicks). */
  errorShare: number;
  /** When set, errors come in bursts: on for this many ticks, off for as many. */
  burstTicks?: number;
  /** Share of the request budget per rate-limit window that another tenant uses up first. */
  quotaTaken?: number;
}

export interface ProviderProfile {
  id: ProviderId;
  /** Median latency when nothing is wrong, in ms. */
  baseMs: number;
  /** Spread of the log-normal around the median. */
  sigma: number;
  /** Requests per rate-limit window, as a share of the fleet's request rate; none if absent. */
  rateLimitShare?: number;
  /** Rate-limit window in ticks. */
  rateWindowTicks?: number;
  segments: readonly Segment[];
}

const calm = (from: number, to: number, label = 'steady'): Segment => ({
  from,
  to,
  label,
  slowdown: 1,
  spikeShare: 0.01,
  spike: [2, 4],
  errorShare: 0.002,
});

/** The three providers. Segments of each cover [0, 1). */
export function fleetProfiles(rate: number): ProviderProfile[] {
  return [
    {
      // Fastest at first: the provider a static config would pick. Then it degrades.
      id: 'p1',
      baseMs: 9,
      sigma: 0.25,
      segments: [
        calm(0, 0.2, 'fast'),
        {
          from: 0.2,
          to: 0.4,
          label: 'latency x10',
          slowdown: 10,
          spikeShare: 0.06,
          spike: [3, 6],
          errorShare: 0.01,
        },
        {
          from: 0.4,
          to: 0.5,
          label: 'error bursts',
          slowdown: 1.5,
          spikeShare: 0.02,
          spike: [3, 6],
          errorShare: 0.85,
          burstTicks: 60,
        },
        calm(0.5, 0.7, 'fast again'),
        {
          from: 0.7,
          to: 0.8,
          label: 'latency x10',
          slowdown: 10,
          spikeShare: 0.06,
          spike: [3, 6],
          errorShare: 0.01,
        },
        calm(0.8, 1, 'fast again'),
      ],
    },
    {
      // Nearly as fast, but its request budget runs out: half the fleet's rate per second,
      // and from 35% to 65% of the run another tenant of the same key takes most of it.
      id: 'p2',
      baseMs: 16,
      sigma: 0.3,
      rateLimitShare: 0.5,
      rateWindowTicks: Math.max(10, Math.round(rate)),
      segments: [
        calm(0, 0.35),
        { ...calm(0.35, 0.65, 'quota shared'), quotaTaken: 0.7 },
        calm(0.65, 1),
      ],
    },
    {
      // Steady but slower.
      id: 'p3',
      baseMs: 45,
      sigma: 0.2,
      segments: [calm(0, 1)],
    },
  ];
}

export function segmentAt(profile: ProviderProfile, tick: number, requests: number): Segment {
  const at = tick / requests;
  for (const s of profile.segments) if (at >= s.from && at < s.to) return s;
  return profile.segments[profile.segments.length - 1];
}

/** Every boundary of every provider's segments: the phases of the report. */
export function phaseBoundaries(profiles: readonly ProviderProfile[]): number[] {
  const set = new Set<number>([0, 1]);
  for (const p of profiles) for (const s of p.segments) set.add(s.from).add(s.to);
  return [...set].sort((a, b) => a - b);
}

/** A small generator seeded from (seed, provider, tick, attempt): mulberry32 over a mixed key. */
export function drawsFor(
  seed: number,
  provider: number,
  tick: number,
  attempt: number,
): () => number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (provider * 0x27d4eb2f), 0xc2b2ae35);
  h = Math.imul(h ^ tick, 0x85ebca6b) ^ (h >>> 13);
  h = Math.imul(h ^ (attempt * 0x165667b1), 0xc2b2ae35) ^ (h >>> 16);
  let state = h >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export interface Fate {
  latencyMs: number;
  /** 0 for a success, else the status to answer with. */
  errorStatus: number;
}

/** What one attempt at `tick` meets on this provider (rate limits are the mock's business). */
export function fateOf(
  profile: ProviderProfile,
  index: number,
  seed: number,
  tick: number,
  attempt: number,
  requests: number,
): Fate {
  const seg = segmentAt(profile, tick, requests);
  const draw = drawsFor(seed, index + 1, tick, attempt);
  // Box-Muller: a standard normal for the log-normal spread.
  const u1 = Math.max(draw(), 1e-12);
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * draw());
  let latencyMs = profile.baseMs * seg.slowdown * Math.exp(profile.sigma * z);
  if (draw() < seg.spikeShare) latencyMs *= seg.spike[0] + draw() * (seg.spike[1] - seg.spike[0]);
  const inBurst = seg.burstTicks === undefined || Math.floor(tick / seg.burstTicks) % 2 === 0;
  const failing = inBurst && draw() < seg.errorShare;
  const errorStatus = failing ? (draw() < 0.5 ? 500 : 503) : 0;
  // Errors come back faster than answers, as from an overloaded front end.
  if (failing) latencyMs = Math.min(latencyMs, profile.baseMs * (0.3 + draw()));
  return { latencyMs, errorStatus };
}
