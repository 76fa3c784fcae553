// Relays one upstream stream to the client, with the commit point as an explicit state:
// until the first chunk a client would show, nothing is sent (lifecycle chunks are held),
// so a failure can still move to the next endpoint and the client sees only latency. After
// it, a failure is an explicit error event and the end of the stream: never a made-up
// finish, never a splice.
//
// Items are handled synchronously into a batch; flush() writes each batch as one socket
// write, so a burst of upstream chunks costs one write, not one per chunk.

import { toGatewayError } from '../http/respond.js';
import type { HeaderList, HttpReply } from '../http/types.js';
import type { StreamItem, UpstreamFailure } from '../providers/adapter.js';
import type { Redactor } from '../providers/redact.js';
import { frameData, DONE_TEXT } from '../stream/sse-encode.js';
import type { RequestContext } from './context.js';

const enum State {
  Holding,
  Committed,
  Ended,
}

/** Lifecycle chunks held past this many characters commit the stream anyway. */
const MAX_HELD_CHARS = 64 * 1024;

export interface RelayOptions {
  reply: HttpReply;
  ctx: RequestContext;
  headers: HeaderList;
  /** The client asked for the final usage chunk (we always ask upstream for it). */
  clientWantsUsage: boolean;
  choices: number;
  /** Called once, when the first byte goes to the client. */
  onCommit?: () => void;
  /**
   * Takes credentials out of a failure before its error event goes out, and out of the
   * failure kept in `failure` and the request's log fields then. A failure before the
   * commit point sends nothing and is kept as reported: the attempt's exit masks it.
   */
  redactor?: Redactor;
}

export class StreamRelay {
  private state = State.Holding;
  /** Frames not yet written: held lifecycle chunks, then the current batch. */
  private pending: (string | Uint8Array)[] = [];
  private pendingChars = 0;
  /** How many of the held frames are copies already (see detachHeld). */
  private detached = 0;
  private startPending = false;
  private endPending = false;
  private wasCommitted = false;
  private readonly finished = new Set<number>();
  /** Why the attempt failed. Before the commit point nothing was sent for it. */
  failure: UpstreamFailure | undefined;

  constructor(private readonly opts: RelayOptions) {}

  get ended(): boolean {
    return this.state === State.Ended;
  }

  /** True once anything reached the client: from then on no other endpoint may answer. */
  get committed(): boolean {
    return this.wasCommitted;
  }

  handle(item: StreamItem): void {
    if (this.state === State.Ended) return;
    if (item.kind === 'done') {
      // The answer is whole, but unmetered: the log line says why it carries no tokens (a
      // provider that ignores stream_options, say).
      if (this.opts.ctx.usage === undefined) this.opts.ctx.errorDetail ??= 'done_without_usage';
      return this.complete(item.raw);
    }
    if (item.kind === 'error') return this.fail(item.failure);
    if (item.kind === 'frames') {
      if (this.state === State.Holding) this.commit();
      return this.queue(item.frames);
    }

    if (item.usage !== undefined) this.opts.ctx.usage = item.usage;
    if (item.finished !== undefined) for (const index of item.finished) this.finished.add(index);

    switch (item.shape) {
      case 'noise':
        return;
      case 'usage':
        if (this.opts.clientWantsUsage) this.queue(item.raw ?? frameData(item.data));
        return;
      case 'lifecycle':
        this.queue(item.raw ?? frameData(item.data));
        if (this.state === State.Holding && this.pendingChars > MAX_HELD_CHARS) this.commit();
        return;
      case 'content':
        if (this.state === State.Holding) this.commit();
        this.queue(item.raw ?? frameData(item.data));
        return;
    }
  }

  /**
   * The upstream closed without its terminator. If every choice had already finished, the
   * answer is whole and only `[DONE]` was missing; otherwise the stream was cut. The usage
   * chunk comes after the last finish (we always ask for it): a close before it may be a
   * cut too. The client that asked for usage is told so; for one that did not, the answer
   * is whole, and only the log line says why it carries no tokens.
   */
  upstreamEnded(cut: boolean): void {
    if (this.state === State.Ended) return;
    const { ctx } = this.opts;
    if (!cut && this.finished.size >= this.opts.choices) {
      if (ctx.usage !== undefined) return this.complete();
      if (!this.opts.clientWantsUsage) {
        ctx.errorDetail = 'eof_before_usage';
        return this.complete();
      }
      return this.fail({
        code: 'GW_ERR_STREAM_INTERRUPTED',
        status: 502,
        message: 'The provider stream ended after the answer but before its usage chunk.',
        detail: 'eof_before_usage',
      });
    }
    this.fail({
      code: 'GW_ERR_STREAM_INTERRUPTED',
      status: 502,
      message: 'The provider stream ended before the answer was complete.',
      detail: cut ? 'eof_mid_event' : 'eof_without_finish',
    });
  }

  /**
   * Ends the attempt with a failure. Before the commit point nothing was sent: the failure
   * is kept for the caller, who may try another endpoint. After it, the client gets one
   * error event and the stream ends.
   */
  fail(reported: UpstreamFailure): void {
    if (this.state === State.Ended) return;
    const committed = this.state === State.Committed;
    this.state = State.Ended;
    if (!committed) {
      this.failure = reported;
      this.pending = [];
      this.detached = 0;
      return;
    }
    const failure = this.opts.redactor?.failure(reported) ?? reported;
    this.failure = failure;
    const { ctx } = this.opts;
    ctx.errorCode = failure.code;
    ctx.errorDetail = failure.detail;
    ctx.outcome =
      failure.code === 'GW_ERR_STREAM_INTERRUPTED' ? 'stream_interrupted' : 'stream_error';
    this.queue(frameData(JSON.stringify(toGatewayError(failure))));
    this.endPending = true;
  }

  /**
   * Writes what the last items produced; resolves when the client took it. Frames still held
   * back are copied, since they may be views of a read whose memory the next read reuses.
   */
  async flush(): Promise<void> {
    const { reply } = this.opts;
    if (this.state === State.Holding) this.detachHeld();
    if (this.startPending) {
      this.startPending = false;
      reply.startStream(200, this.opts.headers);
    }
    if (this.state !== State.Holding && this.pending.length > 0) {
      const bytes = encode(this.pending, reply);
      this.pending = [];
      this.pendingChars = 0;
      this.detached = 0;
      if (this.endPending) {
        // The last bytes and the end of the body in one write.
        this.endPending = false;
        return reply.end(bytes);
      }
      await reply.write(bytes);
    }
    if (this.endPending) {
      this.endPending = false;
      reply.end();
    }
  }

  private complete(raw?: Uint8Array): void {
    if (this.state === State.Holding) this.commit();
    this.queue(raw ?? DONE_TEXT);
    this.state = State.Ended;
    this.endPending = true;
  }

  private commit(): void {
    this.state = State.Committed;
    this.wasCommitted = true;
    this.startPending = true;
    this.opts.onCommit?.();
    this.opts.ctx.status = 200;
  }

  private detachHeld(): void {
    for (; this.detached < this.pending.length; this.detached++) {
      const frame = this.pending[this.detached];
      if (typeof frame !== 'string') this.pending[this.detached] = Buffer.from(frame);
    }
  }

  private queue(frame: string | Uint8Array): void {
    this.pending.push(frame);
    this.pendingChars += frame.length;
  }
}

/**
 * The batch as one buffer: text encoded once, bytes (forwarded events) copied once. When
 * every frame is a view of one upstream read, back to back, as in a stream forwarded as it
 * came, the batch is that stretch of the read itself: nothing is copied. Otherwise the
 * parts go into the front's scratch buffer when it has one (a stream whose usage chunk is
 * left out, say), so that no buffer is allocated per write.
 */
function encode(pending: readonly (string | Uint8Array)[], reply: HttpReply): Uint8Array {
  if (pending.length === 1) {
    const only = pending[0];
    return typeof only === 'string' ? Buffer.from(only) : only;
  }
  const stretch = adjacentViews(pending);
  if (stretch !== undefined) return stretch;
  if (pending.every((part) => typeof part === 'string')) return Buffer.from(pending.join(''));
  const parts = pending.map((part) => (typeof part === 'string' ? Buffer.from(part) : part));
  if (reply.scratch === undefined) return Buffer.concat(parts);
  let size = 0;
  for (const part of parts) size += part.byteLength;
  const into = reply.scratch(size);
  let at = 0;
  for (const part of parts) {
    into.set(part, at);
    at += part.byteLength;
  }
  return into.subarray(0, size);
}

/** One view spanning the parts, when they are views of one buffer that follow each other. */
function adjacentViews(parts: readonly (string | Uint8Array)[]): Uint8Array | undefined {
  const first = parts[0];
  if (typeof first === 'string') return undefined;
  let end = first.byteOffset + first.byteLength;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i];
    if (typeof part === 'string' || part.buffer !== first.buffer || part.byteOffset !== end) {
      return undefined;
    }
    end += part.byteLength;
  }
  return new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset);
}
