// Relays one upstream stream to the client, with the commit point as an explicit state:
// until the first chunk a client would show, nothing is sent (lifecycle chunks are held),
// so a failure can still leave as a plain HTTP error. After it, a failure is an explicit
// error event and the end of the stream: never a made-up finish, never a splice.

import { GatewayError } from '../errors.js';
import { DONE_FRAME, encodeData } from '../stream/sse-encode.js';
import type { StreamItem, UpstreamFailure } from '../providers/adapter.js';
import { sendError, toGatewayError } from '../http/respond.js';
import type { HeaderList, HttpReply } from '../http/types.js';
import type { RequestContext } from './context.js';

const enum State {
  Holding,
  Committed,
  Ended,
}

/** Lifecycle chunks held past this many bytes commit the stream anyway. */
const MAX_HELD_BYTES = 64 * 1024;

export interface RelayOptions {
  reply: HttpReply;
  ctx: RequestContext;
  headers: HeaderList;
  /** The client asked for the final usage chunk (we always ask upstream for it). */
  clientWantsUsage: boolean;
  choices: number;
}

export class StreamRelay {
  private state = State.Holding;
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private readonly finished = new Set<number>();

  constructor(private readonly opts: RelayOptions) {}

  get ended(): boolean {
    return this.state === State.Ended;
  }

  /** Handles one decoded item; resolves once the client took what it produced. */
  async handle(item: StreamItem): Promise<void> {
    if (this.state === State.Ended) return;
    if (item.kind === 'done') return this.complete();
    if (item.kind === 'error') return this.fail(item.failure);

    if (item.usage !== undefined) this.opts.ctx.usage = item.usage;
    for (const index of item.finished ?? []) this.finished.add(index);

    switch (item.shape) {
      case 'noise':
        return;
      case 'usage':
        if (this.opts.clientWantsUsage) await this.emit(encodeData(item.data));
        return;
      case 'lifecycle':
        if (this.state === State.Holding) return this.hold(encodeData(item.data));
        return this.emit(encodeData(item.data));
      case 'content':
        if (this.state === State.Holding) {
          this.opts.ctx.ttftMs = this.opts.ctx.elapsedMs();
          await this.commit();
        }
        return this.emit(encodeData(item.data));
    }
  }

  /**
   * The upstream closed without `[DONE]`. If every choice had already finished, the answer
   * is whole and only the terminator was missing; otherwise the stream was cut.
   */
  async upstreamEnded(cut: boolean): Promise<void> {
    if (this.state === State.Ended) return;
    if (!cut && this.finished.size >= this.opts.choices) return this.complete();
    return this.fail({
      code: 'GW_ERR_STREAM_INTERRUPTED',
      status: 502,
      message: 'The provider stream ended before the answer was complete.',
      detail: cut ? 'eof_mid_event' : 'eof_without_finish',
    });
  }

  /** Ends the exchange with a failure: an HTTP error before the commit point, else an event. */
  async fail(failure: UpstreamFailure): Promise<void> {
    if (this.state === State.Ended) return;
    const { ctx, reply } = this.opts;
    ctx.errorDetail = failure.detail;

    if (this.state === State.Holding) {
      this.state = State.Ended;
      ctx.outcome = 'upstream_error';
      sendError(reply, ctx, failure);
      return;
    }

    this.state = State.Ended;
    ctx.errorCode = failure.code;
    ctx.outcome =
      failure.code === 'GW_ERR_STREAM_INTERRUPTED' ? 'stream_interrupted' : 'stream_error';
    const event: GatewayError = toGatewayError(failure);
    await reply.write(encodeData(JSON.stringify(event)));
    reply.end();
  }

  private async complete(): Promise<void> {
    if (this.state === State.Holding) await this.commit();
    await this.opts.reply.write(DONE_FRAME);
    this.state = State.Ended;
    this.opts.reply.end();
  }

  private hold(frame: Uint8Array): Promise<void> | void {
    this.held.push(frame);
    this.heldBytes += frame.length;
    if (this.heldBytes > MAX_HELD_BYTES) return this.commit();
  }

  private async commit(): Promise<void> {
    this.state = State.Committed;
    this.opts.ctx.status = 200;
    this.opts.reply.startStream(200, this.opts.headers);
    const held = this.held;
    this.held = [];
    for (const frame of held) await this.opts.reply.write(frame);
  }

  private emit(frame: Uint8Array): Promise<void> | void {
    if (this.state === State.Holding) return this.hold(frame);
    return this.opts.reply.write(frame);
  }
}
