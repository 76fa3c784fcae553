// Availability through an outage (issue 4). Three mock providers behind one model class;
// the first fails 30% of requests, then goes down entirely. Every non-streamed request and
// every stream whose failure came before its first token must still succeed (target:
// 99.97%), and the latency a failover adds is reported beside a no-fault run measured in
// the same bench.
//
//   node dist/bench/failover.js [--requests N] [--concurrency C]

import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import { startFaultyProvider, type FaultyProvider } from './mocks/faulty-provider.js';
import { startConfiguredSidecar, type Server } from './support/rig.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '32' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);

interface PhaseResult {
  name: string;
  ok: number;
  failed: number;
  latency: hdr.Histogram;
  failedOver: hdr.Histogram;
}

function config(providers: FaultyProvider[], port: number, ordered: boolean): string {
  const lines = [
    `listen: { host: 127.0.0.1, port: ${port} }`,
    'routing: { breaker_failures: 5, breaker_cooldown_ms: 2000 }',
    'providers:',
    ...providers.map((p, i) => `  - { id: p${i + 1}, protocol: openai, base_url: "${p.url}" }`),
    'classes:',
    '  - name: smart',
    '    timeouts: { first_byte_ms: 2000, first_token_ms: 2000, idle_ms: 2000 }',
    `    ordered: ${ordered}`,
    '    chain:',
    ...providers.map((_, i) => `      - { provider: p${i + 1}, target: model-${i + 1} }`),
    'models:',
    '  - { name: smart, class: smart }',
  ];
  return `${lines.join('\n')}\n`;
}

async function runPhase(name: string, pool: Pool): Promise<PhaseResult> {
  const result: PhaseResult = {
    name,
    ok: 0,
    failed: 0,
    latency: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 }),
    failedOver: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000 }),
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < REQUESTS) {
      const i = next++;
      const stream = i % 2 === 1;
      const body = JSON.stringify({
        model: 'smart',
        stream,
        messages: [{ role: 'user', content: `request ${i}` }],
      });
      const started = process.hrtime.bigint();
      try {
        const res = await pool.request({
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const text = await res.body.text();
        const micros = Number((process.hrtime.bigint() - started) / 1000n);
        const good =
          res.statusCode === 200 &&
          (stream
            ? text.endsWith('data: [DONE]\n\n') && text.includes('t15 ')
            : text.includes('"ok"'));
        if (!good) {
          result.failed++;
          continue;
        }
        result.ok++;
        result.latency.recordValue(micros);
        if (Number(res.headers['x-modelgate-attempts'] ?? 1) > 1)
          result.failedOver.recordValue(micros);
      } catch {
        result.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return result;
}

function ms(h: hdr.Histogram, p: number): string {
  return h.totalCount === 0 ? '-' : (h.getValueAtPercentile(p) / 1000).toFixed(2);
}

interface ModeResult {
  mode: string;
  phases: PhaseResult[];
  injected: number;
}

/** One sidecar, three fresh providers, the three phases. */
async function runMode(ordered: boolean): Promise<ModeResult> {
  const providers = await Promise.all(
    [1, 2, 3].map((seed) => startFaultyProvider({ seed, delayMs: 2 })),
  );
  let sidecar: Server;
  try {
    sidecar = await startConfiguredSidecar('failover', (port) => config(providers, port, ordered));
  } catch (err) {
    // startConfiguredSidecar has stopped the sidecar; the providers are ours to close.
    await Promise.all(providers.map((p) => p.close()));
    throw err;
  }
  const { proc, port } = sidecar;
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY });
  try {
    await runPhase('warm-up', pool);
    const clean = await runPhase('no faults', pool);
    providers[0].faults.failRate = 0.3;
    const flaky = await runPhase('p1 fails 30%', pool);
    await providers[0].goDown();
    const down = await runPhase('p1 down', pool);
    return {
      mode: ordered ? 'ordered (p1 primary)' : 'health',
      phases: [clean, flaky, down],
      injected: providers[0].failed,
    };
  } finally {
    await pool.close();
    await proc.stop();
    await Promise.all(providers.map((p) => p.close()));
  }
}

async function main(): Promise<void> {
  const modes = [await runMode(true), await runMode(false)];
  const lines = [
    `# Availability through an outage, ${new Date().toISOString().slice(0, 10)}`,
    '',
    `${REQUESTS} requests per phase (half streamed, 16 chunks), ${CONCURRENCY} at a time; ` +
      'the sidecar alone on CPU 0; mocks and the load on the other core. Two runs: the class ' +
      'walked in order (p1 is the primary, so every p1 fault must be failed over), and by health.',
    '',
    '| routing | phase | succeeded | failed | p50 ms | p99 ms | failed over | failover p50 ms | failover p99 ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const m of modes) {
    for (const r of m.phases) {
      lines.push(
        `| ${m.mode} | ${r.name} | ${r.ok} | ${r.failed} | ${ms(r.latency, 50)} | ` +
          `${ms(r.latency, 99)} | ${r.failedOver.totalCount} | ${ms(r.failedOver, 50)} | ` +
          `${ms(r.failedOver, 99)} |`,
      );
    }
  }
  lines.push('');
  for (const m of modes) {
    const [clean, flaky, down] = m.phases;
    const ok = flaky.ok + down.ok;
    const total = ok + flaky.failed + down.failed;
    lines.push(
      `- ${m.mode}: availability while p1 failed or was down ${((100 * ok) / total).toFixed(3)}% ` +
        `(${ok} of ${total}; target 99.97%); faults injected by p1: ${m.injected}; added latency ` +
        `of a failover p50 ${delta(flaky.failedOver, clean.latency, 50)} ms, p99 ` +
        `${delta(flaky.failedOver, clean.latency, 99)} ms (failed-over requests while p1 failed ` +
        '30%, against all requests of the no-fault phase).',
    );
  }
  const report = `${lines.join('\n')}\n`;
  process.stdout.write(report);
  const out = resolve(import.meta.dirname, '../../bench/results');
  writeFileSync(join(out, `failover-${new Date().toISOString().slice(0, 10)}.md`), report);
}

function delta(a: hdr.Histogram, b: hdr.Histogram, p: number): string {
  if (a.totalCount === 0 || b.totalCount === 0) return '-';
  return ((a.getValueAtPercentile(p) - b.getValueAtPercentile(p)) / 1000).toFixed(2);
}

void main();
