import { SseParser, type SseEvent } from '../stream/sse-parser.js';
import type { StreamDecoder, StreamItem } from './adapter.js';

/**
 * What every SSE-framed provider stream decoder shares: the parser, the items an event
 * produced, and the end-of-stream rule (an event cut in half means a cut stream). A
 * decoder implements onEvent and pushes canonical items to `items`.
 */
export abstract class SseStreamDecoder implements StreamDecoder {
  protected items: StreamItem[] = [];
  protected readonly parser: SseParser;

  constructor(maxEventBytes?: number) {
    this.parser = new SseParser({ onEvent: (ev) => this.onEvent(ev), maxEventBytes });
  }

  push(bytes: Uint8Array): StreamItem[] {
    this.parser.push(bytes);
    return this.take();
  }

  end(): { items: StreamItem[]; cut: boolean } {
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
