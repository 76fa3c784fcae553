// Turns the outcomes of each routing mode into the markdown report.

import * as hdr from 'hdr-histogram-js';
import type { Outcome } from './load.js';
import type { FleetProviderStats } from './provider.js';
import type { EndpointView, Snapshot } from './snapshots.js';
import { PROVIDERS, type ProviderProfile, segmentAt } from './schedule.js';

export interface ModeRun {
  mode: string;
  outcomes: Outcome[];
  late: number;
  wallMs: number;
  providers: Record<string, FleetProviderStats>;
  /** The sidecar's /health/endpoints, sampled during the run (health mode only). */
  snapshots?: Snapshot[];
}

export interface Summary {
  requests: number;
  ok: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
}

function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000 });
}

/** Latency percentiles (ms) of the successful answers; errors are counted apart. */
export function summarize(outcomes: readonly Outcome[]): Summary {
  const h = histogram();
  let ok = 0;
  for (const o of outcomes) {
    if (!o.ok) continue;
    ok++;
    h.recordValue(Math.max(1, o.micros));
  }
  const at = (p: number) => (h.totalCount === 0 ? NaN : h.getValueAtPercentile(p) / 1000);
  const s = {
    requests: outcomes.length,
    ok,
    errors: outcomes.length - ok,
    p50: at(50),
    p95: at(95),
    p99: at(99),
  };
  h.destroy();
  return s;
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const pct = (n: number, of: number) => (of === 0 ? '-' : `${((100 * n) / of).toFixed(2)}%`);

export function render(opts: {
  runs: readonly ModeRun[];
  profiles: readonly ProviderProfile[];
  boundaries: readonly number[];
  seed: number;
  requests: number;
  rate: number;
  concurrency: number;
  config: string;
  buckets: number;
}): string {
  const { runs, profiles, boundaries, requests } = opts;
  const date = new Date().toISOString().slice(0, 10);
  const sums = runs.map((r) => summarize(r.outcomes));
  const byMode = new Map(runs.map((r, i) => [r.mode, sums[i]]));
  const health = byMode.get('health');
  const lines: string[] = [
    `# Health routing on a drifting fleet, ${date}`,
    '',
    `Seed ${opts.seed}; ${requests} non-streamed requests per mode, issued at ${opts.rate}/s ` +
      `with at most ${opts.concurrency} in flight; one sidecar (CPU 0), three mock providers ` +
      'and the load in the bench process. The drift schedule is keyed to the request count ' +
      '(the fleet tick), so every mode meets the same provider behaviour for the same request; ' +
      'mocks restart with the same seed before each mode. Latency percentiles are of ' +
      'successful answers (hdr-histogram-js); errors are every non-200 answer or transport ' +
      'failure.',
    '',
    '| routing | requests | p50 ms | p95 ms | p99 ms | errors | error rate | p95 vs health |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  runs.forEach((r, i) => {
    const s = sums[i];
    const ratio = health && r.mode !== 'health' ? `${f(health.p95 / s.p95, 2)}x` : '-';
    lines.push(
      `| ${r.mode} | ${s.requests} | ${f(s.p50)} | ${f(s.p95)} | ${f(s.p99)} | ${s.errors} | ` +
        `${pct(s.errors, s.requests)} | ${ratio} |`,
    );
  });
  lines.push('');
  const stat = byMode.get('static p1');
  const rr = byMode.get('round-robin');
  if (health && stat) {
    const cut = 1 - health.p95 / stat.p95;
    const errOk = health.errors / health.requests <= stat.errors / stat.requests;
    lines.push(
      `- health p95 / static p95 = ${f(health.p95 / stat.p95, 3)} (${f(100 * cut)}% lower; ` +
        `goal at least 30% lower with no higher error rate: ` +
        `${cut >= 0.3 && errOk ? 'met' : 'NOT met'}).`,
    );
  }
  if (health && rr) {
    lines.push(
      `- health p95 / round-robin p95 = ${f(health.p95 / rr.p95, 3)}; error rate ` +
        `${pct(health.errors, health.requests)} against ${pct(rr.errors, rr.requests)}.`,
    );
  }
  for (const r of runs) {
    const late = r.late > 0 ? `, ${r.late} requests waited for a free slot` : '';
    const prov = PROVIDERS.map((p) => {
      const s = r.providers[p];
      return `${p} ${s.served} ok/${s.errors} 5xx/${s.rateLimited} 429`;
    }).join(', ');
    const statuses = new Map<string, number>();
    for (const o of r.outcomes) {
      if (o.ok) continue;
      const key = o.status === 0 ? 'transport' : String(o.status);
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
    const errs = [...statuses.entries()].map(([k, n]) => `${n}x ${k}`).join(', ') || 'none';
    const failedOver = r.outcomes.filter((o) => o.ok && o.attempts > 1).length;
    lines.push(
      `- ${r.mode}: ${f(r.wallMs / 1000)} s${late}; errors to the client: ${errs}; ` +
        `answered after a failover: ${failedOver}; upstream: ${prov}.`,
    );
  }

  // Per phase: the stretches between any provider's schedule changes.
  lines.push('', '## By phase', '', 'What each provider was doing, then per routing mode the ');
  lines[lines.length - 1] +=
    'p95 in ms, the error rate and (health only) the share of answers by endpoint.';
  lines.push('');
  const head = ['ticks', ...profiles.map((p) => p.id)];
  for (const r of runs) head.push(`${r.mode} p95`, `${r.mode} err`);
  head.push('health answered by');
  lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  for (let b = 0; b + 1 < boundaries.length; b++) {
    const from = Math.round(boundaries[b] * requests);
    const to = Math.round(boundaries[b + 1] * requests);
    if (to <= from) continue;
    const cells = [`${from}-${to - 1}`];
    for (const p of profiles) cells.push(segmentAt(p, from, requests).label);
    for (const r of runs) {
      const slice = r.outcomes.slice(from, to);
      const s = summarize(slice);
      cells.push(f(s.p95), pct(s.errors, s.requests));
    }
    const h = runs.find((r) => r.mode === 'health');
    if (h) {
      const slice = h.outcomes.slice(from, to);
      const counts = new Map<string, number>();
      for (const o of slice) counts.set(o.endpoint, (counts.get(o.endpoint) ?? 0) + 1);
      cells.push(
        [...counts.entries()]
          .sort((a, b) => a[0].localeCompare(b[0]))
          .map(([e, n]) => `${e.split('/')[0]} ${Math.round((100 * n) / slice.length)}%`)
          .join(', '),
      );
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const healthRun = runs.find((r) => r.mode === 'health');
  if (healthRun) {
    lines.push(...timeline(healthRun, profiles, requests, opts.buckets));
    lines.push('', ...reactions(healthRun, profiles[0], requests));
  }
  lines.push('', '## Sidecar config', '', '```yaml', opts.config.trimEnd(), '```', '');
  return lines.join('\n');
}

/**
 * The health run in equal slices of the request count: who answered, how fast, and the
 * sidecar's own scores and p1 p95 when the slice began.
 */
function timeline(
  run: ModeRun,
  profiles: readonly ProviderProfile[],
  requests: number,
  buckets: number,
): string[] {
  const lines = [
    '',
    '## Health routing over time',
    '',
    'Each row is one slice of the health run. Answered by: share of answers per provider. ' +
      'Scores (lower is better: p95 blended with a 1 s prior, over the success rate, times ' +
      'the headroom penalty) and p1 window p95 are medians, and p2 headroom the mean, of ' +
      '`GET /health/endpoints` sampled 12 times per slice.',
    '',
    '| ticks | p1 | p2 | answered by | p95 ms | err | score p1 / p2 / p3 | p1 window p95 ms | p2 headroom |',
    '|---|---|---|---|---:|---:|---|---:|---:|',
  ];
  const size = Math.max(1, Math.round(requests / buckets));
  for (let from = 0; from < requests; from += size) {
    const to = Math.min(requests, from + size);
    const slice = run.outcomes.slice(from, to);
    const s = summarize(slice);
    const counts = new Map<string, number>();
    for (const o of slice) {
      const who = o.endpoint.split('/')[0];
      counts.set(who, (counts.get(who) ?? 0) + 1);
    }
    const shares = [...counts.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([e, n]) => `${e} ${Math.round((100 * n) / slice.length)}%`)
      .join(', ');
    const snaps = (run.snapshots ?? []).filter((x) => x.tick >= from && x.tick < to);
    const views = (id: string, field: keyof Omit<EndpointView, 'endpoint'>): number[] =>
      snaps
        .map((x) => x.endpoints.find((e) => e.endpoint.startsWith(`${id}/fleet-`))?.[field])
        .filter((v): v is number => v !== undefined && Number.isFinite(v));
    const scores = PROVIDERS.map((id) => f(median(views(id, 'score')), 0)).join(' / ');
    const room = views('p2', 'headroom');
    lines.push(
      `| ${from}-${to - 1} | ${segmentAt(profiles[0], from, requests).label} | ` +
        `${segmentAt(profiles[1], from, requests).label} | ${shares} | ${f(s.p95)} | ` +
        `${pct(s.errors, s.requests)} | ${scores} | ${f(median(views('p1', 'p95Ms')))} | ` +
        `${f(room.reduce((a, b) => a + b, 0) / room.length, 2)} |`,
    );
  }
  return lines;
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * How long health routing took to follow p1: after each change of p1's segment, the ticks
 * until p1's share of the next `span` answers crosses the line (below 10% when p1 turned
 * bad, at least 50% when it turned good again).
 */
export function reactions(
  run: ModeRun,
  profile: ProviderProfile,
  requests: number,
  span = 50,
): string[] {
  const lines: string[] = [];
  for (const seg of profile.segments) {
    const start = Math.round(seg.from * requests);
    const end = Math.round(seg.to * requests);
    if (start === 0) continue;
    const bad = seg.slowdown > 2 || seg.errorShare > 0.1;
    let found = -1;
    for (let t = start; t + span <= end; t++) {
      let p1 = 0;
      for (let i = t; i < t + span; i++) if (run.outcomes[i].endpoint.startsWith('p1/')) p1++;
      const share = p1 / span;
      if (bad ? share < 0.1 : share >= 0.5) {
        found = t;
        break;
      }
    }
    const what = bad ? 'moved off p1 (share under 10%)' : 'came back to p1 (share 50% or more)';
    lines.push(
      `- p1 ${seg.label} from tick ${start}: health routing ` +
        (found < 0
          ? `never ${bad ? 'moved off' : 'came back to'} p1 before the segment ended (tick ${end}).`
          : `${what} after ${found - start} requests.`),
    );
  }
  return lines;
}
