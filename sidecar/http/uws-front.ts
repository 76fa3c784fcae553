import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Uws from '@trufflesuite/uws-js-unofficial';
import { safeHeaderValue } from './header-value.js';
import { statusLine } from './status-line.js';
import type { FrontOptions, HeaderList, HttpReply, HttpRequest, RunningFront } from './types.js';

type UwsModule = typeof Uws;

const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

/** uWS's LIBUS_LISTEN_EXCLUSIVE_PORT: bind without SO_REUSEPORT. */
const LISTEN_EXCLUSIVE_PORT = 1;
/** The native listen(host, port, options, cb), which the bundled typings do not declare. */
type ListenWithOptions = (
  host: string,
  port: number,
  options: number,
  cb: (socket: Uws.us_listen_socket | false) => void,
) => Uws.TemplatedApp;
const DIGITS = /^\d{1,15}$/;
const NO_BODY = Buffer.alloc(0);

/**
 * Loads the native binary directly rather than through the package's entry point: that
 * entry point silently swaps in a slow JS imitation, and we would rather say so once and
 * serve through node:http, whose behaviour we test.
 */
export function loadUws(): UwsModule | Error {
  try {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
    const file = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
    return require(join(dir, 'binaries', file)) as UwsModule;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * Header names, status lines and the constant values, as bytes. uWS takes a string by
 * measuring and encoding it as UTF-8 on every call; bytes it takes as they are. Names and
 * status lines are the sidecar's own, a few dozen in all, and are added as first written
 * (the cache stops growing past a bound all the same); values mostly vary, so only the
 * constant ones are here, and a value is only looked up. Every entry is printable ASCII,
 * which safeHeaderValue would pass unchanged.
 */
const encoded = new Map<string, Buffer>(
  ['application/json', 'text/event-stream; charset=utf-8', 'no-cache'].map(
    (value) => [value, Buffer.from(value, 'latin1')] as const,
  ),
);
const MAX_ENCODED = 256;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** Headers relayed upstream byte for byte (api/pass-headers.ts). */
const PASS_PREFIX = 'x-pass-';

function latin1(text: string): Buffer | string {
  const bytes = encoded.get(text);
  if (bytes !== undefined) return bytes;
  if (encoded.size >= MAX_ENCODED || !PRINTABLE_ASCII.test(text)) return text;
  const made = Buffer.from(text, 'latin1');
  encoded.set(text, made);
  return made;
}

function byteLength(body: string | Uint8Array): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
}

/** Keeps the uWS contract: onAborted first, cork every write, copy body chunks, drain. */
class UwsReply implements HttpReply {
  aborted = false;
  /**
   * A HEAD request's: the head goes out as it would for GET, and no body (RFC 9110 9.3.2).
   * Every route HEAD reaches answers whole; none streams.
   */
  bodyless = false;
  private done = false;
  private streaming = false;
  private head: { status: number; headers: HeaderList } | undefined;
  private abortCb: (() => void) | undefined;
  private drained: (() => void) | undefined;

  constructor(
    private readonly res: Uws.HttpResponse,
    private readonly front: UwsFront,
  ) {}

  markAborted(): void {
    if (this.done) return;
    this.aborted = true;
    this.settle();
    this.drained?.();
    this.abortCb?.();
  }

  onAbort(cb: () => void): void {
    this.abortCb = cb;
  }

  send(status: number, headers: HeaderList, body: string | Uint8Array): void {
    if (this.aborted || this.done) return;
    // A status cannot follow a started stream; whoever failed after the commit point
    // must have said so in the stream already.
    if (this.streaming) return this.end();
    this.sendWhole(status, headers, body);
  }

  /** Head and body of known length in one cork, and the reply is done. */
  private sendWhole(status: number, headers: HeaderList, body: string | Uint8Array): void {
    this.res.cork(() => {
      this.writeHead(status, headers);
      if (this.bodyless) {
        // A body here would be read by the client as the start of its next response. Given
        // a length, this build's endWithoutBody (20.30.0-unofficial.0) waits for that many
        // body bytes, and drops the connection at the next request; so the length goes as a
        // header. Nor can it close after a bodiless answer without a wrong Content-Length:
        // during a drain the connection stays open (README, Known limits).
        this.res.writeHeader('content-length', String(byteLength(body)));
        this.res.endWithoutBody();
      } else {
        this.res.end(body, this.front.draining);
      }
    });
    this.settle();
  }

  startStream(status: number, headers: HeaderList): void {
    if (this.aborted || this.done) return;
    this.streaming = true;
    // The head goes out with the first chunk, in the same cork: one send instead of two.
    this.head = { status, headers };
  }

  write(chunk: Uint8Array): Promise<void> | void {
    if (this.aborted || this.done) return;
    let flushed = false;
    this.res.cork(() => {
      this.flushHead();
      flushed = this.res.write(chunk);
    });
    if (flushed) return;

    // uWS keeps the unsent bytes; we wait for the socket to drain before writing more.
    return new Promise((resolve) => {
      this.drained = resolve;
      this.res.onWritable(() => {
        this.drained = undefined;
        resolve();
        return true;
      });
    });
  }

  end(last?: Uint8Array): void {
    if (this.aborted || this.done) return;
    if (this.head !== undefined && last !== undefined) {
      // Nothing of the stream was written yet: the whole of it is known now (an upstream
      // that sent it in one read). It goes as one body of known length, head and all,
      // rather than as a chunk and then, in a second send, the chunked terminator.
      const { status, headers } = this.head;
      this.head = undefined;
      return this.sendWhole(status, headers, last);
    }
    // No closeConnection here: on a chunked response uWS would then write a header after
    // the body has started, corrupting the framing. What the socket does not take at once
    // uWS keeps and sends before the end of the body.
    this.res.cork(() => {
      this.flushHead();
      if (last !== undefined) this.res.write(last);
      this.res.end();
    });
    this.settle();
  }

  private flushHead(): void {
    if (this.head === undefined) return;
    this.writeHead(this.head.status, this.head.headers);
    this.head = undefined;
  }

  close(): void {
    if (this.aborted || this.done) return;
    this.res.close();
  }

  scratch(bytes: number): Buffer {
    return this.front.scratch(bytes);
  }

  private writeHead(status: number, headers: HeaderList): void {
    this.res.writeStatus(latin1(statusLine(status)));
    for (const [name, value] of headers) {
      this.res.writeHeader(latin1(name), encoded.get(value) ?? safeHeaderValue(value));
    }
  }

  private settle(): void {
    if (this.done) return;
    this.done = true;
    this.front.open.delete(this);
  }
}

class UwsFront implements RunningFront {
  readonly kind = 'uws';
  port = 0;
  draining = false;
  readonly open = new Set<UwsReply>();
  private listenSocket: Uws.us_listen_socket | undefined;
  private shared = Buffer.allocUnsafe(64 * 1024);

  constructor(
    private readonly uws: UwsModule,
    private readonly opts: FrontOptions,
  ) {}

  listen(): Promise<void> {
    const app = this.uws.App();
    app.any('/*', (res, req) => {
      try {
        this.accept(res, req);
      } catch {
        // Whatever a request got wrong must cost that request, never the process.
        try {
          res.cork(() => res.writeStatus('400 Bad Request').end('', true));
        } catch {
          // the response was already used or closed
        }
      }
    });
    // uWS binds with SO_REUSEPORT unless told otherwise: a second sidecar on the same port
    // would then share its connections (and skip its keys). Exclusive, it fails to start.
    const listen = app.listen as unknown as ListenWithOptions;
    return new Promise((resolve, reject) => {
      listen.call(app, this.opts.host, this.opts.port, LISTEN_EXCLUSIVE_PORT, (socket) => {
        if (!socket) {
          reject(
            new Error(
              `cannot listen on ${this.opts.host}:${this.opts.port}: the address is in use ` +
                'or cannot be bound',
            ),
          );
          return;
        }
        this.listenSocket = socket;
        this.port = this.uws.us_socket_local_port(socket);
        resolve();
      });
    });
  }

  /** One buffer for every reply: uWS has taken its bytes before a write returns. */
  scratch(bytes: number): Buffer {
    if (this.shared.length < bytes) this.shared = Buffer.allocUnsafe(bytes);
    return this.shared;
  }

  get inFlight(): number {
    return this.open.size;
  }

  stopListening(): void {
    if (this.listenSocket === undefined) return;
    this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  setDraining(): void {
    this.draining = true;
  }

  closeAll(): void {
    for (const reply of [...this.open]) reply.close();
  }

  // Everything the request object offers must be read here: it dies when we return.
  private accept(res: Uws.HttpResponse, req: Uws.HttpRequest): void {
    const reply = new UwsReply(res, this);
    res.onAborted(() => reply.markAborted());
    this.open.add(reply);

    const method = req.getCaseSensitiveMethod().toUpperCase();
    reply.bodyless = method === 'HEAD';
    const path = req.getUrl();
    const query = req.getQuery() ?? '';
    const headers = new Map<string, string>();
    req.forEach((name, raw) => {
      // uWS decodes a value's bytes as UTF-8, node:http as Latin-1, one character per byte:
      // a value relayed upstream (x-pass-*) is handed over as node:http does, so it leaves as
      // the bytes that came. Only those: a name test costs less than a scan of every value of
      // every request, and no other header is relayed (x-request-id and Content-Length must
      // be ASCII anyway).
      const value =
        name.startsWith(PASS_PREFIX) && !PRINTABLE_ASCII.test(raw)
          ? Buffer.from(raw, 'utf8').toString('latin1')
          : raw;
      const prior = headers.get(name);
      headers.set(name, prior === undefined ? value : `${prior}, ${value}`);
    });
    const request = (body: Buffer): HttpRequest => ({
      method,
      path,
      query,
      headers,
      body,
    });

    const lengthHeader = headers.get('content-length');
    // A client decides this number: anything but one plain whole number (a sign, a
    // fraction, two headers joined by ", ") is refused before it sizes a buffer.
    if (lengthHeader !== undefined && !DIGITS.test(lengthHeader)) {
      this.opts.reject(reply, 'GW_ERR_REQ_BAD_HEADER', request(NO_BODY));
      return;
    }
    const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
    const chunked = headers.has('transfer-encoding');
    if (declared === undefined && !chunked && BODYLESS_METHODS.has(method)) {
      this.dispatch(request(Buffer.alloc(0)), reply);
      return;
    }
    if (declared !== undefined && declared > this.opts.maxBodyBytes) {
      this.opts.reject(reply, 'GW_ERR_REQ_BODY_TOO_LARGE', request(NO_BODY));
      return;
    }
    this.readBody(res, reply, declared, request);
  }

  private readBody(
    res: Uws.HttpResponse,
    reply: UwsReply,
    declared: number | undefined,
    request: (body: Buffer) => HttpRequest,
  ): void {
    const max = this.opts.maxBodyBytes;
    // With a Content-Length we copy each chunk once into its final place.
    let buf = Buffer.allocUnsafe(declared ?? Math.min(16 * 1024, max));
    let used = 0;
    let refused = false;

    res.onData((chunk, isLast) => {
      if (refused) return;
      const bytes = new Uint8Array(chunk);
      if (used + bytes.length > max) {
        refused = true;
        this.opts.reject(reply, 'GW_ERR_REQ_BODY_TOO_LARGE', request(NO_BODY));
        return;
      }
      if (used + bytes.length > buf.length) {
        const grown = Buffer.allocUnsafe(
          Math.min(max, Math.max(buf.length * 2, used + bytes.length)),
        );
        buf.copy(grown, 0, 0, used);
        buf = grown;
      }
      buf.set(bytes, used); // copies: uWS reuses the chunk's memory after we return
      used += bytes.length;
      if (isLast) this.dispatch(request(buf.subarray(0, used)), reply);
    });
  }

  private dispatch(req: HttpRequest, reply: UwsReply): void {
    void this.opts.handler(req, reply);
  }
}

export async function startUwsFront(uws: UwsModule, opts: FrontOptions): Promise<RunningFront> {
  const front = new UwsFront(uws, opts);
  await front.listen();
  return front;
}
