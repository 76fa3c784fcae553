import { describe, expect, it } from 'vitest';
import type { StreamDecoder, StreamItem } from '../../../sidecar/providers/adapter.js';
import { isAnthropicBody } from '../../../sidecar/providers/vertex/anthropic-on-vertex.js';
import { SniffingStreamDecoder, sniff } from '../../../sidecar/providers/vertex/sniffing-stream.js';

describe('sniff', () => {
  it.each([
    ['event: message_start\ndata: {"type":"message_start"}', 'claude'],
    [': ping\n\nevent: message_start\n', 'claude'],
    ['data: {"type":"message_start","message":{}}', 'claude'],
    ['data: {"candidates":[{"content"', 'gemini'],
    ['\uFEFFdata: {"usageMetadata":', 'gemini'],
    ['data: {\r\n  "candidates"', 'gemini'],
    ['data: {"ca', undefined],
    ['ev', undefined],
    ['', undefined],
  ])('%j is %s', (head, verdict) => {
    expect(sniff(head)).toBe(verdict);
  });
});

describe('isAnthropicBody', () => {
  it('tells Anthropic bodies from Google ones by their first key', () => {
    expect(isAnthropicBody(Buffer.from('{"id":"msg_vrtx_1","type":"message"}'))).toBe(true);
    expect(isAnthropicBody(Buffer.from('{\n  "type": "error", "error": {}}'))).toBe(true);
    expect(isAnthropicBody(Buffer.from('{\n  "candidates": []}'))).toBe(false);
    expect(isAnthropicBody(Buffer.from('{"error":{"code":429}}'))).toBe(false);
    expect(isAnthropicBody(Buffer.from('[{"error":{"code":429}}]'))).toBe(false);
    expect(isAnthropicBody(Buffer.from('<html>'))).toBe(false);
  });
});

describe('SniffingStreamDecoder', () => {
  class Recorder implements StreamDecoder {
    bytes = '';
    constructor(readonly name: string) {}
    push(bytes: Uint8Array): StreamItem[] {
      this.bytes += Buffer.from(bytes).toString();
      return [{ kind: 'chunk', data: this.name, shape: 'noise' }];
    }
    end() {
      return { items: [], cut: false };
    }
  }

  it('holds bytes until the format is known, then hands all of them over in order', () => {
    const gemini = new Recorder('gemini');
    const claude = new Recorder('claude');
    const decoder = new SniffingStreamDecoder(
      () => gemini,
      () => claude,
    );
    expect(decoder.push(Buffer.from('ev'))).toEqual([]);
    expect(decoder.push(Buffer.from('ent: message_start\n')).length).toBe(2);
    decoder.push(Buffer.from('data: {}\n\n'));
    expect(claude.bytes).toBe('event: message_start\ndata: {}\n\n');
    expect(gemini.bytes).toBe('');
  });

  it('decides for Gemini at the end when the stream said too little', () => {
    const gemini = new Recorder('gemini');
    const decoder = new SniffingStreamDecoder(
      () => gemini,
      () => new Recorder('claude'),
    );
    decoder.push(Buffer.from('da'));
    expect(decoder.end().items).toEqual([{ kind: 'chunk', data: 'gemini', shape: 'noise' }]);
    expect(gemini.bytes).toBe('da');
  });
});
