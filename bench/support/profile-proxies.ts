// The profile phase: fresh copies of the sidecar and the passthrough under `node --cpu-prof`,
// loaded the same way, so the report can say where the sidecar spends more per request.
// It runs after the measured rounds, never during them: the profiler costs 30-60%.

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatAreaComparison, formatFunctionDiff, formatOwnInclusive } from '../profile-top.js';
import { formatProfile, summarizeProfile, type ProfiledRun } from '../profile-top.js';
import { modeLabel, type Mode } from './latency-report.js';
import { chatUrl, measure, ROOT, startPassthroughProcess, startSidecarProcess } from './rig.js';
import type { SidecarStart } from './rig.js';

export interface ProfilePlan {
  sidecar: Omit<SidecarStart, 'cpuProfDir'>;
  mockPort: number;
  mockPid: number;
  scripts: Record<Mode, string>;
  connections: number;
  seconds: number;
  chunks: number;
  /**
   * CPU time per request measured without the profiler, which the profile's shares are
   * scaled by: the profiler's own cost would inflate them, and unevenly.
   */
  cpuUsPerRequest: Record<Proxy, Record<Mode, number>>;
  /** Scratch space for the profiler's output. */
  tmp: string;
  log(line: string): void;
}

export type Proxy = 'sidecar' | 'passthrough';

async function profileOne(plan: ProfilePlan, proxy: Proxy, mode: Mode): Promise<ProfiledRun> {
  const dir = join(plan.tmp, `profile-${proxy}-${mode}`);
  mkdirSync(dir);
  const server =
    proxy === 'sidecar'
      ? await startSidecarProcess({ ...plan.sidecar, cpuProfDir: dir })
      : await startPassthroughProcess(plan.mockPort, dir);

  try {
    const m = await measure({
      url: chatUrl(server.port),
      pid: server.proc.pid,
      mockPid: plan.mockPid,
      scriptPath: plan.scripts[mode],
      connections: plan.connections,
      seconds: plan.seconds,
    });
    plan.log(`profiled ${proxy} ${mode} c${plan.connections}: ${Math.round(m.rps)} req/s`);
  } finally {
    await server.proc.stop(10_000); // the profile is written on the way out
  }

  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no .cpuprofile was written in ${dir}`);
  const kept = join(ROOT, 'bench/results', `latency-${proxy}-${mode}.cpuprofile.tmp`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(kept, readFileSync(join(dir, file)));
  const cpuUsPerRequest = plan.cpuUsPerRequest[proxy][mode];
  return { label: proxy, summary: summarizeProfile(kept), cpuUsPerRequest };
}

/** Profiles both proxies in each mode; returns the markdown section of the report. */
export async function profileProxies(plan: ProfilePlan): Promise<string> {
  const parts: string[] = [];
  for (const mode of ['non-stream', 'stream'] as const) {
    const sidecar = await profileOne(plan, 'sidecar', mode);
    const passthrough = await profileOne(plan, 'passthrough', mode);
    parts.push(
      `### ${modeLabel(mode, plan.chunks)}, ${plan.connections} connections`,
      '',
      `Profiles kept as bench/results/latency-{sidecar,passthrough}-${mode}.cpuprofile.tmp ` +
        '(git-ignored; open in Chrome DevTools, or `node dist/bench/profile-top.js FILE`).',
      '',
      "CPU time per request by area. Approximate: each area's share of the profile's busy " +
        'samples times the CPU time per request measured in the rounds above.',
      '',
      formatAreaComparison([sidecar, passthrough], 12),
      '',
      'Where the sidecar spends more than the passthrough, by function (µs per request):',
      '',
      formatFunctionDiff(sidecar, passthrough, 15),
      '',
      'Sidecar functions by self time:',
      '',
      formatProfile(sidecar.summary, 15),
      '',
      "The sidecar's own functions by inclusive time:",
      '',
      formatOwnInclusive(sidecar.summary, 12),
      '',
    );
  }
  return parts.join('\n');
}
