// Health routing on a drifting fleet (issue 5). Three mock OpenAI-protocol providers whose
// latency, error rate and rate limit drift on a seeded schedule keyed to the request count
// (fleet/schedule.ts): p1 is fastest at first, then its latency goes x10, then it fails in
// bursts, recovers and slows down again; p2's request budget runs short; p3 is steady but
// slower. One sidecar serves them as model `health` (a class over all three, health-ordered)
// and as `p1`, `p2`, `p3` (single endpoints). The same request sequence is driven three
// ways, each against freshly restarted mocks: all to `health`, all to `p1` (static: the
// provider that is fastest at the start), and rotating p1, p2, p3 (round-robin).
//
//   node dist/bench/fleet.js [--seed N] [--requests N] [--rate R] [--concurrency C]
//                            [--breaker-cooldown-ms MS] [--health-window-ms MS] [--explore-share F]
//
// Defaults: seed 1, 6000 requests at 150/s, 16 in flight, cooldown 2000 ms, the sidecar's own
// health window and exploration share; about 2 min 10 s in all (three 40 s runs, a warm-up
// and the restarts). The report goes to stdout and bench/results/fleet-<date>.md.

import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { sleep } from './support/processes.js';
import { startConfiguredSidecar, type ConfiguredSidecar } from './support/rig.js';
import { drive } from './fleet/load.js';
import { startFleetProvider, type FleetProvider } from './fleet/provider.js';
import { render, type ModeRun } from './fleet/report.js';
import { HealthSampler } from './fleet/snapshots.js';
import { fleetProfiles, phaseBoundaries, PROVIDERS } from './fleet/schedule.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    requests: { type: 'string', default: '6000' },
    rate: { type: 'string', default: '150' },
    concurrency: { type: 'string', default: '16' },
    'breaker-cooldown-ms': { type: 'string', default: '2000' },
    // Unset: the sidecar's defaults (60 s window, 5% exploration).
    'health-window-ms': { type: 'string' },
    'explore-share': { type: 'string' },
  },
});
const SEED = Number(values.seed);
const REQUESTS = Number(values.requests);
const RATE = Number(values.rate);
const CONCURRENCY = Number(values.concurrency);
const COOLDOWN_MS = Number(values['breaker-cooldown-ms']);
const WINDOW_MS = values['health-window-ms'];
const EXPLORE = values['explore-share'];
for (const [name, v] of Object.entries({ SEED, REQUESTS, RATE, CONCURRENCY, COOLDOWN_MS })) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`bad ${name.toLowerCase()}: ${v}`);
}
if (REQUESTS < 100 || REQUESTS > 100_000) throw new Error('--requests must be 100 to 100000');
if (RATE < 1 || RATE > 5000) throw new Error('--rate must be 1 to 5000');
if ((3 * REQUESTS) / RATE > 200) throw new Error('--requests / --rate: the run would exceed 200 s');

const PROFILES = fleetProfiles(RATE);
const TIMELINE_BUCKETS = 20;
const WARM_UP = 1500;

function config(providers: readonly FleetProvider[], port: number): string {
  const lines = [
    `listen: { host: 127.0.0.1, port: ${port} }`,
    `routing: { breaker_failures: 5, breaker_cooldown_ms: ${COOLDOWN_MS}` +
      (WINDOW_MS === undefined ? '' : `, health_window_ms: ${Number(WINDOW_MS)}`) +
      (EXPLORE === undefined ? '' : `, explore_share: ${Number(EXPLORE)}`) +
      ' }',
    'providers:',
    ...providers.map((p) => `  - { id: ${p.id}, protocol: openai, base_url: "${p.url}" }`),
    'classes:',
    '  - name: health',
    '    timeouts: { first_byte_ms: 5000, total_ms: 10000 }',
    '    chain:',
    ...providers.map((p) => `      - { provider: ${p.id}, target: fleet-${p.id} }`),
    'models:',
    '  - { name: health, class: health }',
    ...providers.map((p) => `  - { name: ${p.id}, provider: ${p.id}, target: fleet-${p.id} }`),
    // Separate endpoints for the warm-up, so that it leaves no health state on the others.
    ...providers.map((p) => `  - { name: warm-${p.id}, provider: ${p.id}, target: warm-up }`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The fleet, fresh: same seed, same ports as before when `ports` is given. */
function startFleet(ports?: readonly number[]): Promise<FleetProvider[]> {
  return Promise.all(
    PROFILES.map((profile, index) =>
      startFleetProvider({
        profile,
        index,
        seed: SEED,
        requests: REQUESTS,
        rate: RATE,
        port: ports?.[index] ?? 0,
      }),
    ),
  );
}

const MODES: readonly { mode: string; modelFor: (tick: number) => string }[] = [
  { mode: 'health', modelFor: () => 'health' },
  { mode: 'static p1', modelFor: () => 'p1' },
  { mode: 'round-robin', modelFor: (tick) => PROVIDERS[tick % PROVIDERS.length] },
];

async function main(): Promise<void> {
  let fleet = await startFleet();
  const ports = fleet.map((p) => p.port);
  let sidecar: ConfiguredSidecar;
  try {
    sidecar = await startConfiguredSidecar('fleet', (port) => config(fleet, port));
  } catch (err) {
    // startConfiguredSidecar has stopped the sidecar; the fleet is ours to close.
    await Promise.all(fleet.map((p) => p.close()));
    throw err;
  }
  const { proc, port } = sidecar;
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY });
  const runs: ModeRun[] = [];
  try {
    // Warm the sidecar's JIT and pools up on endpoints no mode uses.
    await drive({
      pool,
      requests: WARM_UP,
      rate: 1000,
      concurrency: CONCURRENCY,
      modelFor: (tick) => `warm-${PROVIDERS[tick % PROVIDERS.length]}`,
      timeoutMs: 5_000,
      warmUp: true,
    });
    for (const m of MODES) {
      // Fresh mock state, and time for cooldowns and Retry-After holds of the last mode to
      // lapse (health state of single endpoints does not steer their routing).
      await Promise.all(fleet.map((p) => p.close()));
      await sleep(Math.max(1500, COOLDOWN_MS + 500));
      fleet = await startFleet(ports);
      process.stderr.write(`fleet: ${m.mode} ...\n`);
      const sampler =
        m.mode === 'health'
          ? new HealthSampler(
              `http://127.0.0.1:${port}/health/endpoints`,
              Math.max(1, Math.round(REQUESTS / (TIMELINE_BUCKETS * 12))),
            )
          : undefined;
      const result = await drive({
        pool,
        requests: REQUESTS,
        rate: RATE,
        concurrency: CONCURRENCY,
        modelFor: m.modelFor,
        timeoutMs: 15_000,
        onIssue: sampler ? (tick) => sampler.onIssue(tick) : undefined,
      });
      await sampler?.settle();
      runs.push({
        mode: m.mode,
        ...result,
        snapshots: sampler?.snapshots,
        providers: Object.fromEntries(fleet.map((p) => [p.id, { ...p.stats }])),
      });
    }
  } finally {
    await pool.close();
    await proc.stop();
    await Promise.all(fleet.map((p) => p.close()));
  }
  const report = render({
    runs,
    profiles: PROFILES,
    boundaries: phaseBoundaries(PROFILES),
    seed: SEED,
    requests: REQUESTS,
    rate: RATE,
    concurrency: CONCURRENCY,
    config: sidecar.config,
    buckets: TIMELINE_BUCKETS,
  });
  process.stdout.write(report);
  const out = resolve(import.meta.dirname, '../../bench/results');
  writeFileSync(join(out, `fleet-${new Date().toISOString().slice(0, 10)}.md`), report);
  process.stderr.write(`fleet: sidecar log ${sidecar.logPath}\n`);
}

void main().catch((err: unknown) => {
  process.stderr.write(`fleet: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
