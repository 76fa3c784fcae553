import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FrontOptions, HeaderList, HttpReply, HttpRequest, RunningFront } from './types.js';
import { safeHeaderValue } from './header-value.js';

/** The same contract as the uWS front, served by node:http when the native module is absent. */
class NodeReply implements HttpReply {
  aborted = false;
  private done = false;
  private streaming = false;
  private abortCb: (() => void) | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly front: NodeFront,
  ) {
    res.on('close', () => {
      if (this.done) return;
      this.aborted = true;
      this.settle();
      this.abortCb?.();
    });
  }

  onAbort(cb: () => void): void {
    this.abortCb = cb;
  }

  send(status: number, headers: HeaderList, body: string | Uint8Array): void {
    if (this.aborted || this.done) return;
    // A status cannot follow a started stream; whoever failed after the commit point
    // must have said so in the stream already.
    if (this.streaming) return this.end();
    this.writeHead(status, headers);
    // node:http sends no body to HEAD, and no Content-Length either unless told: the GET's
    // length goes as the uWS front sends it (RFC 9110 sections 9.3.2 and 8.6).
    if (this.res.req.method === 'HEAD') {
      this.res.setHeader(
        'content-length',
        typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength,
      );
    }
    this.res.end(body);
    this.settle();
  }

  startStream(status: number, headers: HeaderList): void {
    if (this.aborted || this.done) return;
    this.streaming = true;
    this.writeHead(status, headers);
    this.res.flushHeaders();
  }

  write(chunk: Uint8Array): Promise<void> | void {
    if (this.aborted || this.done) return;
    if (this.res.write(chunk)) return;
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  end(last?: Uint8Array): void {
    if (this.aborted || this.done) return;
    if (last !== undefined) this.res.end(last);
    else this.res.end();
    this.settle();
  }

  close(): void {
    if (this.aborted || this.done) return;
    // The response's 'close' event then marks it aborted, settles it and tells whoever
    // listens (the request's upstream call), as when the client leaves; uWS does the same.
    this.res.destroy();
  }

  private writeHead(status: number, headers: HeaderList): void {
    this.res.statusCode = status;
    for (const [name, value] of headers) this.res.setHeader(name, safeHeaderValue(value));
    if (this.front.draining) this.res.setHeader('connection', 'close');
  }

  private settle(): void {
    if (this.done) return;
    this.done = true;
    this.front.inFlight--;
  }
}

class NodeFront implements RunningFront {
  readonly kind = 'node';
  port = 0;
  inFlight = 0;
  draining = false;
  private readonly server: Server;

  constructor(private readonly opts: FrontOptions) {
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.accept(req, res));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        const address = this.server.address();
        this.port = typeof address === 'object' && address !== null ? address.port : 0;
        resolve();
      });
    });
  }

  stopListening(): void {
    this.server.close();
    this.server.closeIdleConnections();
  }

  setDraining(): void {
    this.draining = true;
  }

  closeAll(): void {
    this.server.closeAllConnections();
  }

  private accept(req: IncomingMessage, res: ServerResponse): void {
    this.inFlight++;
    const reply = new NodeReply(res, this);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const headers = new Map<string, string>();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const request = (body: Buffer): HttpRequest => ({
      method: (req.method ?? 'GET').toUpperCase(),
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? '' : url.slice(q + 1),
      headers,
      body,
    });

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.opts.maxBodyBytes) {
      res.shouldKeepAlive = false;
      this.opts.reject(reply, 'GW_ERR_REQ_BODY_TOO_LARGE', request(Buffer.alloc(0)));
      req.resume();
      return;
    }

    const chunks: Buffer[] = [];
    let used = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      used += chunk.length;
      if (used > this.opts.maxBodyBytes) {
        refused = true;
        res.shouldKeepAlive = false;
        this.opts.reject(reply, 'GW_ERR_REQ_BODY_TOO_LARGE', request(Buffer.alloc(0)));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!refused) void this.opts.handler(request(Buffer.concat(chunks, used)), reply);
    });
  }
}

export async function startNodeFront(opts: FrontOptions): Promise<RunningFront> {
  const front = new NodeFront(opts);
  await front.listen();
  return front;
}
