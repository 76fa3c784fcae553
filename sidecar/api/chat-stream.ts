// Relays one upstream stream to the client, with the commit point as an explicit state:
// until the first chunk a client would show, nothing is sent (lifecycle chunks are held),
// so a failure can still move to the next endpoint and the client sees only latency. After
// it, a failure is an explicit error event and the end of the stream: never a made-up
// finish, never a splice.

import { DONE_FRAME, encodeData } from '../stream/sse-encode.js';
import type { StreamItem, UpstreamFailure } from '../providers/adapter.js';
import { toGatewayError } from '../http/respond.js';
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
  /** Called once, when the first byte goes to the client. */
  onCommit?: () => void;
}

export class StreamRelay {
  private state = State.Holding;
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private readonly finished = new Set<number>();
  /** Why the attempt failed, when it failed before the commit point. */
  failure: UpstreamFailure | undefined;

  constructor(private readonly opts: RelayOptions) {}

  get ended(): boolean {
    return this.state === State.Ended;
  }

  /** True once anything reached the client: from then on no other endpoint may answer. */
  get committed(): boolean {
    return this.wasCommitted;
  }

  private wasCommitted = false;

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
   * The upstream closed without its terminator. If every choice had already finished, the
   * answer is whole and only `[DONE]` was missing; otherwise the stream was cut.
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

  /**
   * Ends the attempt with a failure. Before the commit point nothing was sent: the failure
   * is kept for the caller, who may try another endpoint. After it, the client gets one
   * error event and the stream ends.
   */
  async fail(failure: UpstreamFailure): Promise<void> {
    if (this.state === State.Ended) return;
    const { ctx, reply } = this.opts;
    const committed = this.state === State.Committed;
    this.state = State.Ended;
    this.failure = failure;
    if (!committed) return;

    ctx.errorCode = failure.code;
    ctx.errorDetail = failure.detail;
    ctx.outcome =
      failure.code === 'GW_ERR_STREAM_INTERRUPTED' ? 'stream_interrupted' : 'stream_error';
    await reply.write(encodeData(JSON.stringify(toGatewayError(failure))));
    reply.end();
  }

  private async complete(): Promise<void> {
    if (this.state === State.Holding) await this.commit();
    await this.opts.reply.write(DONE_FRAME);
    this.state = State.Ended;
    this.opts.reply.end();
  }

  private async commit(): Promise<void> {
    this.state = State.Committed;
    this.wasCommitted = true;
    this.opts.onCommit?.();
    this.opts.ctx.status = 200;
    this.opts.reply.startStream(200, this.opts.headers);
    const held = this.held;
    this.held = [];
    for (const frame of held) await this.opts.reply.write(frame);
  }

  private emit(frame: Uint8Array): Promise<void> | void {
    if (this.state === State.Committed) return this.opts.reply.write(frame);
    this.held.push(frame);
    this.heldBytes += frame.length;
    if (this.heldBytes > MAX_HELD_BYTES) return this.commit();
  }
}
