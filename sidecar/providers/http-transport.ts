import { Pool } from 'undici';
import type { Transport, TransportOptions, UpstreamRequest, UpstreamResponse } from './adapter.js';

export interface HttpTransportOptions {
  connectTimeoutMs: number;
  /** Sockets kept per origin; undici opens more on demand up to this. */
  connections?: number;
}

/** One keep-alive undici pool per upstream origin. */
export class HttpTransport implements Transport {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly opts: HttpTransportOptions) {}

  async request(req: UpstreamRequest, opts: TransportOptions): Promise<UpstreamResponse> {
    const res = await this.pool(req.origin, opts.connectTimeoutMs).request({
      method: req.method ?? 'POST',
      path: req.path,
      headers: req.headers,
      body: req.body,
      signal: opts.signal,
      headersTimeout: opts.firstByteTimeoutMs,
      bodyTimeout: opts.idleTimeoutMs,
    });
    return {
      status: res.statusCode,
      headers: res.headers,
      body: res.body,
      discard: () => void res.body.destroy(),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
  }

  /** Pools are per origin and connect timeout (undici sets the latter per pool). */
  private pool(origin: string, connectTimeoutMs = this.opts.connectTimeoutMs): Pool {
    const key = `${connectTimeoutMs} ${origin}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new Pool(origin, {
        connections: this.opts.connections ?? 256,
        connect: { timeout: connectTimeoutMs },
        keepAliveTimeout: 30_000,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }
}
