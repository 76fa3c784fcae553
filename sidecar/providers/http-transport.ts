import type { Dispatcher } from 'undici';
import { Pool } from './undici-pool.js';
import type { Transport, TransportOptions, UpstreamRequest, UpstreamResponse } from './adapter.js';
import type { UpstreamHeaders } from './adapter.js';
import { answerHeaderName, headerName } from './header-names.js';

export interface HttpTransportOptions {
  connectTimeoutMs: number;
  /** Sockets kept per origin; undici opens more on demand up to this. */
  connections?: number;
}

/**
 * One keep-alive undici pool per upstream origin, driven through `dispatch` with a handler
 * of our own. undici's `request()` wraps every answer in a Readable stream and its async
 * iterator; at thousands of requests a second that wrapping cost more CPU than the rest of
 * the upstream call (bench/results/latency-*.md). Here undici's parser callbacks feed a
 * small queue that the sidecar reads directly.
 */
export class HttpTransport implements Transport {
  private readonly pools = new Map<string, Pool>();
  private readonly clocks = new Clocks();

  constructor(private readonly opts: HttpTransportOptions) {}

  request(req: UpstreamRequest, opts: TransportOptions): Promise<UpstreamResponse> {
    const pool = this.pool(req.origin, opts.connectTimeoutMs);
    return new Promise((resolve, reject) => {
      const exchange = new Exchange(this.clocks, opts, resolve, reject);
      pool.dispatch(
        {
          method: req.method ?? 'POST',
          path: req.path,
          headers: req.headers,
          body: req.body,
          // The transport keeps these two clocks itself (Clocks): undici's own leave two
          // objects per request alive for up to a second after it, promoted into the old
          // generation at thousands of requests a second.
          headersTimeout: 0,
          bodyTimeout: 0,
        },
        exchange,
      );
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
    // The ticker is not stopped here: a request sent while the pools closed may still be on
    // it. It stops itself at the first tick that finds nothing in flight (and is unref'd).
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

const EMPTY_HEADERS: UpstreamHeaders = Object.freeze(Object.create(null) as UpstreamHeaders);

/** Past this many unread bytes undici stops reading the socket until we catch up. */
const HIGH_WATER_BYTES = 256 * 1024;

/**
 * A provider that kept the sidecar waiting too long: for its response headers once the
 * request was on a socket (`first_byte`), or for the next body bytes (`idle`).
 */
export class UpstreamTimeoutError extends Error {
  readonly code: 'FIRST_BYTE_TIMEOUT' | 'IDLE_TIMEOUT';

  constructor(clock: 'first_byte' | 'idle', ms: number) {
    super(`no ${clock === 'first_byte' ? 'response headers' : 'body bytes'} for ${ms} ms`);
    this.name = 'UpstreamTimeoutError';
    this.code = clock === 'first_byte' ? 'FIRST_BYTE_TIMEOUT' : 'IDLE_TIMEOUT';
  }
}

/** A timeout of 0 (or less) is none. */
function orNever(ms: number): number {
  return ms > 0 ? ms : Infinity;
}

/** The ticker looks this many times per shortest timeout, and at least once a second. */
const LOOKS_PER_TIMEOUT = 4;
const MAX_TICK_MS = 1_000;
const MIN_TICK_MS = 5;

/**
 * The first-byte and idle clocks of every exchange in flight, kept by one ticker over a
 * linked list of them: no timer and no allocation per request, and nothing left behind
 * when one ends. The idle clock is not reset per chunk: a chunk only raises a flag, and
 * the next tick counts the silence from itself. So a clock never fires early: the
 * first-byte clock fires within one tick after its limit, the idle clock within two.
 */
class Clocks {
  private head: Exchange | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private tickMs = MAX_TICK_MS;

  add(exchange: Exchange, shortestMs: number): void {
    exchange.nextOnClock = this.head;
    if (this.head !== undefined) this.head.prevOnClock = exchange;
    this.head = exchange;
    const tickMs = Math.max(MIN_TICK_MS, Math.min(MAX_TICK_MS, shortestMs / LOOKS_PER_TIMEOUT));
    if (this.ticker === undefined || tickMs < this.tickMs) {
      this.stop();
      this.tickMs = tickMs;
      this.ticker = setInterval(() => this.tick(), tickMs);
      this.ticker.unref();
    }
  }

  remove(exchange: Exchange): void {
    const { prevOnClock: prev, nextOnClock: next } = exchange;
    if (prev !== undefined) prev.nextOnClock = next;
    else if (this.head === exchange) this.head = next;
    if (next !== undefined) next.prevOnClock = prev;
    exchange.prevOnClock = exchange.nextOnClock = undefined;
  }

  private stop(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private tick(): void {
    if (this.head === undefined) return this.stop();
    const now = performance.now();
    let exchange: Exchange | undefined = this.head;
    while (exchange !== undefined) {
      // look() may take this exchange off the list (its abort settles it): step first.
      const next: Exchange | undefined = exchange.nextOnClock;
      exchange.look(now);
      exchange = next;
    }
  }
}

/**
 * One upstream request as undici's handler callbacks see it, and its answer: the response
 * the caller gets is the exchange itself, its body an async iterable of the chunks that
 * queue up as the parser delivers them, each `next()` taking one. (One object per request:
 * a response literal with its own closures and a computed-key iterator cost a runtime call
 * and three allocations on every answer.)
 */
class Exchange
  implements
    Dispatcher.DispatchHandler,
    UpstreamResponse,
    AsyncIterable<Uint8Array>,
    AsyncIterator<Uint8Array>
{
  status = 0;
  headers: UpstreamHeaders = EMPTY_HEADERS;
  private abortFn: ((reason: unknown) => void) | undefined;
  private abortReason: unknown;
  private answered = false;
  private finished = false;
  private failure: unknown;
  private queue: Buffer[] = [];
  /** readAll is gathering the body: chunks queue up until the end, or past its limit. */
  private gather:
    | {
        limit: number;
        resolve: (body: Buffer | undefined) => void;
        reject: (err: unknown) => void;
      }
    | undefined;
  private queued = 0;
  private resumeFn: (() => void) | undefined;
  private paused = false;
  private waiting: ((result: IteratorResult<Uint8Array>) => void) | undefined;
  private waitingFail: ((err: unknown) => void) | undefined;

  private readonly unlisten: () => void;
  private readonly firstByteMs: number;
  private readonly idleMs: number;
  /** On the transport's clocks: from onConnect until settled. */
  private onClock = false;
  prevOnClock: Exchange | undefined;
  nextOnClock: Exchange | undefined;
  /** performance.now() of the socket (before the headers), then of the last tick that saw bytes. */
  private since = 0;
  /** Bytes came since the last tick. */
  private fed = false;

  constructor(
    private readonly clocks: Clocks,
    opts: TransportOptions,
    private readonly resolve: (res: UpstreamResponse) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    const cancel = opts.cancel;
    this.firstByteMs = opts.firstByteTimeoutMs;
    this.idleMs = opts.idleTimeoutMs;
    this.unlisten = cancel.onAbort(() => this.abort(cancel.reason));
  }

  /** The ticker's look at this exchange's clock; `now` is performance.now(). */
  look(now: number): void {
    if (!this.answered) {
      if (this.firstByteMs > 0 && now - this.since >= this.firstByteMs) {
        this.abort(new UpstreamTimeoutError('first_byte', this.firstByteMs));
      }
      return;
    }
    // Bytes came, or we are the slow side (the socket is paused for us): not idle.
    if (this.fed || this.paused) {
      this.fed = false;
      this.since = now;
    } else if (this.idleMs > 0 && now - this.since >= this.idleMs) {
      this.abort(new UpstreamTimeoutError('idle', this.idleMs));
    }
  }

  private abort(reason: unknown): void {
    if (this.finished) return;
    if (this.abortFn !== undefined) return this.abortFn(reason);
    // undici cannot abort yet: the request waits for a free socket, or for its connection
    // to be made. It aborts when it hands us its abort (onConnect); the caller hears now,
    // rather than when a socket frees up or the connect timeout fires.
    this.abortReason = reason;
    if (!this.answered) this.reject(reason);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort as (reason: unknown) => void;
    if (this.abortReason !== undefined) return abort(this.abortReason as Error);
    // As undici's headersTimeout: from when the request has its socket (the connect has
    // its own timeout) to the headers.
    if (this.firstByteMs <= 0 && this.idleMs <= 0) return;
    this.since = performance.now();
    // undici may call this again for the same request (written anew on another socket).
    if (this.onClock) return;
    this.onClock = true;
    this.clocks.add(this, Math.min(orNever(this.firstByteMs), orNever(this.idleMs)));
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    // An informational answer (103 Early Hints) comes before the real one: not the answer.
    if (status < 200) return true;
    this.resumeFn = resume;
    this.answered = true;
    // The idle clock starts at the headers.
    this.fed = true;
    this.status = status;
    this.headers = readHeaders(raw, status < 300 ? answerHeaderName : headerName);
    this.resolve(this);
    return true;
  }

  get body(): AsyncIterable<Uint8Array> {
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  discard(): void {
    this.abort(new DiscardedError());
  }

  onData(chunk: Buffer): boolean {
    this.fed = true;
    const gather = this.gather;
    if (gather !== undefined) {
      this.queue.push(chunk);
      this.queued += chunk.length;
      if (this.queued > gather.limit) {
        this.gather = undefined;
        this.queue.length = 0;
        this.abort(new DiscardedError());
        gather.resolve(undefined);
        return false;
      }
      return true;
    }
    if (this.waiting !== undefined) {
      const deliver = this.waiting;
      this.waiting = this.waitingFail = undefined;
      deliver({ value: chunk, done: false });
      return true;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    this.paused = this.queued >= HIGH_WATER_BYTES;
    return !this.paused;
  }

  onComplete(): void {
    this.settle();
    const gather = this.gather;
    if (gather !== undefined) {
      this.gather = undefined;
      return gather.resolve(this.joined());
    }
    const deliver = this.waiting;
    this.waiting = this.waitingFail = undefined;
    deliver?.({ value: undefined, done: true });
  }

  onError(err: Error): void {
    this.settle();
    if (!this.answered) return this.reject(err);
    this.failure = err;
    const gather = this.gather;
    if (gather !== undefined) {
      this.gather = undefined;
      return gather.reject(err);
    }
    const fail = this.waitingFail;
    this.waiting = this.waitingFail = undefined;
    fail?.(err);
  }

  private settle(): void {
    this.finished = true;
    if (this.onClock) {
      this.onClock = false;
      this.clocks.remove(this);
    }
    this.unlisten();
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const chunk = this.queue.shift();
    if (chunk !== undefined) {
      this.queued -= chunk.length;
      if (this.paused && this.queued < HIGH_WATER_BYTES / 2) {
        this.paused = false;
        this.resumeFn?.();
      }
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.waitingFail = reject;
    });
  }

  /** The body in one piece, gathered by onData without waking a reader per read. */
  readAll(limit: number): Promise<Buffer | undefined> {
    if (this.queued > limit) {
      this.return();
      return Promise.resolve(undefined);
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.finished) return Promise.resolve(this.joined());
    return new Promise((resolve, reject) => {
      // Gathering first: resuming a paused body delivers what undici holds at once, maybe
      // to its end, and that must land here, not in the queue for a reader.
      this.gather = { limit, resolve, reject };
      if (this.paused) {
        this.paused = false;
        this.resumeFn?.();
      }
    });
  }

  /** What the queue holds as one buffer: a single read is its own memory, not a copy. */
  private joined(): Buffer {
    const chunks = this.queue;
    this.queue = [];
    const size = this.queued;
    this.queued = 0;
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
  }

  /** A reader that stops early (break) gives up the rest of the body. */
  return(): Promise<IteratorResult<Uint8Array>> {
    this.abort(new DiscardedError());
    this.queue.length = 0;
    return Promise.resolve({ value: undefined, done: true });
  }
}

/** The reason a body is dropped on purpose; its connection is closed, not reused. */
class DiscardedError extends Error {
  constructor() {
    super('upstream body discarded');
    this.name = 'DiscardedError';
  }
}

/**
 * undici's raw name/value pairs as a record: names lower-cased, repeats gathered. Only the
 * names `nameOf` gives are kept: an answer's headers are read for a handful of names, and
 * decoding and storing the twenty or so a provider sends was 1-3 us of every request in
 * perf (an error answer keeps all).
 */
function readHeaders(raw: Buffer[], nameOf: (raw: Buffer) => string | undefined): UpstreamHeaders {
  // No prototype: a header named "constructor" or "__proto__" is just a header.
  const headers = Object.create(null) as UpstreamHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = nameOf(raw[i]);
    if (name === undefined) continue;
    const value = raw[i + 1].toString('latin1');
    const prior = headers[name];
    if (prior === undefined) headers[name] = value;
    else if (Array.isArray(prior)) prior.push(value);
    else headers[name] = [prior, value];
  }
  return headers;
}
