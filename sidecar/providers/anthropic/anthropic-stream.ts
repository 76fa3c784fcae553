import type { SseEvent } from '../../stream/sse-parser.js';
import { badFrame } from '../failures.js';
import { SseStreamDecoder } from '../sse-decoder.js';
import type { ChunkShape, JsonObject, StreamItem, Usage } from '../adapter.js';
import { classifyAnthropicStreamError, type ClassifyContext } from './classify-error.js';
import {
  finishReason,
  mergeAnthropicUsage,
  openaiUsageJson,
  usageFromAnthropic,
} from './anthropic-usage.js';

// Anthropic's stream (https://docs.anthropic.com/en/api/messages-streaming) as OpenAI
// chunks. Anthropic numbers content blocks of every kind; OpenAI numbers tool calls only,
// so each tool_use block gets the next tool-call index when it opens (G01). Usage comes in
// two halves, input in message_start and output in message_delta, and is merged before it
// is reported (G31). `ping` and unknown events carry nothing and yield nothing.

interface Block {
  type: string;
  /** The OpenAI tool-call index of a tool_use block. */
  toolIndex?: number;
  sentArguments?: boolean;
  /** The input given whole in content_block_start, sent if no input_json_delta follows. */
  input?: unknown;
  thinking?: string;
  signature?: string;
}

export class AnthropicStreamDecoder extends SseStreamDecoder {
  private readonly blocks = new Map<number, Block>();
  private nextToolIndex = 0;
  private id = '';
  private model = '';
  private startUsage: unknown;
  private usage: Usage | undefined;
  private failed = false;

  constructor(
    private readonly ctx: ClassifyContext,
    private readonly created: number,
    maxEventBytes?: number,
  ) {
    super(maxEventBytes);
  }

  protected onEvent(ev: SseEvent): void {
    if (this.failed) return;
    let data: JsonObject;
    try {
      data = JSON.parse(ev.data) as JsonObject;
    } catch {
      return this.fail(badFrame(this.ctx.providerId));
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      return this.fail(badFrame(this.ctx.providerId));
    }

    switch (typeof data.type === 'string' ? data.type : ev.event) {
      case 'message_start':
        return this.onMessageStart(data.message as JsonObject);
      case 'content_block_start':
        return this.onBlockStart(data.index as number, data.content_block as JsonObject);
      case 'content_block_delta':
        return this.onBlockDelta(data.index as number, data.delta as JsonObject);
      case 'content_block_stop':
        return this.onBlockStop(data.index as number);
      case 'message_delta':
        return this.onMessageDelta(data);
      case 'message_stop':
        return this.onMessageStop();
      case 'error':
        return this.fail(classifyAnthropicStreamError(data, this.ctx));
      // `ping` and event types added later are ignored, as Anthropic asks of clients.
    }
  }

  private onMessageStart(message: JsonObject | undefined): void {
    this.id = String(message?.id ?? '');
    this.model = String(message?.model ?? '');
    this.startUsage = message?.usage;
    this.usage = usageFromAnthropic(mergeAnthropicUsage(this.startUsage));
    this.emit({ role: 'assistant', content: '' }, 'lifecycle');
  }

  private onBlockStart(index: number, block: JsonObject | undefined): void {
    const type = String(block?.type ?? '');
    const state: Block = { type };
    this.blocks.set(index, state);

    if (type === 'tool_use') {
      state.toolIndex = this.nextToolIndex++;
      state.input = block?.input;
      const opening = { name: block?.name, arguments: '' };
      this.emitToolCall(state, { id: block?.id, type: 'function', function: opening });
    } else if (type === 'text' && typeof block?.text === 'string' && block.text !== '') {
      this.emit({ content: block.text }, 'content');
    } else if (type === 'thinking') {
      state.thinking = '';
      state.signature = '';
    } else if (type === 'redacted_thinking') {
      this.emit({ thinking_blocks: [{ type: 'redacted_thinking', data: block?.data }] }, 'content');
    }
  }

  private onBlockDelta(index: number, delta: JsonObject | undefined): void {
    const block = this.blocks.get(index);
    switch (delta?.type) {
      case 'text_delta':
        if (typeof delta.text === 'string' && delta.text !== '') {
          this.emit({ content: delta.text }, 'content');
        }
        return;
      case 'input_json_delta':
        if (block?.toolIndex === undefined || typeof delta.partial_json !== 'string') return;
        if (delta.partial_json === '') return;
        block.sentArguments = true;
        this.emitToolCall(block, { function: { arguments: delta.partial_json } });
        return;
      case 'thinking_delta':
        if (typeof delta.thinking !== 'string' || delta.thinking === '') return;
        if (block) block.thinking = (block.thinking ?? '') + delta.thinking;
        this.emit({ reasoning_content: delta.thinking }, 'content');
        return;
      case 'signature_delta':
        if (block && typeof delta.signature === 'string') {
          block.signature = (block.signature ?? '') + delta.signature;
        }
        return;
    }
  }

  private onBlockStop(index: number): void {
    const block = this.blocks.get(index);
    if (block?.toolIndex !== undefined && !block.sentArguments) {
      // A call without input deltas still needs arguments a client can parse.
      const args = JSON.stringify(block.input ?? {});
      this.emitToolCall(block, { function: { arguments: args } });
    } else if (block?.type === 'thinking') {
      // The whole block once it is complete: text and signature go back together (G11).
      const whole = { type: 'thinking', thinking: block.thinking, signature: block.signature };
      this.emit({ thinking_blocks: [whole] }, 'content');
    }
  }

  private onMessageDelta(data: JsonObject): void {
    this.usage = usageFromAnthropic(mergeAnthropicUsage(this.startUsage, data.usage));
    const stop = (data.delta as JsonObject | undefined)?.stop_reason;
    if (stop === undefined || stop === null) return;
    this.items.push({
      kind: 'chunk',
      data: this.chunk({}, finishReason(stop)),
      shape: 'lifecycle',
      usage: this.usage,
      finished: [0],
    });
  }

  private onMessageStop(): void {
    if (this.usage !== undefined) {
      const data = JSON.stringify({
        id: this.id,
        object: 'chat.completion.chunk',
        created: this.created,
        model: this.model,
        choices: [],
        usage: openaiUsageJson(this.usage),
      });
      this.items.push({ kind: 'chunk', data, shape: 'usage', usage: this.usage });
    }
    this.items.push({ kind: 'done' });
  }

  private emitToolCall(block: Block, fragment: JsonObject): void {
    this.emit({ tool_calls: [{ index: block.toolIndex, ...fragment }] }, 'content');
  }

  private emit(delta: JsonObject, shape: ChunkShape): void {
    this.items.push({ kind: 'chunk', data: this.chunk(delta, null), shape });
  }

  private chunk(delta: JsonObject, finish: string | null): string {
    return JSON.stringify({
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
  }

  private fail(failure: ReturnType<typeof classifyAnthropicStreamError>): void {
    this.failed = true;
    this.items.push({ kind: 'error', failure });
  }
}
