import { describe, expect, it } from 'vitest';
import type { SseEvent } from '../../sidecar/stream/sse-parser.js';
import { SseStreamDecoder } from '../../sidecar/providers/sse-decoder.js';

/** Each event's data becomes a content chunk as it is. */
class EchoDecoder extends SseStreamDecoder {
  protected onEvent(ev: SseEvent): void {
    this.items.push({ kind: 'chunk', data: ev.data, shape: 'content' });
  }
}

describe('the shared SSE decoder', () => {
  it('hands over what a read completed before an oversized event, then the error', () => {
    const decoder = new EchoDecoder(64);
    const items = decoder.push(
      Buffer.from(`data: one\n\ndata: two\n\ndata: ${'x'.repeat(100)}\n\n`),
    );
    expect(items).toEqual([
      { kind: 'chunk', data: 'one', shape: 'content' },
      { kind: 'chunk', data: 'two', shape: 'content' },
      {
        kind: 'error',
        failure: {
          code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
          status: 502,
          message: 'The provider sent a stream event larger than 64 bytes.',
          detail: 'event_too_large',
        },
      },
    ]);
    // The stream is over: later reads and the end add nothing.
    expect(decoder.push(Buffer.from('data: three\n\n'))).toEqual([]);
    expect(decoder.end()).toEqual({ items: [], cut: false });
  });
});
