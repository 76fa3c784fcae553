// The floor a gateway is compared with: uWebSockets.js in front, one undici Pool behind, and
// nothing between them. The body is read and forwarded as bytes; the answer comes back whole
// (JSON) or chunk by chunk as it arrives (event streams), with backpressure on the client
// side. No parsing, no auth, no logging, no error envelope.
//
//   node dist/bench/baseline-passthrough.js --upstream http://127.0.0.1:PORT [--port N]
//   prints {"port":N} on stdout once listening; SIGTERM stops it.

import { STATUS_CODES } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type * as Uws from '@trufflesuite/uws-js-unofficial';
import { Pool } from 'undici';
import { loadUws } from '../sidecar/http/uws-front.js';

export interface PassthroughOptions {
  /** Origin of the upstream, e.g. http://127.0.0.1:8080; paths are forwarded as they come. */
  upstream: string;
  /** 0 picks a free port. Listens on loopback only. */
  port: number;
}

export interface Passthrough {
  readonly port: number;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Per request: whether the client left, and how to wake a write waiting for a drain. */
interface Exchange {
  aborted: boolean;
  upstream: AbortController;
  drained: (() => void) | undefined;
}

export function startPassthrough(opts: PassthroughOptions): Promise<Passthrough> {
  const uws = loadUws();
  if (uws instanceof Error) return Promise.reject(uws);
  // The same pool shape as the sidecar's transport, so both pay for the same sockets.
  const pool = new Pool(opts.upstream, { connections: 256, keepAliveTimeout: 30_000 });

  const app = uws.App();
  app.any('/*', (res, req) => {
    const ex: Exchange = { aborted: false, upstream: new AbortController(), drained: undefined };
    res.onAborted(() => {
      ex.aborted = true;
      ex.upstream.abort();
      ex.drained?.();
    });

    // The request object dies when this callback returns: read it all now.
    const method = req.getCaseSensitiveMethod().toUpperCase();
    const path = req.getUrl();
    const query = req.getQuery();
    const contentType = req.getHeader('content-type');
    const parts: Buffer[] = [];
    res.onData((chunk, isLast) => {
      parts.push(Buffer.from(new Uint8Array(chunk))); // copies: uWS reuses the memory
      if (!isLast) return;
      const body = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      const target = query ? `${path}?${query}` : path;
      void forward({ res, ex, pool, method, path: target, contentType, body });
    });
  });

  return new Promise((resolve, reject) => {
    app.listen(HOST, opts.port, (socket) => {
      if (!socket) return reject(new Error(`passthrough: cannot listen on ${HOST}:${opts.port}`));
      resolve({
        port: uws.us_socket_local_port(socket),
        close: async () => {
          uws.us_listen_socket_close(socket);
          await pool.close();
        },
      });
    });
  });
}

interface Forward {
  res: Uws.HttpResponse;
  ex: Exchange;
  pool: Pool;
  method: string;
  path: string;
  contentType: string;
  body: Buffer;
}

async function forward({ res, ex, pool, method, path, contentType, body }: Forward) {
  let up;
  try {
    up = await pool.request({
      method: method as 'POST',
      path,
      headers: contentType ? { 'content-type': contentType } : {},
      body: body.length > 0 ? body : undefined,
      signal: ex.upstream.signal,
    });
  } catch {
    if (!ex.aborted) res.cork(() => res.writeStatus('502 Bad Gateway').end());
    return;
  }

  const status = `${up.statusCode} ${STATUS_CODES[up.statusCode] ?? ''}`;
  const type = up.headers['content-type'];
  const typeText = Array.isArray(type) ? type[0] : (type ?? 'application/octet-stream');
  try {
    if (!typeText.startsWith('text/event-stream')) {
      const chunks: Buffer[] = [];
      for await (const chunk of up.body) chunks.push(chunk as Buffer);
      if (ex.aborted) return;
      const whole = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      res.cork(() => res.writeStatus(status).writeHeader('content-type', typeText).end(whole));
      return;
    }

    res.cork(() => res.writeStatus(status).writeHeader('content-type', typeText));
    for await (const chunk of up.body) {
      if (ex.aborted) break;
      let flushed = false;
      res.cork(() => (flushed = res.write(chunk as Buffer)));
      if (!flushed) await drained(res, ex);
    }
    if (!ex.aborted) res.cork(() => res.end());
  } catch {
    // The upstream broke mid-answer: cut the client off rather than end it cleanly.
    if (!ex.aborted) res.close();
  }
}

/** Resolves when uWS has sent its backlog for this response, or the client left. */
function drained(res: Uws.HttpResponse, ex: Exchange): Promise<void> {
  return new Promise((resolve) => {
    ex.drained = resolve;
    res.onWritable(() => {
      ex.drained = undefined;
      resolve();
      return true;
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { upstream: { type: 'string' }, port: { type: 'string', default: '0' } },
  });
  if (values.upstream === undefined)
    throw new Error('--upstream http://127.0.0.1:PORT is required');
  const server = await startPassthrough({ upstream: values.upstream, port: Number(values.port) });
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  process.on('SIGTERM', () => void server.close().finally(() => process.exit(0)));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`baseline-passthrough: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
