// The canonical OpenAI chunk stream, as the stream relay writes it, re-framed as Anthropic's
// stream (https://docs.anthropic.com/en/docs/build-with-claude/streaming): message_start,
// then per block content_block_start / _delta / _stop with indices in order of start, then
// message_delta and message_stop. The relay writes whole `data: ...\n\n` frames, each a
// chunk, `[DONE]`, or the sidecar's own error event after the commit point.
//
// Usage (G10): an OpenAI upstream reports usage once, in its last chunk, so at message_start
// nothing is known and it carries zeros. The exact input, output and cache counts go in the
// final message_delta, whose usage the Anthropic SDKs' stream accumulators apply over
// message_start's (anthropic-sdk-typescript >= 0.50.0 and anthropic-sdk-python >= 0.51.0,
// MessageStream's message_delta case: every usage field that is present overwrites). Holding
// message_start for the count would hold the whole answer; counting the prompt here would
// only estimate it.

import { randomUUID } from 'node:crypto';
import { ERRORS, type ErrorCode } from '../../errors.js';
import { isFailure } from '../../providers/openai/classify-error.js';
import type { JsonObject, Usage } from '../../providers/adapter.js';
import { isObject } from './check.js';
import { anthropicErrorType, readGatewayError } from './error-envelope.js';
import { messageId } from './openai-to-anthropic.js';
import { stopOf } from './stop-reason.js';
import { anthropicUsage, NO_USAGE } from './usage.js';

const enum Block {
  None,
  Text,
  Thinking,
  Tool,
  Other,
}

const enum State {
  BeforeStart,
  Streaming,
  Ended,
}

export interface StreamContext {
  model: string;
  stopSequences: readonly string[];
  /** The usage the adapter metered for this stream, read once its usage chunk went by. */
  usage: () => Usage | undefined;
  requestId: string;
  /** The translator itself ended a stream the relay took for healthy; for the log line. */
  onOwnFailure: (code: ErrorCode) => void;
}

const FRAME_END = '\n\n';

export class OpenAIStreamToAnthropic {
  private state = State.BeforeStart;
  private readonly decoder = new TextDecoder();
  private carry = '';
  private out = '';
  private open = Block.None;
  private openIndex = -1;
  private blocks = 0;
  /** OpenAI tool-call index -> Anthropic block index. */
  private readonly tools = new Map<number, number>();
  private finishReason: unknown;
  private matched: unknown;
  private refused = false;
  private usageJson: unknown;

  constructor(private readonly ctx: StreamContext) {}

  get ended(): boolean {
    return this.state === State.Ended;
  }

  /** Takes relay output; returns the Anthropic events it completed ('' when none). */
  push(bytes: Uint8Array): string {
    this.carry += this.decoder.decode(bytes, { stream: true });
    let from = 0;
    let end = this.carry.indexOf(FRAME_END);
    while (end !== -1) {
      this.frame(dataOf(this.carry.slice(from, end)));
      from = end + FRAME_END.length;
      end = this.carry.indexOf(FRAME_END, from);
    }
    this.carry = from === 0 ? this.carry : this.carry.slice(from);
    return this.take();
  }

  /** The relay ended the reply. A stream without its finish or error event was cut. */
  end(): string {
    if (this.state !== State.Ended) {
      this.failWith(
        'GW_ERR_STREAM_INTERRUPTED',
        'The stream ended before the answer was complete.',
      );
    }
    return this.take();
  }

  /** Ends the stream with an error event (after message_start, Anthropic's only way). */
  fail(status: number, message: string): string {
    this.raise(status, message);
    return this.take();
  }

  private raise(status: number, message: string): void {
    if (this.state === State.Ended) return;
    this.state = State.Ended;
    this.emit('error', {
      type: 'error',
      error: { type: anthropicErrorType(status), message },
      request_id: this.ctx.requestId,
    });
  }

  private failWith(code: ErrorCode, message: string): void {
    this.ctx.onOwnFailure(code);
    this.raise(ERRORS[code].status, message);
  }

  private frame(data: string): void {
    if (this.state === State.Ended || data === '') return;
    if (data === '[DONE]') return this.finish();

    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      this.failWith(
        'GW_ERR_UPSTREAM_BAD_RESPONSE',
        'The provider sent a stream event that is not JSON.',
      );
      return;
    }
    if (!isObject(chunk)) return;
    if (isFailure(chunk.error)) {
      const { message, status } = readGatewayError(chunk);
      this.raise(status, message);
      return;
    }

    if (this.state === State.BeforeStart) this.start(chunk);
    if (isObject(chunk.usage)) this.usageJson = chunk.usage;
    if (!Array.isArray(chunk.choices)) return;
    for (const choice of chunk.choices as unknown[]) {
      // Anthropic has one answer per request; the ingress never asks for more (no `n`).
      if (!isObject(choice) || (choice.index ?? 0) !== 0) continue;
      if (isObject(choice.delta)) this.delta(choice.delta);
      if (typeof choice.finish_reason === 'string') {
        this.close();
        this.finishReason = choice.finish_reason;
        this.matched = choice.stop_reason;
      }
    }
  }

  private start(chunk: JsonObject): void {
    this.state = State.Streaming;
    const model = typeof chunk.model === 'string' && chunk.model ? chunk.model : this.ctx.model;
    this.emit('message_start', {
      type: 'message_start',
      message: {
        id: messageId(chunk.id, this.ctx.requestId),
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: NO_USAGE,
      },
    });
  }

  private delta(delta: JsonObject): void {
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === 'string' && reasoning !== '') {
      this.into(Block.Thinking, { type: 'thinking', thinking: '', signature: '' });
      this.blockDelta({ type: 'thinking_delta', thinking: reasoning });
    }
    if (Array.isArray(delta.thinking_blocks)) {
      for (const block of delta.thinking_blocks as unknown[]) {
        if (isObject(block)) this.wholeThinking(block);
      }
    }
    if (typeof delta.content === 'string' && delta.content !== '') this.text(delta.content);
    if (typeof delta.refusal === 'string' && delta.refusal !== '') {
      this.refused = true;
      this.text(delta.refusal);
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const fragment of delta.tool_calls as unknown[]) {
        if (isObject(fragment)) this.toolFragment(fragment);
      }
    }
  }

  private text(text: string): void {
    this.into(Block.Text, { type: 'text', text: '' });
    this.blockDelta({ type: 'text_delta', text });
  }

  /**
   * A complete thinking block, as the Anthropic adapter sends it after the block's reasoning
   * deltas: its signature closes the block those deltas opened. A provider that sends only
   * whole blocks gets its text sent here too.
   */
  private wholeThinking(block: JsonObject): void {
    if (block.type === 'redacted_thinking') {
      this.openBlock(Block.Other, { type: 'redacted_thinking', data: block.data });
      this.close();
      return;
    }
    if (this.open !== Block.Thinking) {
      this.openBlock(Block.Thinking, { type: 'thinking', thinking: '', signature: '' });
      if (typeof block.thinking === 'string' && block.thinking !== '') {
        this.blockDelta({ type: 'thinking_delta', thinking: block.thinking });
      }
    }
    if (typeof block.signature === 'string' && block.signature !== '') {
      this.blockDelta({ type: 'signature_delta', signature: block.signature });
    }
    this.close();
  }

  private toolFragment(fragment: JsonObject): void {
    const key = typeof fragment.index === 'number' ? fragment.index : 0;
    const fn = isObject(fragment.function) ? fragment.function : {};
    let index = this.tools.get(key);
    if (index === undefined) {
      index = this.openBlock(Block.Tool, {
        type: 'tool_use',
        id: typeof fragment.id === 'string' ? fragment.id : `toolu_${randomUUID()}`,
        name: typeof fn.name === 'string' ? fn.name : '',
        input: {},
      });
      this.tools.set(key, index);
    }
    const args = fn.arguments;
    if (typeof args !== 'string' || args === '') return;
    // Fragments of parallel calls normally arrive call after call. Should an upstream
    // interleave them, a late fragment still names its own block's index, which is where
    // the SDKs accumulate it, though that block was already stopped.
    this.emit('content_block_delta', {
      type: 'content_block_delta',
      index,
      delta: { type: 'input_json_delta', partial_json: args },
    });
  }

  private finish(): void {
    if (this.state === State.BeforeStart) this.start({});
    this.close();
    const stop = stopOf({
      finishReason: this.finishReason,
      refused: this.refused,
      matched: this.matched,
      stopSequences: this.ctx.stopSequences,
      calledTools: this.tools.size > 0,
    });
    const usage = anthropicUsage(this.usageJson, this.ctx.usage());
    this.emit('message_delta', {
      type: 'message_delta',
      delta: stop,
      usage: usage ?? { output_tokens: 0 },
    });
    this.emit('message_stop', { type: 'message_stop' });
    this.state = State.Ended;
  }

  /** Continues the open block of this kind, or starts one. */
  private into(kind: Block, contentBlock: JsonObject): void {
    if (this.open !== kind) this.openBlock(kind, contentBlock);
  }

  private openBlock(kind: Block, contentBlock: JsonObject): number {
    this.close();
    const index = this.blocks++;
    this.open = kind;
    this.openIndex = index;
    this.emit('content_block_start', {
      type: 'content_block_start',
      index,
      content_block: contentBlock,
    });
    return index;
  }

  private blockDelta(delta: JsonObject): void {
    this.emit('content_block_delta', { type: 'content_block_delta', index: this.openIndex, delta });
  }

  private close(): void {
    if (this.open === Block.None) return;
    this.emit('content_block_stop', { type: 'content_block_stop', index: this.openIndex });
    this.open = Block.None;
  }

  private emit(event: string, payload: unknown): void {
    // JSON.stringify never writes a raw line break, so one data line always holds it.
    this.out += `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
  }

  private take(): string {
    const out = this.out;
    this.out = '';
    return out;
  }
}

/** The payload of a frame's data lines, joined as SSE joins them. */
function dataOf(frame: string): string {
  if (frame.startsWith('data: ') && frame.indexOf('\n') === -1) return frame.slice(6);
  const lines: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith('data:')) lines.push(line.slice(line.startsWith('data: ') ? 6 : 5));
  }
  return lines.join('\n');
}
