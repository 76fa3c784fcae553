import { describe, expect, it } from 'vitest';

import { DONE_FRAME, encodeData, encodeEvent } from '../../sidecar/stream/sse-encode.js';
import { SseParser, type SseEvent } from '../../sidecar/stream/sse-parser.js';

const text = (frame: Uint8Array) => new TextDecoder().decode(frame);

function parseFrames(...frames: Uint8Array[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser({ onEvent: (ev) => events.push(ev) });
  for (const frame of frames) parser.push(frame);
  parser.end();
  return events;
}

describe('SSE encoding', () => {
  it('frames a JSON string or JSON bytes as one data event', () => {
    const json = '{"choices":[{"delta":{"content":"café"}}]}';

    expect(text(encodeData(json))).toBe(`data: ${json}\n\n`);
    expect(encodeData(new TextEncoder().encode(json))).toEqual(encodeData(json));
  });

  it('writes the OpenAI [DONE] frame', () => {
    expect(text(DONE_FRAME)).toBe('data: [DONE]\n\n');
  });

  it('frames a named event', () => {
    expect(text(encodeEvent('ping', '{"type":"ping"}'))).toBe(
      'event: ping\ndata: {"type":"ping"}\n\n',
    );
  });

  it('splits a payload holding line breaks into data lines, so the frame stays whole', () => {
    const pretty = '{\r\n  "a": 1,\r  "b": 2\n}';
    const frames = [encodeData(pretty), encodeData(new TextEncoder().encode(pretty))];

    expect(text(frames[0])).toBe('data: {\ndata:   "a": 1,\ndata:   "b": 2\ndata: }\n\n');
    expect(parseFrames(...frames, encodeEvent('e', pretty)).map((e) => e.data)).toEqual([
      '{\n  "a": 1,\n  "b": 2\n}',
      '{\n  "a": 1,\n  "b": 2\n}',
      '{\n  "a": 1,\n  "b": 2\n}',
    ]);
  });

  it('refuses an event name that would break the frame', () => {
    expect(() => encodeEvent('a\nb', '{}')).toThrow(TypeError);
  });

  it('round-trips through the parser', () => {
    const events = parseFrames(encodeEvent('delta', '{"x":"😀"}'), encodeData('{}'), DONE_FRAME);

    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['delta', '{"x":"😀"}'],
      ['', '{}'],
      ['', '[DONE]'],
    ]);
  });
});
