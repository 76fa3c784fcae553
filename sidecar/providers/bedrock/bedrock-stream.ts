import type {
  ChunkShape,
  JsonObject,
  StreamDecoder,
  StreamItem,
  UpstreamFailure,
  Usage,
} from '../adapter.js';
import { openaiUsageJson } from '../anthropic/anthropic-usage.js';
import { classifyStreamException, type ClassifyContext } from './classify-error.js';
import { EventStreamDecoder, EventStreamError, type EventMessage } from './eventstream.js';
import { finishReason } from './stop-reason.js';
import { readBedrockUsage } from './usage.js';
import { revised } from '../failures.js';

// ConverseStream events to OpenAI chunks. Event order (ConverseStreamOutput reference):
// messageStart, then per content block contentBlockStart (tool blocks only) / Delta / Stop,
// then messageStop with the stop reason, then metadata with the usage. Exceptions arrive as
// frames with `:message-type: exception` and end the stream.
//
// Tool-call indices count tool blocks only: a text block at contentBlockIndex 0 does not
// push the first tool call to index 1 (G01).

export interface StreamMeta {
  id: string;
  created: number;
  model: string;
  ctx: ClassifyContext;
  maxEventBytes: number;
}

interface BlockEvent {
  contentBlockIndex?: number;
  start?: { toolUse?: { toolUseId?: string; name?: string } };
  delta?: {
    text?: string;
    toolUse?: { input?: string };
    reasoningContent?: { text?: string };
  };
  stopReason?: string;
  usage?: unknown;
}

interface ToolBlock {
  /** The OpenAI tool-call index. */
  readonly index: number;
  sentArguments: boolean;
}

const enum State {
  Open,
  /** messageStop and metadata both seen: the answer is whole. */
  Done,
  /** An exception or a corrupt frame: nothing after it counts. */
  Failed,
}

export class BedrockStreamDecoder implements StreamDecoder {
  private readonly frames: EventStreamDecoder;
  /** Every chunk's opening, serialised once. */
  private readonly head: string;
  private state = State.Open;
  private items: StreamItem[] = [];
  private roleSent = false;
  /** contentBlockIndex of each tool block, to its OpenAI tool-call index. */
  private readonly toolIndex = new Map<number, ToolBlock>();
  private stopped = false;
  private metadata: { usage: Usage | undefined } | undefined;

  constructor(private readonly meta: StreamMeta) {
    this.frames = new EventStreamDecoder({
      onMessage: (message) => this.onMessage(message),
      maxMessageBytes: meta.maxEventBytes,
    });
    const { id, created, model } = meta;
    this.head = JSON.stringify({ id, object: 'chat.completion.chunk', created, model }).slice(
      0,
      -1,
    );
  }

  push(bytes: Uint8Array): StreamItem[] {
    if (this.state !== State.Open) return this.take();
    try {
      this.frames.push(bytes);
    } catch (err) {
      if (!(err instanceof EventStreamError)) throw err;
      this.fail(corrupt(err, this.meta.ctx.providerId));
    }
    return this.take();
  }

  end(): { items: StreamItem[]; cut: boolean } {
    const cut = this.state === State.Open && this.frames.hasPartial();
    return { items: this.take(), cut };
  }

  private take(): StreamItem[] {
    const items = this.items;
    this.items = [];
    return items;
  }

  private onMessage(message: EventMessage): void {
    if (this.state !== State.Open) return;
    const { headers, payload } = message;
    switch (headers[':message-type']) {
      case 'exception':
        return this.fail(
          classifyStreamException(String(headers[':exception-type']), payload, this.meta.ctx),
        );
      case 'error': {
        // The event-stream protocol's own errors carry their text in headers.
        const text = Buffer.from(JSON.stringify({ message: headers[':error-message'] ?? '' }));
        return this.fail(
          classifyStreamException(String(headers[':error-code']), text, this.meta.ctx),
        );
      }
      case 'event':
        break;
      default:
        return;
    }

    let event: BlockEvent;
    try {
      // A view on the payload's bytes, not a copy: this runs for every stream event.
      const json = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString();
      event = JSON.parse(json) as BlockEvent;
    } catch {
      return this.fail(badResponse(this.meta.ctx.providerId, 'an event that is not JSON'));
    }
    this.onEvent(String(headers[':event-type']), event);
  }

  private onEvent(type: string, event: BlockEvent): void {
    switch (type) {
      case 'messageStart':
        return this.ensureRole();
      case 'contentBlockStart':
        return this.onBlockStart(event);
      case 'contentBlockDelta':
        return this.onDelta(event);
      case 'contentBlockStop':
        return this.onBlockStop(event);
      case 'messageStop':
        this.ensureRole();
        this.stopped = true;
        this.chunk({}, 'lifecycle', finishReason(event.stopReason));
        return this.completeWhenWhole();
      case 'metadata':
        this.metadata = { usage: readBedrockUsage(event.usage) };
        return this.completeWhenWhole();
    }
  }

  private onBlockStart(event: BlockEvent): void {
    const tool = event.start?.toolUse;
    if (tool === undefined) return;
    this.ensureRole();
    const index = this.toolIndex.size;
    this.toolIndex.set(event.contentBlockIndex ?? -1, { index, sentArguments: false });
    const call = {
      index,
      id: tool.toolUseId,
      type: 'function',
      function: { name: tool.name, arguments: '' },
    };
    this.chunk({ tool_calls: [call] });
  }

  private onDelta(event: BlockEvent): void {
    const delta = event.delta;
    if (typeof delta?.text === 'string' && delta.text !== '') {
      this.ensureRole();
      return this.chunk({ content: delta.text });
    }
    if (typeof delta?.toolUse?.input === 'string') {
      const tool = this.toolIndex.get(event.contentBlockIndex ?? -1);
      if (tool === undefined) {
        return this.fail(badResponse(this.meta.ctx.providerId, 'tool input for no tool call'));
      }
      if (delta.toolUse.input === '') return;
      tool.sentArguments = true;
      const call = { index: tool.index, function: { arguments: delta.toolUse.input } };
      return this.chunk({ tool_calls: [call] });
    }
    const thought = delta?.reasoningContent?.text;
    if (typeof thought === 'string' && thought !== '') {
      this.ensureRole();
      this.chunk({ reasoning_content: thought });
    }
    // Reasoning signatures, redacted reasoning and citations have no OpenAI form.
  }

  /**
   * A call with no arguments streams no input at all (or only ""); it gets "{}", as the
   * non-streamed answer has it, so that clients can parse the arguments they assembled.
   */
  private onBlockStop(event: BlockEvent): void {
    const tool = this.toolIndex.get(event.contentBlockIndex ?? -1);
    if (tool === undefined || tool.sentArguments) return;
    tool.sentArguments = true;
    this.chunk({ tool_calls: [{ index: tool.index, function: { arguments: '{}' } }] });
  }

  /** The usage chunk follows the finish chunk even when metadata arrived first. */
  private completeWhenWhole(): void {
    if (!this.stopped || this.metadata === undefined) return;
    const usage = this.metadata.usage;
    if (usage !== undefined) {
      const data = `${this.head},"choices":[],"usage":${JSON.stringify(openaiUsageJson(usage))}}`;
      this.items.push({ kind: 'chunk', data, shape: 'usage', usage });
    }
    this.items.push({ kind: 'done' });
    this.state = State.Done;
  }

  private ensureRole(): void {
    if (this.roleSent) return;
    this.roleSent = true;
    this.chunk({ role: 'assistant', content: '' }, 'lifecycle');
  }

  private chunk(delta: JsonObject, shape: ChunkShape = 'content', finish?: string): void {
    const choice = { index: 0, delta, logprobs: null, finish_reason: finish ?? null };
    const data = `${this.head},"choices":[${JSON.stringify(choice)}]}`;
    this.items.push({ kind: 'chunk', data, shape, finished: finish ? [0] : undefined });
  }

  private fail(failure: UpstreamFailure): void {
    this.items.push({ kind: 'error', failure });
    this.state = State.Failed;
  }
}

function corrupt(err: EventStreamError, providerId: string): UpstreamFailure {
  const what =
    err.problem === 'too_large'
      ? 'a stream event larger than limits.max_stream_event_bytes'
      : 'a corrupt event-stream frame';
  return revised(badResponse(providerId, what), { detail: `eventstream:${err.problem}` });
}

function badResponse(providerId: string, what: string): UpstreamFailure {
  return {
    code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    status: 502,
    message: `Provider "${providerId}" sent ${what}.`,
    detail: 'stream:bad_event',
  };
}
