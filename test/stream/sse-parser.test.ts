import { describe, expect, it } from 'vitest';

import {
  SseEventTooLargeError,
  SseParser,
  type SseEvent,
} from '../../sidecar/stream/sse-parser.js';

const utf8 = new TextEncoder();
const bytes = (...parts: (string | number[])[]): Uint8Array =>
  concat(parts.map((p) => (typeof p === 'string' ? utf8.encode(p) : Uint8Array.from(p))));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds the chunks, then ends the stream; returns what came out. */
function parse(chunks: Uint8Array[], maxEventBytes?: number) {
  const events: SseEvent[] = [];
  const parser = new SseParser({ onEvent: (ev) => events.push(ev), maxEventBytes });
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return { events, cut: parser.hasPartialEvent() };
}

/** Cuts `all` at the given offsets (sorted, possibly repeated, giving empty pushes). */
function split(all: Uint8Array, cuts: number[]): Uint8Array[] {
  const bounds = [0, ...[...cuts].sort((a, b) => a - b), all.length];
  return bounds.slice(1).map((end, i) => all.subarray(bounds[i], end));
}

/** A small seeded generator (xorshift32), so a failing split can be replayed. */
function random(seed: number): (below: number) => number {
  let x = seed || 1;
  return (below) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % below;
  };
}

const dataOf = (events: SseEvent[]) => events.map((e) => e.data);

describe('SseParser', () => {
  describe('G04: comment and keep-alive lines', () => {
    const chunk = (content: string | null, finish: string | null) =>
      JSON.stringify({
        id: 'c1',
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }],
      });
    const stream = [
      `data: ${chunk('Roses', null)}`,
      '',
      ': ping - 2025-04-12 10:00:00.000000',
      '',
      `data: ${chunk(' are red', null)}`,
      '',
      ':',
      '',
      'retry: 3000',
      '',
      `data: ${chunk(null, 'stop')}`,
      '',
      'data: [DONE]',
      '',
      '',
    ].join('\n');

    it('ignores comment and keep-alive lines and yields only the data events', () => {
      const { events, cut } = parse([bytes(stream)]);

      expect(dataOf(events)).toEqual([
        chunk('Roses', null),
        chunk(' are red', null),
        chunk(null, 'stop'),
        '[DONE]',
      ]);
      expect(events.every((e) => e.event === '' && !e.data.includes('ping'))).toBe(true);
      expect(cut).toBe(false);

      const text = events
        .slice(0, 3)
        .map((e) => JSON.parse(e.data).choices[0].delta.content ?? '')
        .join('');
      expect(text).toBe('Roses are red');
    });

    it('parses Anthropic ping events as events named ping', () => {
      const { events } = parse([
        bytes(
          'event: message_start\ndata: {"type":"message_start"}\n\n',
          'event: ping\ndata: {"type":"ping"}\n\n',
          'event: content_block_delta\ndata: {"type":"content_block_delta"}\n\n',
        ),
      ]);

      expect(events.map((e) => [e.event, e.data])).toEqual([
        ['message_start', '{"type":"message_start"}'],
        ['ping', '{"type":"ping"}'],
        ['content_block_delta', '{"type":"content_block_delta"}'],
      ]);
    });
  });

  describe('G05: one event split across network reads', () => {
    const geminiStream = (signatureBytes: number) => {
      const first = JSON.stringify({
        candidates: [
          {
            content: {
              role: 'model',
              parts: [{ text: 'café ok', thoughtSignature: 'A'.repeat(signatureBytes) }],
            },
          },
        ],
      });
      const last = JSON.stringify({
        candidates: [{ content: { parts: [{ text: '!' }] }, finishReason: 'STOP' }],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 },
      });
      return { all: bytes(`data: ${first}\n\ndata: ${last}\n\n`), first, last };
    };

    const expectGemini = (
      result: ReturnType<typeof parse>,
      stream: ReturnType<typeof geminiStream>,
    ) => {
      expect(result.cut).toBe(false);
      expect(dataOf(result.events)).toEqual([stream.first, stream.last]);
      const text = result.events
        .map((e) => JSON.parse(e.data).candidates[0].content.parts[0].text)
        .join('');
      expect(text).toBe('café ok!');
    };

    it('reassembles writes cut mid-JSON and inside é, with the last event in the EOF read', () => {
      const stream = geminiStream(90_000);
      const e = stream.all.indexOf(0xc3);
      expect(stream.all[e + 1]).toBe(0xa9);

      // write 1 ends before é; write 2 is its first byte; write 3 is the rest of the event;
      // write 4 is the final event, followed at once by the end of the stream.
      const writes = split(stream.all, [e, e + 1, bytes(`data: ${stream.first}\n\n`).length]);
      expect(writes[1]).toEqual(Uint8Array.of(0xc3));
      expect(writes[3]).toEqual(bytes(`data: ${stream.last}\n\n`));

      expectGemini(parse(writes), stream);
      expectGemini(parse([stream.all]), stream);
    });

    it('gives the same events when the stream is split at every byte offset', () => {
      const stream = geminiStream(64);
      const whole = parse([stream.all]);
      expectGemini(whole, stream);

      for (let at = 0; at <= stream.all.length; at++) {
        expect(parse(split(stream.all, [at]))).toEqual(whole);
      }
      expect(parse(split(stream.all, [...stream.all.keys()]))).toEqual(whole);
    });

    it('gives the same events for a 100 KB event split at seeded random offsets', () => {
      const stream = geminiStream(100_000);
      const whole = parse([stream.all]);
      expectGemini(whole, stream);

      // Every run also cuts inside é; the other cuts fall anywhere.
      const e = stream.all.indexOf(0xc3);
      const next = random(0x5eed);
      for (let run = 0; run < 200; run++) {
        const cuts = Array.from({ length: next(12) }, () => next(stream.all.length + 1));
        cuts.push(e + 1);
        expect(parse(split(stream.all, cuts)), `cuts ${cuts}`).toEqual(whole);
      }
    });
  });

  describe('line endings', () => {
    it('accepts CRLF, lone CR and LF, mixed in one stream', () => {
      const { events } = parse([bytes('data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\n\n')]);

      expect(dataOf(events)).toEqual(['a', 'b', 'c', 'd']);
    });

    it('treats CR at the end of one push and LF at the start of the next as one line end', () => {
      const { events } = parse([bytes('data: a\r'), bytes('\ndata: b\r'), bytes('\n\r\n')]);

      expect(dataOf(events)).toEqual(['a\nb']);
    });

    it('still ends a line at a lone CR when the next push starts with something else', () => {
      const { events } = parse([bytes('data: a\r'), bytes('\r'), bytes('data: b\r'), bytes('\r')]);

      expect(dataOf(events)).toEqual(['a', 'b']);
    });
  });

  describe('byte order mark', () => {
    it('ignores a UTF-8 BOM at the start of the stream, even split across pushes', () => {
      const all = bytes([0xef, 0xbb, 0xbf], 'data: x\n\n');

      for (let at = 0; at <= 4; at++) {
        expect(dataOf(parse(split(all, [at, at])).events)).toEqual(['x']);
      }
    });

    it('keeps a BOM after the start as part of the line', () => {
      // The field name becomes "\uFEFFdata", an unknown field.
      const { events } = parse([bytes('data: x\n\n\uFEFFdata: y\n\ndata: \uFEFFz\n\n')]);

      expect(dataOf(events)).toEqual(['x', '\uFEFFz']);
    });

    it('decodes a stream that starts with a partial BOM lookalike', () => {
      const { events } = parse([bytes([0xef]), bytes('\n:\ndata: x\n\n')]);

      expect(dataOf(events)).toEqual(['x']);
    });
  });

  describe('fields', () => {
    it('joins data lines with \\n and strips one space after the colon', () => {
      const { events } = parse([bytes('data:a\ndata:  b\ndata\ndata:\ndata: \n\n')]);

      expect(dataOf(events)).toEqual(['a\n b\n\n\n']);
    });

    it('dispatches an event whose only data line is empty', () => {
      expect(dataOf(parse([bytes('data\n\n')]).events)).toEqual(['']);
    });

    it('reports event, id and retry with the data', () => {
      const { events } = parse([bytes('event: delta\nid: 7\nretry: 2500\ndata: {}\n\n')]);

      expect(events).toEqual([{ event: 'delta', data: '{}', id: '7', retry: 2500 }]);
    });

    it('keeps the last id for later events but resets event and retry at each event', () => {
      const { events } = parse([bytes('event: a\nid: 1\nretry: 10\ndata: x\n\ndata: y\n\n')]);

      expect(events[1]).toEqual({ event: '', data: 'y', id: '1', retry: undefined });
    });

    it('ignores retry values that are not all digits and ids holding NUL', () => {
      const { events } = parse([bytes('retry: 1s\nretry: -1\nid: a\0b\ndata: x\n\n')]);

      expect(events).toEqual([{ event: '', data: 'x', id: undefined, retry: undefined }]);
    });

    it('ignores unknown fields and fields that only start like known ones', () => {
      const { events } = parse([bytes('foo: 1\ndatum: 2\nevents: 3\ndata : 4\ndata: 5\n\n')]);

      expect(events).toEqual([{ event: '', data: '5', id: undefined, retry: undefined }]);
    });

    it('dispatches nothing for a block without data lines, and forgets its event name', () => {
      const { events } = parse([bytes('event: ping\n\nid: 3\n\ndata: x\n\n')]);

      expect(events).toEqual([{ event: '', data: 'x', id: '3', retry: undefined }]);
    });

    it('decodes multi-byte characters in every field', () => {
      const { events } = parse([bytes('event: 事件\ndata: 😀 naïve\n\n')]);

      expect(events[0]).toMatchObject({ event: '事件', data: '😀 naïve' });
    });
  });

  describe('end of stream', () => {
    it('discards an event with no closing blank line and reports it as cut', () => {
      const { events, cut } = parse([bytes('data: 1\n\ndata: 2\n')]);

      expect(dataOf(events)).toEqual(['1']);
      expect(cut).toBe(true);
    });

    it('reports a cut in the middle of a line', () => {
      expect(parse([bytes('data: 1\n\ndata: {"ch')]).cut).toBe(true);
    });

    it('does not report a cut for a complete stream or a trailing comment', () => {
      expect(parse([bytes('data: 1\n\n')]).cut).toBe(false);
      expect(parse([bytes('data: 1\n\n: keep-alive')]).cut).toBe(false);
      expect(parse([bytes('data: 1\r\n\r')]).cut).toBe(false);
    });

    it('lets the caller ask before ending the stream', () => {
      const parser = new SseParser({ onEvent: () => {} });
      parser.push(bytes('data: 1'));
      expect(parser.hasPartialEvent()).toBe(true);
      parser.push(bytes('\n\n'));
      expect(parser.hasPartialEvent()).toBe(false);
    });

    it('refuses bytes after end()', () => {
      const parser = new SseParser({ onEvent: () => {} });
      parser.end();
      expect(() => parser.push(bytes('data: 1\n\n'))).toThrow(/after end/);
    });
  });

  describe('size limit', () => {
    const limited = (maxEventBytes: number) => {
      const events: SseEvent[] = [];
      return { events, parser: new SseParser({ onEvent: (e) => events.push(e), maxEventBytes }) };
    };

    it('throws SseEventTooLargeError for one oversized line in a single push', () => {
      const { parser } = limited(1024);

      expect(() => parser.push(bytes(`data: ${'x'.repeat(2000)}`))).toThrow(SseEventTooLargeError);
    });

    it('throws when many data lines together pass the limit, after earlier events', () => {
      const { parser, events } = limited(1024);
      parser.push(bytes('data: small\n\n'));

      const line = bytes(`data: ${'x'.repeat(100)}\n`);
      expect(() => {
        for (let i = 0; i < 20; i++) parser.push(line);
      }).toThrow(SseEventTooLargeError);
      expect(dataOf(events)).toEqual(['small']);
    });

    it('throws while a line grows across pushes, and keeps failing afterwards', () => {
      const { parser } = limited(1024);
      let error: unknown;
      try {
        for (let i = 0; i < 100; i++) parser.push(bytes('x'.repeat(100)));
      } catch (err) {
        error = err;
      }

      expect(error).toBeInstanceOf(SseEventTooLargeError);
      expect((error as SseEventTooLargeError).code).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
      expect(() => parser.push(bytes('\n\n'))).toThrow(error as Error);
    });

    it('accepts events up to the limit, and multi-megabyte events by default', () => {
      const exact = `data: ${'x'.repeat(1018)}`;
      expect(parse([bytes(exact, '\n\n')], 1024).events).toHaveLength(1);

      const big = 'y'.repeat(3 * 1024 * 1024);
      expect(dataOf(parse([bytes(`data: ${big}\n\n`)]).events)).toEqual([big]);
    });
  });

  it('round-trips random events written with random line endings and split at random', () => {
    const next = random(20250412);
    const pick = <T>(items: T[]): T => items[next(items.length)];
    const words = ['a', 'é', '😀', '{"k":1}', ' ', ':', 'data:', '', 'ping', '\uFEFF'];
    const text = (n: number) => Array.from({ length: n }, () => pick(words)).join('');

    for (let run = 0; run < 300; run++) {
      const expected: SseEvent[] = [];
      let wire = run % 2 === 0 ? '\uFEFF' : '';
      for (let i = 0, count = next(6); i < count; i++) {
        let last = '';
        const eol = () => (last = pick(['\n', '\r', '\r\n']));
        const event = next(2) === 0 ? '' : `e${text(2)}`;
        const lines = Array.from({ length: 1 + next(3) }, () => text(next(5)));
        if (next(3) === 0) wire += `: comment ${text(2)}${eol()}`;
        if (event !== '') wire += `event: ${event}${eol()}`;
        for (const line of lines) wire += `data: ${line}${eol()}`;
        // A blank line's LF right after a CR would join it as CRLF, not end a second line.
        wire += last === '\r' ? pick(['\r', '\r\n']) : eol();
        expected.push({ event, data: lines.join('\n'), id: undefined, retry: undefined });
      }

      const all = bytes(wire);
      const cuts = Array.from({ length: next(8) }, () => next(all.length + 1));
      const { events, cut } = parse(split(all, cuts));
      expect(events, JSON.stringify({ wire, cuts })).toEqual(expected);
      expect(cut).toBe(false);
    }
  });
});
