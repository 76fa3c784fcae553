// One provider of the simulated fleet: an OpenAI-protocol server on node:http whose latency,
// errors and rate limit follow the drift schedule (schedule.ts). Non-streamed chat completions
// only. Each mode of the bench starts it afresh, on the same port, with the same seed.

import { createServer, type Server } from 'node:http';
import { fateOf, type ProviderProfile, segmentAt } from './schedule.js';

export interface FleetProviderStats {
  served: number;
  errors: number;
  rateLimited: number;
}

export interface FleetProvider {
  readonly id: string;
  readonly port: number;
  readonly url: string;
  readonly stats: FleetProviderStats;
  close(): Promise<void>;
}

export interface FleetProviderOptions {
  profile: ProviderProfile;
  /** Position of the profile in the fleet: part of the random key. */
  index: number;
  seed: number;
  requests: number;
  /** The load generator's request rate per second: converts ticks into reset durations. */
  rate: number;
  /** 0 for any free port. */
  port: number;
}

const TICK = /fleet tick (\d+)/;

function completion(model: string, provider: string): string {
  return JSON.stringify({
    id: 'chatcmpl-fleet',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: `ok from ${provider}` },
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
  });
}

const SERVER_ERROR = JSON.stringify({
  error: { message: 'overloaded', type: 'server_error', param: null, code: null },
});
const RATE_LIMITED = JSON.stringify({
  error: {
    message: 'Rate limit reached for requests',
    type: 'requests',
    param: null,
    code: 'rate_limit_exceeded',
  },
});

export async function startFleetProvider(opts: FleetProviderOptions): Promise<FleetProvider> {
  const { profile, seed, requests, rate } = opts;
  const stats: FleetProviderStats = { served: 0, errors: 0, rateLimited: 0 };
  const attempts = new Map<number, number>();
  // Requests accepted per rate-limit window.
  const used = new Map<number, number>();
  const limit =
    profile.rateLimitShare === undefined
      ? undefined
      : Math.max(1, Math.round(profile.rateLimitShare * (profile.rateWindowTicks ?? 1)));
  const windowTicks = profile.rateWindowTicks ?? 1;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      const body = JSON.parse(text) as { model: string };
      const tagged = TICK.exec(text);
      if (tagged === null) {
        // Warm-up traffic: answered at once, outside the schedule and the counters.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(completion(body.model, profile.id));
        return;
      }
      const tick = Math.min(requests - 1, Number(tagged[1]));
      const attempt = attempts.get(tick) ?? 0;
      attempts.set(tick, attempt + 1);
      const fate = fateOf(profile, opts.index, seed, tick, attempt, requests);

      const headers: Record<string, string> = { 'content-type': 'application/json' };
      let status = fate.errorStatus === 0 ? 200 : fate.errorStatus;
      let delay = fate.latencyMs;
      if (limit !== undefined) {
        // Fixed windows of the fleet clock; another tenant may have taken part of this one.
        const w = Math.floor(tick / windowTicks);
        const seg = segmentAt(profile, tick, requests);
        const taken = Math.round((seg.quotaTaken ?? 0) * limit);
        const count = used.get(w) ?? 0;
        const resetMs = Math.max(1, Math.round((((w + 1) * windowTicks - tick) / rate) * 1000));
        const remaining = Math.max(0, limit - taken - count);
        if (remaining === 0) {
          status = 429;
          delay = Math.min(delay, 3);
          headers['retry-after'] = String(Math.ceil(resetMs / 1000));
          headers['retry-after-ms'] = String(resetMs);
        } else {
          used.set(w, count + 1);
        }
        headers['x-ratelimit-limit-requests'] = String(limit);
        headers['x-ratelimit-remaining-requests'] = String(Math.max(0, remaining - 1));
        headers['x-ratelimit-reset-requests'] = `${resetMs}ms`;
      }
      setTimeout(() => {
        if (status === 200) {
          stats.served++;
          res.writeHead(200, headers);
          res.end(completion(body.model, profile.id));
        } else if (status === 429) {
          stats.rateLimited++;
          res.writeHead(429, headers);
          res.end(RATE_LIMITED);
        } else {
          stats.errors++;
          res.writeHead(status, headers);
          res.end(SERVER_ERROR);
        }
      }, delay);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    id: profile.id,
    port,
    url: `http://127.0.0.1:${port}/v1`,
    stats,
    close: async () => {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
