// Settings of the latency scenario, from flags or BENCH_* variables, checked once; and the
// tools and builds it needs, checked before anything starts.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DIST } from './rig.js';
import { wrkVersion } from './wrk.js';

export interface LatencyConfig {
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number[];
  chunks: number;
  sidecarHttp: 'uws' | 'node';
  /** The sidecar entry point to measure: this tree's build, or another (e.g. a commit). */
  sidecarMain: string;
  profile: boolean;
}

export function readLatencyConfig(args: string[], env: NodeJS.ProcessEnv): LatencyConfig {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string', default: env.BENCH_DURATION_S ?? '5' },
      warmup: { type: 'string', default: env.BENCH_WARMUP_S ?? '2' },
      rounds: { type: 'string', default: env.BENCH_ROUNDS ?? '3' },
      connections: { type: 'string', default: env.BENCH_CONNECTIONS ?? '1,64' },
      chunks: { type: 'string', default: env.BENCH_CHUNKS ?? '64' },
      'sidecar-http': { type: 'string', default: env.BENCH_SIDECAR_HTTP ?? 'uws' },
      'sidecar-dist': { type: 'string', default: env.BENCH_SIDECAR_DIST ?? DIST },
      profile: { type: 'boolean', default: env.BENCH_PROFILE === '1' },
    },
  });
  const whole = (name: string, text: string, min: number, max: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
    }
    return n;
  };
  const http = values['sidecar-http'];
  if (http !== 'uws' && http !== 'node') throw new Error('--sidecar-http must be uws or node');

  return {
    durationS: whole('duration', values.duration, 1, 120),
    warmupS: whole('warmup', values.warmup, 0, 60),
    rounds: whole('rounds', values.rounds, 1, 20),
    connections: values.connections.split(',').map((c) => whole('connections', c, 1, 1024)),
    chunks: whole('chunks', values.chunks, 1, 4096),
    sidecarHttp: http,
    sidecarMain: join(resolve(values['sidecar-dist']), 'sidecar/main.js'),
    profile: values.profile,
  };
}

/** Says what to install or build; returns wrk's version line. */
export function preflight(cfg: LatencyConfig): string {
  const version = wrkVersion();
  if (version === undefined) {
    throw new Error('wrk is not installed: apt-get install -y wrk (Debian package "wrk")');
  }
  if (availableParallelism() < 2) throw new Error('the rig needs two CPUs to pin to');
  for (const file of ['bench/mocks/openai-mock.js', 'bench/baseline-passthrough.js']) {
    if (!existsSync(join(DIST, file))) {
      throw new Error(`dist/${file} is missing: npx tsc -p tsconfig.json`);
    }
  }
  if (!existsSync(cfg.sidecarMain)) throw new Error(`${cfg.sidecarMain} is missing`);
  return version;
}

/** Seconds the whole run takes, give or take start-up. */
export function plannedSeconds(cfg: LatencyConfig): number {
  const cells = cfg.connections.length * 2;
  const main = cells * 3 * (cfg.warmupS + cfg.rounds * cfg.durationS);
  return main + (cfg.profile ? 4 * (cfg.warmupS + cfg.durationS) : 0);
}
