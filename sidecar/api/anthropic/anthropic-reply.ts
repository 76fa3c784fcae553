// An HttpReply that speaks Anthropic's wire format over the chat pipeline's output. The
// pipeline writes what it always writes (a completion, an OpenAI error envelope, or the
// relay's SSE frames); this reply rewrites each on its way to the client, so routing,
// failover, the commit point and metering stay exactly those of /v1/chat/completions.

import type { ErrorCode } from '../../errors.js';
import type { HeaderList, HttpReply } from '../../http/types.js';
import type { RequestContext } from '../context.js';
import { anthropicErrorBody, readGatewayError } from './error-envelope.js';
import { openaiToAnthropic } from './openai-to-anthropic.js';
import { OpenAIStreamToAnthropic } from './openai-stream-to-anthropic.js';

export interface AnthropicReplyOptions {
  reply: HttpReply;
  ctx: RequestContext;
  /** The model the client asked for (echoed when the answer names none). */
  model: string;
  stopSequences: readonly string[];
}

export class AnthropicReply implements HttpReply {
  private stream: OpenAIStreamToAnthropic | undefined;

  constructor(private readonly opts: AnthropicReplyOptions) {}

  get aborted(): boolean {
    return this.opts.reply.aborted;
  }

  onAbort(cb: () => void): void {
    this.opts.reply.onAbort(cb);
  }

  close(): void {
    this.opts.reply.close?.();
  }

  send(status: number, headers: HeaderList, body: string | Uint8Array): void {
    const { reply, ctx } = this.opts;
    if (this.stream !== undefined) {
      // A status cannot follow a started stream: the failure becomes its error event.
      const { message } = readGatewayError(parse(body));
      this.writeAndEnd(this.stream.fail(status, message));
      return;
    }
    const out = withRequestId(headers, ctx.requestId);
    if (status < 200 || status >= 300) {
      const { message } = readGatewayError(parse(body));
      reply.send(status, out, anthropicErrorBody(status, message, ctx.requestId));
      return;
    }

    const translated = openaiToAnthropic(parse(body), {
      model: this.opts.model,
      stopSequences: this.opts.stopSequences,
      usage: ctx.usage,
      requestId: ctx.requestId,
    });
    if ('failure' in translated) {
      const { code, status: failed, message } = translated.failure;
      this.ownFailure(code);
      ctx.status = failed;
      reply.send(failed, out, anthropicErrorBody(failed, message, ctx.requestId));
      return;
    }
    reply.send(status, out, JSON.stringify(translated.message));
  }

  startStream(status: number, headers: HeaderList): void {
    const { ctx } = this.opts;
    this.stream = new OpenAIStreamToAnthropic({
      model: this.opts.model,
      stopSequences: this.opts.stopSequences,
      usage: () => ctx.usage,
      requestId: ctx.requestId,
      onOwnFailure: (code) => this.ownFailure(code),
    });
    this.opts.reply.startStream(status, withRequestId(headers, ctx.requestId));
  }

  write(chunk: Uint8Array): Promise<void> | void {
    if (this.stream === undefined) return;
    const events = this.stream.push(chunk);
    if (events !== '') return this.opts.reply.write(Buffer.from(events));
  }

  end(last?: Uint8Array): void {
    if (this.stream === undefined) return this.opts.reply.end();
    const events = (last === undefined ? '' : this.stream.push(last)) + this.stream.end();
    this.writeAndEnd(events);
  }

  private writeAndEnd(events: string): void {
    this.opts.reply.end(events === '' ? undefined : Buffer.from(events));
  }

  /** A failure of the translation itself, after the pipeline saw success. */
  private ownFailure(code: ErrorCode): void {
    const { ctx } = this.opts;
    ctx.errorCode = code;
    ctx.outcome = this.stream === undefined ? 'upstream_error' : 'stream_error';
  }
}

/** The Anthropic SDKs read `request-id` into each response's `_request_id`. */
function withRequestId(headers: HeaderList, requestId: string): HeaderList {
  return [...headers, ['request-id', requestId]];
}

function parse(body: string | Uint8Array): unknown {
  try {
    return JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString());
  } catch {
    return undefined;
  }
}
