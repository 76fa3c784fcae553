import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

// What every scripted provider mock shares: a node:http server on 127.0.0.1 port 0 that records
// each request, answers it from a queue of scripted steps, and plays JSON, raw and SSE steps
// with cuts, pauses and abrupt endings. Each mock keeps its own routes, refusals and bodies.

// ---------------------------------------------------------------------------------------------
// Request records and scripted steps

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  query: Record<string, string>;
  /** Lower-cased names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** Names and values exactly as received, alternating. */
  rawHeaders: string[];
  body: Buffer;
  /** The parsed body, or undefined when it was empty or not JSON. */
  json: unknown;
  /** True when the caller closed the connection before the mock finished its response. */
  clientAborted: boolean;
}

interface StepTiming {
  /** Wait this long before sending the status line. */
  delayBeforeHeadersMs?: number;
}

export interface JsonStep extends StepTiming {
  status: number;
  headers?: Record<string, string>;
  json: unknown;
}

/** Any body as given, e.g. a proxy's HTML 502 or JSON cut in half. */
export interface RawStep extends StepTiming {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

/** How a scripted stream finishes. */
export type StreamEnding =
  | 'end' // normal end of the chunked body
  | 'destroy' // socket closed without the terminating chunk
  | 'reset' // TCP RST (socket.resetAndDestroy)
  | 'hang'; // left open until close()

export interface SseStep extends StepTiming {
  /** Raw writes, each sent on its own (e.g. the lines from chatStream()). */
  sse: ReadonlyArray<string | Buffer>;
  status?: number;
  headers?: Record<string, string>;
  /** Pause between writes, and before a `destroy` or `reset` ending. */
  delayMs?: number;
  /** Pause after the headers, before the first write. */
  firstWriteDelayMs?: number;
  /**
   * Byte offsets into the concatenated stream at which to cut writes. When given, these cuts
   * replace the element boundaries of `sse`, so a cut can fall inside a UTF-8 character.
   */
  splitAt?: readonly number[];
  ending?: StreamEnding;
}

export interface HangStep {
  hangBeforeHeaders: true;
}

export interface DestroyStep {
  destroyBeforeHeaders: true;
}

/** Delay, then answer as if the script were empty. */
export interface DelayStep {
  delayBeforeHeadersMs: number;
}

export type ScriptStep = StepFor<RecordedRequest>;

/** The steps of a mock whose requests are recorded as `R`. */
export type StepFor<R> =
  JsonStep | RawStep | SseStep | HangStep | DestroyStep | DelayStep | ((request: R) => StepFor<R>);

/** Lower-cased header names, repeated headers joined with `, `. */
export function headerRecord(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** The body parsed as JSON, or undefined when it is empty or not JSON. */
export function parseJson(body: Buffer): unknown {
  try {
    return body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
  } catch {
    return undefined;
  }
}

export function recordRequest(req: IncomingMessage, body: Buffer): RecordedRequest {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: headerRecord(req),
    rawHeaders: req.rawHeaders,
    body,
    json: parseJson(body),
    clientAborted: false,
  };
}

// ---------------------------------------------------------------------------------------------
// The server

export interface AnswerContext<Step> {
  /** Aborted by close(): pending delays end at once. */
  signal: AbortSignal;
  /** Called before the mock itself cuts the connection, so it is not taken for the caller. */
  markOurs: () => void;
  /** Takes the first scripted step, if any is left. */
  next: () => Step | undefined;
}

export interface MockServerOptions<Record extends { clientAborted: boolean }, Step> {
  record: (req: IncomingMessage, body: Buffer) => Record;
  /** Answers one fully read request; a rejection is swallowed (see below). */
  answer: (
    record: Record,
    res: ServerResponse,
    ctx: AnswerContext<Step>,
    req: IncomingMessage,
  ) => Promise<void>;
}

export interface MockServer<Record, Step> {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  port: number;
  requests: Record[];
  /** Queue responses, consumed one per accepted request, first in first out. */
  script(...steps: Step[]): void;
  /** Steps not yet consumed. */
  pending(): number;
  /** Ends every open response (hung ones too) and stops listening. */
  close(): Promise<void>;
}

export async function startMockServer<Record extends { clientAborted: boolean }, Step>(
  opts: MockServerOptions<Record, Step>,
): Promise<MockServer<Record, Step>> {
  const requests: Record[] = [];
  const queue: Step[] = [];
  const closing = new AbortController();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record = opts.record(req, Buffer.concat(chunks));
      requests.push(record);
      // Our own destroy/reset/close() must not count as the caller aborting.
      let ours = false;
      res.on('close', () => {
        if (!res.writableFinished && !ours && !closing.signal.aborted) record.clientAborted = true;
      });
      const ctx: AnswerContext<Step> = {
        signal: closing.signal,
        markOurs: () => (ours = true),
        next: () => queue.shift(),
      };
      opts.answer(record, res, ctx, req).catch(() => {
        // A response cut short by close() or by the caller is the point of these tests.
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    script: (...steps) => void queue.push(...steps),
    pending: () => queue.length,
    close: async () => {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Playing steps

/** How one provider dresses the answers it plays. */
export interface StepStyle<R = RecordedRequest> {
  /** Headers sent after the content type, e.g. a fresh provider request id. */
  idHeaders: () => Record<string, string>;
  /** Content type of JSON steps. */
  jsonType: string;
  /** Indentation of JSON steps, as JSON.stringify takes it; compact without. */
  jsonIndent?: number;
  /** Content type of raw steps; without it they carry none. */
  rawType?: string;
  /** Headers of a stream, before the id headers. */
  sseHeaders: Record<string, string>;
  /** The answer to a delay step, or when the script is empty. */
  defaultAnswer: () => StepFor<R>;
  /** Runs a function step (default: call it; a throw leaves the request unanswered). */
  run?: (step: (request: R) => StepFor<R>, req: R) => StepFor<R>;
  /** Sees every body and stream write before it is sent. */
  onBody?: (text: string) => void;
  /** Send the last write of a stream that ends normally with the end of the body. */
  endWithLastWrite?: boolean;
}

export interface PlayContext {
  signal: AbortSignal;
  markOurs: () => void;
}

/** Answers `req` with one scripted step; a function step is run first, a delay step waits. */
export async function playStep<R>(
  step: StepFor<R>,
  req: R,
  res: ServerResponse,
  ctx: PlayContext,
  style: StepStyle<R>,
): Promise<void> {
  if (typeof step === 'function') {
    return playStep(style.run ? style.run(step, req) : step(req), req, res, ctx, style);
  }
  if ('hangBeforeHeaders' in step) return;
  if ('destroyBeforeHeaders' in step) {
    ctx.markOurs();
    res.socket?.destroy();
    return;
  }
  if (step.delayBeforeHeadersMs) {
    await sleep(step.delayBeforeHeadersMs, undefined, { signal: ctx.signal });
  }
  if (!('json' in step || 'body' in step || 'sse' in step)) {
    return playStep(style.defaultAnswer(), req, res, ctx, style);
  }

  if ('json' in step || 'body' in step) {
    const json = 'json' in step;
    const body = json ? JSON.stringify(step.json, null, style.jsonIndent) : step.body;
    style.onBody?.(body.toString());
    const type = json ? style.jsonType : style.rawType;
    const typeHeader = type === undefined ? {} : { 'content-type': type };
    res.writeHead(step.status, { ...typeHeader, ...style.idHeaders(), ...step.headers });
    res.end(body);
    return;
  }

  if (style.onBody) for (const write of step.sse) style.onBody(write.toString());
  res.writeHead(step.status ?? 200, { ...style.sseHeaders, ...style.idHeaders(), ...step.headers });
  res.flushHeaders();
  if (step.firstWriteDelayMs) {
    await sleep(step.firstWriteDelayMs, undefined, { signal: ctx.signal });
  }
  await writeStream(res, step.splitAt ? cut(step.sse, step.splitAt) : step.sse, {
    delayMs: step.delayMs,
    ending: step.ending,
    endWithLastWrite: style.endWithLastWrite,
    ctx,
  });
}

export interface StreamWriteOptions {
  /** Pause between writes, and before a `destroy` or `reset` ending. */
  delayMs?: number;
  ending?: StreamEnding;
  /** Send the last write with the end of the body, so both arrive in one read. */
  endWithLastWrite?: boolean;
  ctx: PlayContext;
}

/** Writes a stream whose headers are sent, one write at a time, then ends it as asked. */
export async function writeStream(
  res: ServerResponse,
  writes: ReadonlyArray<string | Buffer>,
  opts: StreamWriteOptions,
): Promise<void> {
  const { delayMs, ctx } = opts;
  const ending = opts.ending ?? 'end';
  for (const [i, data] of writes.entries()) {
    if (i > 0 && delayMs) await sleep(delayMs, undefined, { signal: ctx.signal });
    if (res.destroyed) return;
    if (opts.endWithLastWrite && ending === 'end' && i === writes.length - 1) {
      return void res.end(data);
    }
    await new Promise<void>((resolve, reject) =>
      res.write(data, (error) => (error ? reject(error) : resolve())),
    );
  }

  // An abrupt ending after a pause arrives on its own: a client that reads the last data and
  // the RST in one wake-up (libuv does) would otherwise report a plain EOF.
  if ((ending === 'destroy' || ending === 'reset') && delayMs) {
    await sleep(delayMs, undefined, { signal: ctx.signal });
  }
  switch (ending) {
    case 'end':
      res.end();
      break;
    case 'destroy':
      ctx.markOurs();
      res.destroy();
      break;
    case 'reset':
      ctx.markOurs();
      res.socket?.resetAndDestroy();
      break;
    case 'hang':
      break;
  }
}

/** Re-cuts the concatenated writes at the given byte offsets. */
export function cut(writes: ReadonlyArray<string | Buffer>, offsets: readonly number[]): Buffer[] {
  const all = Buffer.concat(writes.map((w) => (typeof w === 'string' ? Buffer.from(w) : w)));
  const cuts = [...new Set(offsets)].filter((o) => o > 0 && o < all.length).sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let start = 0;
  for (const offset of [...cuts, all.length]) {
    parts.push(all.subarray(start, offset));
    start = offset;
  }
  return parts;
}
