import { DEFAULT_MAX_EVENT_BYTES, SseParser, type SseEvent } from '../../stream/sse-parser.js';
import { afterFirstBlankLine, simpleEvents } from './fast-frames.js';
import type { ChunkShape, StreamDecoder, StreamItem, Usage } from '../adapter.js';
import { classifyStreamError, type ClassifyContext } from './classify-error.js';
import { readOpenAIUsage } from './usage.js';

interface Choice {
  index?: unknown;
  delta?: Record<string, unknown> | null;
  finish_reason?: unknown;
}

/**
 * Decodes an OpenAI-protocol chat stream into canonical items. Chunks pass through as the
 * upstream's own JSON text; we parse each one only to learn its shape.
 */
export class OpenAIStreamDecoder implements StreamDecoder {
  private readonly parser: SseParser;
  private items: StreamItem[] = [];
  /** The parser holds nothing: the next read may take the byte fast path. */
  private atBoundary = true;

  constructor(
    private readonly ctx: ClassifyContext,
    private readonly maxEventBytes = DEFAULT_MAX_EVENT_BYTES,
  ) {
    this.parser = new SseParser({ onEvent: (ev) => this.onEvent(ev), maxEventBytes });
  }

  push(bytes: Uint8Array): StreamItem[] {
    const buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let from = 0;
    if (!this.atBoundary) {
      // The parser holds the start of an event: it takes this read up to the event's end.
      const boundary = buf.indexOf(0x0d) === -1 ? afterFirstBlankLine(buf) : -1;
      if (boundary === -1) {
        this.parser.push(buf);
        return this.take();
      }
      this.parser.push(buf.subarray(0, boundary));
      from = boundary;
      this.atBoundary = !this.parser.hasPartialEvent();
      if (!this.atBoundary) {
        this.parser.push(buf.subarray(from));
        return this.take();
      }
    }

    const { data, rest } = simpleEvents(buf, from, this.maxEventBytes);
    for (const text of data) this.onEvent({ event: '', data: text });
    if (rest < buf.length) {
      this.parser.push(buf.subarray(rest));
      this.atBoundary = false;
    }
    return this.take();
  }

  end(): { items: StreamItem[]; cut: boolean } {
    const cut = this.parser.hasPartialEvent();
    this.parser.end();
    return { items: this.take(), cut };
  }

  private take(): StreamItem[] {
    const items = this.items;
    this.items = [];
    return items;
  }

  private onEvent(ev: SseEvent): void {
    const data = ev.data;
    if (data === '[DONE]') {
      this.items.push({ kind: 'done' });
      return;
    }
    if (ev.event === '' && isPlainTextDelta(data)) {
      this.items.push({ kind: 'chunk', data, shape: 'content' });
      return;
    }

    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data) as Record<string, unknown>;
    } catch {
      this.items.push({ kind: 'error', failure: this.badFrame() });
      return;
    }
    if (typeof chunk !== 'object' || chunk === null || Array.isArray(chunk)) {
      this.items.push({ kind: 'error', failure: this.badFrame() });
      return;
    }
    if (ev.event === 'error' || (chunk.error !== undefined && chunk.choices === undefined)) {
      this.items.push({ kind: 'error', failure: classifyStreamError(chunk, this.ctx) });
      return;
    }

    const { shape, finished } = shapeOf(chunk);
    const usage: Usage | undefined = readOpenAIUsage(chunk.usage);
    this.items.push({ kind: 'chunk', data, shape, usage, finished });
  }

  private badFrame() {
    return {
      code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
      status: 502,
      message: `Provider "${this.ctx.providerId}" sent a stream event that is not JSON.`,
      detail: 'stream:not_json',
    } as const;
  }
}

const CONTENT = '"content":"';
const CHOICES = '"choices":[{';
const FINISH = '"finish_reason":';
const USAGE = '"usage":';
const N = 0x6e; // the n of null

/**
 * The common chunk, one piece of text and nothing else worth knowing, recognised without
 * JSON.parse, which would otherwise run once per token. Inside JSON strings quotes are
 * escaped, so these unescaped patterns can only be keys. Each search starts where the
 * previous one ended, so a chunk is scanned about once; anything unusual (a finish, usage,
 * an empty text, keys in another order) takes the full parse.
 */
function isPlainTextDelta(data: string): boolean {
  if (data.charCodeAt(0) !== 0x7b) return false;
  const choices = data.indexOf(CHOICES);
  if (choices === -1) return false;
  const at = data.indexOf(CONTENT, choices);
  if (at === -1 || data.charCodeAt(at + CONTENT.length) === 0x22) return false;

  const finish = data.indexOf(FINISH, at);
  if (finish === -1 || data.charCodeAt(finish + FINISH.length) !== N) return false;
  const usage = data.indexOf(USAGE, finish);
  if (usage !== -1 && data.charCodeAt(usage + USAGE.length) !== N) return false;
  const usageFirst = data.lastIndexOf(USAGE, choices);
  return usageFirst === -1 || data.charCodeAt(usageFirst + USAGE.length) === N;
}

/**
 * A chunk commits the stream when a client would show something from it. Azure sends
 * `choices: []` prompt-filter chunks and delta-less annotation chunks: those are noise.
 */
export function shapeOf(chunk: Record<string, unknown>): {
  shape: ChunkShape;
  finished?: number[];
} {
  const choices = chunk.choices;
  if (!Array.isArray(choices) || choices.length === 0) {
    return { shape: chunk.usage ? 'usage' : 'noise' };
  }

  let shape: ChunkShape = 'noise';
  let finished: number[] | undefined;
  for (const choice of choices as Choice[]) {
    const delta = choice.delta;
    const finish = choice.finish_reason;
    if (typeof finish === 'string') {
      (finished ??= []).push(typeof choice.index === 'number' ? choice.index : 0);
      if (shape === 'noise') shape = 'lifecycle';
    }
    if (delta === undefined || delta === null) continue;
    if (bearsContent(delta)) shape = 'content';
    else if (shape === 'noise') shape = 'lifecycle';
  }
  return { shape, finished };
}

function bearsContent(delta: Record<string, unknown>): boolean {
  return (
    nonEmpty(delta.content) ||
    nonEmpty(delta.refusal) ||
    nonEmpty(delta.reasoning_content) ||
    nonEmpty(delta.reasoning) ||
    (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) ||
    (typeof delta.function_call === 'object' && delta.function_call !== null) ||
    (typeof delta.audio === 'object' && delta.audio !== null)
  );
}

function nonEmpty(value: unknown): boolean {
  return typeof value === 'string' ? value.length > 0 : Array.isArray(value) && value.length > 0;
}
