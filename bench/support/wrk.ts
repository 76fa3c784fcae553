// Drives wrk (https://github.com/wg/wrk) with a generated Lua script: a fixed POST body, and
// a done() hook that prints the summary and exact percentiles as one JSON line, so nothing
// depends on wrk's human-readable rounding.

import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface WrkResult {
  requests: number;
  durationS: number;
  rps: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  /** Socket errors plus non-2xx/3xx answers plus timeouts. */
  errors: number;
  /** The same by kind, e.g. "status 3, read 1"; empty when there were none. */
  errorKinds: string;
}

export interface WrkRun {
  url: string;
  scriptPath: string;
  connections: number;
  durationS: number;
  /** The CPU wrk is pinned to. */
  cpu: number;
}

const MARKER = 'WRK_JSON ';
/** How long past its own duration a wrk run may take before we call it stuck. */
const OVERRUN_MS = 20_000;

/** The wrk version line, or undefined when wrk is not installed. */
export function wrkVersion(): string | undefined {
  const result = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (result.error !== undefined) return undefined;
  return `${result.stdout}${result.stderr}`.split('\n')[0].split(' Copyright')[0].trim();
}

export function writeWrkScript(path: string, body: string): void {
  if (body.includes(']==]')) throw new Error('body cannot be quoted as a Lua long string');
  const script = `wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[${body}]==]

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '${MARKER}{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
`;
  writeFileSync(path, script);
}

export function runWrk(run: WrkRun): Promise<WrkResult> {
  const args = [
    '-c',
    String(run.cpu),
    'wrk',
    '--latency',
    '-t1',
    `-c${run.connections}`,
    `-d${run.durationS}s`,
    '--timeout',
    '10s',
    '-s',
    run.scriptPath,
    run.url,
  ];
  const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (out += text));
  const timer = setTimeout(() => child.kill('SIGKILL'), run.durationS * 1000 + OVERRUN_MS);

  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith(MARKER));
      if (code !== 0 || line === undefined) {
        return reject(new Error(`wrk ${run.url} exited with ${code}:\n${out.trim()}`));
      }
      const raw = JSON.parse(line.slice(MARKER.length)) as Record<string, number>;
      const durationS = raw.duration_us / 1e6;
      const kinds = (['connect', 'read', 'write', 'status', 'timeout'] as const).filter(
        (k) => raw[k] > 0,
      );
      resolve({
        requests: raw.requests,
        durationS,
        rps: raw.requests / durationS,
        p50Us: raw.p50,
        p90Us: raw.p90,
        p99Us: raw.p99,
        p999Us: raw.p999,
        maxUs: raw.max,
        errors: kinds.reduce((sum, k) => sum + raw[k], 0),
        errorKinds: kinds.map((k) => `${k} ${raw[k]}`).join(', '),
      });
    });
  });
}
