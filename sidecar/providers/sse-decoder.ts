import { SseEventTooLargeError, SseParser, type SseEvent } from '../stream/sse-parser.js';
import type { StreamDecoder, StreamItem } from './adapter.js';

/**
 * The item that ends a stream whose event passed the size limit. Decoders turn the
 * parser's throw into this item after the items the same read completed: thrown on, those
 * would be lost and the stream would fail before its commit point. Anything else rethrows.
 */
export function eventTooLarge(err: unknown): StreamItem {
  if (!(err instanceof SseEventTooLargeError)) throw err;
  const { code, status, message } = err;
  return { kind: 'error', failure: { code, status, message, detail: 'event_too_large' } };
}

/** The head fields every chunk of one translated stream repeats. */
export interface ChunkHead {
  id: string;
  created: number;
  model: string;
}

/**
 * One OpenAI `chat.completion.chunk` object of a translated stream, its fields written out:
 * `{ ...head, choices }` would build a new hidden class for every chunk on Node 20 (see
 * revised() in failures.ts).
 */
export function chatChunk(
  head: ChunkHead,
  choices: Record<string, unknown>[],
  usage?: Record<string, unknown>,
): Record<string, unknown> {
  const chunk: Record<string, unknown> = {
    id: head.id,
    object: 'chat.completion.chunk',
    created: head.created,
    model: head.model,
    choices,
  };
  if (usage !== undefined) chunk.usage = usage;
  return chunk;
}

/**
 * What every SSE-framed provider stream decoder shares: the parser, the items an event
 * produced, the size limit as an error item, and the end-of-stream rule (an event cut in
 * half means a cut stream). A decoder implements onEvent and pushes canonical items to
 * `items`.
 */
export abstract class SseStreamDecoder implements StreamDecoder {
  protected items: StreamItem[] = [];
  protected readonly parser: SseParser;
  /** An event passed the size limit: the stream is over, later reads are ignored. */
  private tooLarge = false;

  constructor(maxEventBytes?: number) {
    this.parser = new SseParser({ onEvent: (ev) => this.onEvent(ev), maxEventBytes });
  }

  push(bytes: Uint8Array): StreamItem[] {
    if (this.tooLarge) return [];
    try {
      this.parser.push(bytes);
    } catch (err) {
      this.items.push(eventTooLarge(err));
      this.tooLarge = true;
    }
    return this.take();
  }

  end(): { items: StreamItem[]; cut: boolean } {
    if (this.tooLarge) return { items: this.take(), cut: false };
    const cut = this.parser.hasPartialEvent();
    this.parser.end();
    return { items: this.take(), cut };
  }

  protected take(): StreamItem[] {
    const items = this.items;
    this.items = [];
    return items;
  }

  protected abstract onEvent(ev: SseEvent): void;
}
