// Decodes a Cohere v2 chat stream into OpenAI chunks. Cohere sends SSE events whose JSON
// carries its own `type` (https://docs.cohere.com/docs/streaming,
// https://docs.cohere.com/docs/tool-use-streaming): message-start, content-start/delta/end
// (text or thinking), tool-plan-delta, tool-call-start/delta/end (one triple per call, in
// order), citation-start/end, and message-end with the finish reason and usage.

import type { SseEvent } from '../../stream/sse-parser.js';
import { chatChunk, SseStreamDecoder, type ChunkHead } from '../sse-decoder.js';
import type { StreamItem, UpstreamFailure } from '../adapter.js';
import { isContextLengthMessage, scrubMessage } from '../failures.js';
import { failedGeneration, type CohereErrorContext } from './classify-error.js';
import { FINISH_REASONS, type CompletionMeta } from './cohere-to-openai.js';
import { openAIUsage, readCohereUsage } from './usage.js';

type Json = Record<string, unknown>;

interface ToolCallState {
  /** The OpenAI index: calls counted in the order they started, whatever Cohere numbers them. */
  readonly index: number;
  sawArguments: boolean;
}

export class CohereStreamDecoder extends SseStreamDecoder {
  /** The id is Cohere's, from message-start. */
  private readonly head: ChunkHead;
  private roleSent = false;
  private ended = false;
  private readonly toolCalls = new Map<number, ToolCallState>();

  constructor(
    private readonly meta: CompletionMeta,
    private readonly ctx: CohereErrorContext,
    maxEventBytes?: number,
  ) {
    super(maxEventBytes);
    this.head = { id: '', created: meta.createdS, model: meta.model };
  }

  protected onEvent(ev: SseEvent): void {
    // Some servers close with `[DONE]`; message-end already said everything it could.
    if (this.ended || ev.data === '[DONE]') return;

    let event: Json;
    try {
      event = JSON.parse(ev.data) as Json;
    } catch {
      return this.fail(this.badFrame('a stream event that is not JSON'));
    }
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      return this.fail(this.badFrame('a stream event that is not a JSON object'));
    }

    const type = typeof event.type === 'string' ? event.type : ev.event;
    const message = ((event.delta as Json | undefined)?.message ?? {}) as Json;
    switch (type) {
      case 'message-start':
        if (typeof event.id === 'string') this.head.id = event.id;
        return this.sendRole();
      case 'content-start':
      case 'content-delta':
        return this.onContent(message.content as Json | undefined);
      case 'tool-plan-delta':
        return this.text('content', message.tool_plan);
      case 'tool-call-start':
        return this.onToolCallStart(event.index, message.tool_calls as Json | undefined);
      case 'tool-call-delta':
        return this.onToolCallDelta(event.index, message.tool_calls as Json | undefined);
      case 'tool-call-end':
        return this.onToolCallEnd(event.index);
      case 'message-end':
        return this.onMessageEnd((event.delta ?? {}) as Json);
      case '':
      case 'error':
        // Not in Cohere's event list; a bare `{"message": ...}` is how its errors look.
        if (typeof event.message === 'string') return this.fail(this.streamError(event.message));
        return;
      default:
        // content-end, citation-start/end, debug and anything newer carry nothing to relay.
        return;
    }
  }

  private onContent(content: Json | undefined): void {
    if (content === undefined) return;
    if (typeof content.thinking === 'string' && content.thinking !== '') {
      return this.text('reasoning_content', content.thinking);
    }
    this.text('content', content.text);
  }

  private text(field: 'content' | 'reasoning_content', value: unknown): void {
    if (typeof value !== 'string' || value === '') return;
    this.sendRole();
    this.content({ [field]: value });
  }

  private onToolCallStart(at: unknown, call: Json | undefined): void {
    const index = this.toolCalls.size;
    const args = ((call?.function as Json | undefined)?.arguments ?? '') as string;
    this.toolCalls.set(numberOr(at, index), { index, sawArguments: args !== '' });

    const fn = (call?.function ?? {}) as Json;
    this.sendRole();
    this.content({
      tool_calls: [
        {
          index,
          id: String(call?.id ?? ''),
          type: 'function',
          function: { name: String(fn.name ?? ''), arguments: args },
        },
      ],
    });
  }

  private onToolCallDelta(at: unknown, call: Json | undefined): void {
    const state = this.toolCalls.get(numberOr(at, this.toolCalls.size - 1));
    if (state === undefined) {
      return this.fail(this.badFrame('a tool-call delta before its tool-call start'));
    }
    const args = (call?.function as Json | undefined)?.arguments;
    if (typeof args !== 'string' || args === '') return;
    state.sawArguments = true;
    this.content({ tool_calls: [{ index: state.index, function: { arguments: args } }] });
  }

  /** A call that ended with no arguments at all gets `{}`, which clients can JSON.parse. */
  private onToolCallEnd(at: unknown): void {
    const state = this.toolCalls.get(numberOr(at, this.toolCalls.size - 1));
    if (state === undefined || state.sawArguments) return;
    state.sawArguments = true;
    this.content({ tool_calls: [{ index: state.index, function: { arguments: '{}' } }] });
  }

  private onMessageEnd(delta: Json): void {
    const reason = String(delta.finish_reason ?? '');
    if (reason === 'ERROR' || reason === 'TIMEOUT') {
      const error = typeof delta.error === 'string' ? delta.error : '';
      return this.fail(failedGeneration(reason, error, this.ctx, true));
    }

    this.ended = true;
    this.sendRole();
    const finish = FINISH_REASONS[reason] ?? 'stop';
    this.items.push({
      kind: 'chunk',
      data: this.chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finish }]),
      shape: 'lifecycle',
      finished: [0],
    });

    // The usage chunk always closes a stream (clients that asked for it wait for it); when
    // Cohere reported nothing it says zero, and nothing reaches metering.
    const usage = readCohereUsage(delta.usage);
    const counts = openAIUsage(usage ?? { promptTokens: 0, completionTokens: 0, totalTokens: 0 });
    const data = JSON.stringify(chatChunk(this.head, [], counts));
    this.items.push({ kind: 'chunk', data, shape: 'usage', usage });
    this.items.push({ kind: 'done' });
  }

  /** Exactly one role chunk, before anything else the client sees. */
  private sendRole(): void {
    if (this.roleSent) return;
    this.roleSent = true;
    const delta = { role: 'assistant', content: '' };
    this.items.push({
      kind: 'chunk',
      data: this.chunk([{ index: 0, delta, logprobs: null, finish_reason: null }]),
      shape: 'lifecycle',
    });
  }

  private content(delta: Json): void {
    const data = this.chunk([{ index: 0, delta, logprobs: null, finish_reason: null }]);
    this.items.push({ kind: 'chunk', data, shape: 'content' });
  }

  private chunk(choices: Json[]): string {
    return JSON.stringify(chatChunk(this.head, choices));
  }

  private fail(failure: UpstreamFailure): void {
    this.ended = true;
    this.items.push({ kind: 'error', failure });
  }

  private streamError(upstream: string): UpstreamFailure {
    const text = scrubMessage(upstream, this.ctx.secrets);
    const message = `Provider "${this.ctx.providerId}" failed mid-stream: ${text}`;
    if (/rate limit|too many requests|per minute/i.test(upstream)) {
      return { code: 'GW_ERR_UPSTREAM_RATE_LIMITED', status: 429, message, detail: 'stream:error' };
    }
    if (/^too many tokens/i.test(upstream) || isContextLengthMessage(upstream)) {
      return {
        code: 'GW_ERR_UPSTREAM_CONTEXT_LENGTH',
        status: 400,
        message,
        detail: 'stream:error',
      };
    }
    return { code: 'GW_ERR_STREAM_UPSTREAM_ERROR', status: 502, message, detail: 'stream:error' };
  }

  private badFrame(what: string): UpstreamFailure {
    return {
      code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
      status: 502,
      message: `Provider "${this.ctx.providerId}" sent ${what}.`,
      detail: 'stream:bad_event',
    };
  }
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : fallback;
}
