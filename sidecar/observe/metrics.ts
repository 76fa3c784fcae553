// Counters and the Prometheus text exposition of them and of endpoint health. Counting is a
// map increment on the request path; all formatting happens when /metrics is scraped.

import type { HealthTable } from '../health/health-kernel.js';

export class Metrics {
  /** "endpoint outcome" -> count */
  private readonly attempts = new Map<string, number>();
  /** "endpoint decision reason" -> count */
  private readonly failovers = new Map<string, number>();
  /** "status" -> count */
  private readonly responses = new Map<string, number>();

  attempt(endpoint: string, outcome: string): void {
    bump(this.attempts, `${endpoint}\u0000${outcome}`);
  }

  failover(endpoint: string, decision: string, reason: string): void {
    bump(this.failovers, `${endpoint}\u0000${decision}\u0000${reason}`);
  }

  response(status: number): void {
    bump(this.responses, String(status));
  }

  render(health: HealthTable, now: number): string {
    const out: string[] = [];
    const gauge = (name: string, help: string, pick: (h: EndpointRow) => number): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const row of rows) {
        out.push(`${name}{endpoint="${esc(row.endpoint)}"} ${num(pick(row))}`);
      }
    };
    type EndpointRow = ReturnType<HealthTable['snapshots']>[number];
    const rows = health.snapshots(now);

    out.push(
      '# HELP modelgate_endpoint_latency_ms Total latency of successful requests, last 60 s.',
    );
    out.push('# TYPE modelgate_endpoint_latency_ms gauge');
    for (const row of rows) {
      for (const [q, v] of [
        ['0.5', row.p50Ms],
        ['0.95', row.p95Ms],
        ['0.99', row.p99Ms],
      ] as const) {
        out.push(
          `modelgate_endpoint_latency_ms{endpoint="${esc(row.endpoint)}",quantile="${q}"} ${num(v)}`,
        );
      }
    }
    out.push('# HELP modelgate_endpoint_ttft_ms Time to first token of streams, last 60 s.');
    out.push('# TYPE modelgate_endpoint_ttft_ms gauge');
    for (const row of rows) {
      for (const [q, v] of [
        ['0.5', row.ttftP50Ms],
        ['0.95', row.ttftP95Ms],
        ['0.99', row.ttftP99Ms],
      ] as const) {
        out.push(
          `modelgate_endpoint_ttft_ms{endpoint="${esc(row.endpoint)}",quantile="${q}"} ${num(v)}`,
        );
      }
    }
    gauge(
      'modelgate_endpoint_error_rate_4xx',
      'Time-decayed share of 4xx-class failures.',
      (r) => r.errorRate4xx,
    );
    gauge(
      'modelgate_endpoint_error_rate_5xx',
      'Time-decayed share of 5xx-class failures (timeouts and connection errors included).',
      (r) => r.errorRate5xx,
    );
    gauge(
      'modelgate_endpoint_tokens_per_second',
      'Recency-weighted token delivery rate of streams.',
      (r) => r.tokensPerSecond,
    );
    gauge(
      'modelgate_endpoint_headroom',
      'Rate-limit headroom, 0 (at the limit) to 1.',
      (r) => r.headroom,
    );
    gauge(
      'modelgate_endpoint_score',
      'Expected milliseconds per successful response; lower is better.',
      (r) => r.score,
    );

    out.push('# HELP modelgate_attempts_total Upstream attempts by endpoint and outcome.');
    out.push('# TYPE modelgate_attempts_total counter');
    for (const [key, n] of this.attempts) {
      const [endpoint, outcome] = key.split('\u0000');
      out.push(
        `modelgate_attempts_total{endpoint="${esc(endpoint)}",outcome="${esc(outcome)}"} ${n}`,
      );
    }
    out.push('# HELP modelgate_failover_decisions_total What failed attempts led to.');
    out.push('# TYPE modelgate_failover_decisions_total counter');
    for (const [key, n] of this.failovers) {
      const [endpoint, decision, reason] = key.split('\u0000');
      out.push(
        `modelgate_failover_decisions_total{endpoint="${esc(endpoint)}",decision="${esc(decision)}",reason="${esc(reason)}"} ${n}`,
      );
    }
    out.push('# HELP modelgate_responses_total Responses by HTTP status.');
    out.push('# TYPE modelgate_responses_total counter');
    for (const [status, n] of this.responses)
      out.push(`modelgate_responses_total{status="${status}"} ${n}`);
    return `${out.join('\n')}\n`;
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function esc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function num(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value * 1000) / 1000) : '0';
}
