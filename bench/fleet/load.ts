// The load generator: N requests at a fixed rate, at most C in flight, each tagged with its
// fleet tick. When C are in flight the next request waits for a slot (and is counted late),
// so a slow route also slows the arrivals it sees; the schedule stays keyed to the tick.

import { Pool } from 'undici';
import { sleep } from '../support/processes.js';

export interface Outcome {
  tick: number;
  model: string;
  /** HTTP status, or 0 for a transport error or timeout. */
  status: number;
  micros: number;
  /** x-modelgate-endpoint: who answered. */
  endpoint: string;
  attempts: number;
  ok: boolean;
}

export interface LoadOptions {
  pool: Pool;
  requests: number;
  rate: number;
  concurrency: number;
  modelFor: (tick: number) => string;
  timeoutMs: number;
  /** Called as each request is issued, before it is sent. */
  onIssue?: (tick: number) => void;
  /** Untagged requests, which the mocks answer at once outside the schedule. */
  warmUp?: boolean;
}

export interface LoadResult {
  outcomes: Outcome[];
  late: number;
  wallMs: number;
}

export async function drive(opts: LoadOptions): Promise<LoadResult> {
  const outcomes: Outcome[] = new Array(opts.requests);
  let inFlight = 0;
  let late = 0;
  let wake: (() => void) | undefined;
  const started = performance.now();

  const one = async (tick: number): Promise<void> => {
    const model = opts.modelFor(tick);
    const body = JSON.stringify({
      model,
      messages: [
        {
          role: 'user',
          content: opts.warmUp ? 'warm-up: say ok' : `fleet tick ${tick}: say ok`,
        },
      ],
      max_tokens: 8,
    });
    const t0 = process.hrtime.bigint();
    const out: Outcome = {
      tick,
      model,
      status: 0,
      micros: 0,
      endpoint: '-',
      attempts: 0,
      ok: false,
    };
    try {
      const res = await opts.pool.request({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/json' },
        body,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
      const text = await res.body.text();
      out.status = res.statusCode;
      out.endpoint = String(res.headers['x-modelgate-endpoint'] ?? '-');
      out.attempts = Number(res.headers['x-modelgate-attempts'] ?? 1);
      out.ok = res.statusCode === 200 && text.includes('"ok from p');
    } catch {
      out.status = 0;
    }
    out.micros = Number((process.hrtime.bigint() - t0) / 1000n);
    outcomes[tick] = out;
  };

  const all: Promise<void>[] = [];
  for (let tick = 0; tick < opts.requests; tick++) {
    const due = started + (tick * 1000) / opts.rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    if (inFlight >= opts.concurrency) {
      late++;
      while (inFlight >= opts.concurrency) await new Promise<void>((r) => (wake = r));
    }
    inFlight++;
    opts.onIssue?.(tick);
    all.push(
      one(tick).finally(() => {
        inFlight--;
        const w = wake;
        wake = undefined;
        w?.();
      }),
    );
  }
  await Promise.all(all);
  return { outcomes, late, wallMs: performance.now() - started };
}
