import { describe, expect, it } from 'vitest';
import { crc32, crc32Table } from '../../../sidecar/providers/bedrock/crc32.js';
import {
  EventStreamDecoder,
  EventStreamError,
  type HeaderValue,
} from '../../../sidecar/providers/bedrock/eventstream.js';
import {
  converseStream,
  crc32Reference,
  encodeMessage,
  eventFrame,
  exceptionFrame,
} from '../../support/mock-bedrock.js';

interface Decoded {
  headers: Record<string, HeaderValue>;
  payload: string;
}

function decoder(maxMessageBytes = 1024 * 1024) {
  const out: Decoded[] = [];
  const d = new EventStreamDecoder({
    maxMessageBytes,
    onMessage: (m) =>
      out.push({ headers: { ...m.headers }, payload: Buffer.from(m.payload).toString() }),
  });
  return { d, out };
}

describe('CRC32', () => {
  it('the native, the portable and the test reference CRC agree on the check value', () => {
    // The CRC-32/ISO-HDLC check value of "123456789".
    const check = Buffer.from('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Table(check)).toBe(0xcbf43926);
    expect(crc32Reference(check)).toBe(0xcbf43926);
  });

  it('the portable CRC matches the native one on a real frame', () => {
    const frame = Buffer.concat(converseStream({ text: ['x'] }));
    expect(crc32Table(frame)).toBe(crc32(frame));
    expect(crc32Table(new Uint8Array(0))).toBe(0);
  });
});

describe('EventStreamDecoder', () => {
  it('decodes a message: headers, payload, both checksums verified', () => {
    const { d, out } = decoder();
    d.push(eventFrame('messageStart', { role: 'assistant' }));
    expect(out).toHaveLength(1);
    expect(out[0].headers).toEqual({
      ':event-type': 'messageStart',
      ':content-type': 'application/json',
      ':message-type': 'event',
    });
    expect(JSON.parse(out[0].payload)).toMatchObject({ role: 'assistant' });
    expect(d.hasPartial()).toBe(false);
  });

  it('decodes the same messages however the bytes are cut, at every single offset', () => {
    const frames = converseStream({
      text: ['Hel', 'lo ', 'wörld'],
      tools: [{ id: 'tooluse_1', name: 'get_weather', input: ['{"city":', '"Paris"}'] }],
    });
    const all = Buffer.concat(frames);
    const whole = decoder();
    whole.d.push(all);

    for (let cut = 1; cut < all.length; cut++) {
      const split = decoder();
      split.d.push(all.subarray(0, cut));
      split.d.push(all.subarray(cut));
      expect(split.out).toEqual(whole.out);
      expect(split.d.hasPartial()).toBe(false);
    }
    expect(whole.out).toHaveLength(frames.length);
  });

  it('decodes a stream fed one byte at a time', () => {
    const all = Buffer.concat(converseStream({ text: ['a', 'b'] }));
    const { d, out } = decoder();
    for (let i = 0; i < all.length; i++) d.push(all.subarray(i, i + 1));
    expect(out.map((m) => m.headers[':event-type'])).toEqual([
      'messageStart',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockStop',
      'messageStop',
      'metadata',
    ]);
  });

  it('reports a message cut off at the end as partial', () => {
    const frame = exceptionFrame('throttlingException', 'slow down');
    const { d, out } = decoder();
    d.push(frame.subarray(0, frame.length - 1));
    expect(out).toHaveLength(0);
    expect(d.hasPartial()).toBe(true);
  });

  it('refuses a prelude whose checksum is wrong, before reading the body', () => {
    const frame = eventFrame('messageStart', { role: 'assistant' });
    frame[3] ^= 0x01; // the total length no longer matches the prelude CRC
    const { d } = decoder();
    let caught: unknown;
    try {
      d.push(frame);
    } catch (err) {
      caught = err;
    }
    expect((caught as EventStreamError).problem).toBe('prelude_crc');
    // Nothing after a corrupt frame can be trusted: the decoder stays failed.
    expect(() => d.push(eventFrame('messageStart', {}))).toThrow(EventStreamError);
  });

  it('refuses a message whose payload was altered (message checksum)', () => {
    const frame = eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'hi' } });
    frame[frame.length - 10] ^= 0x20;
    const { d, out } = decoder();
    expect(() => d.push(frame)).toThrowError(/checksum/);
    expect(out).toHaveLength(0);
  });

  it('refuses a message over the size limit as soon as its prelude arrives', () => {
    const big = encodeMessage({ ':message-type': 'event' }, 'x'.repeat(5000));
    const { d } = decoder(4096);
    // Only the 12-byte prelude is given: the length alone decides.
    expect(() => d.push(big.subarray(0, 12))).toThrow(/over the 4096 limit/);
  });

  it('reads every header value type of the format', () => {
    // name, type, value for types 0-9, built by hand.
    const parts: Buffer[] = [];
    const header = (name: string, type: number, value: Buffer) =>
      parts.push(
        Buffer.concat([Buffer.from([name.length]), Buffer.from(name), Buffer.from([type]), value]),
      );
    const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
    header('t', 0, Buffer.alloc(0));
    header('f', 1, Buffer.alloc(0));
    header('b', 2, Buffer.from([0xff]));
    header('s', 3, Buffer.from([0x01, 0x02]));
    header('i', 4, Buffer.from([0, 0, 1, 0]));
    header('l', 5, Buffer.from([0, 0, 0, 0, 0, 0, 0, 7]));
    header('y', 6, Buffer.concat([u16(2), Buffer.from([9, 8])]));
    header('str', 7, Buffer.concat([u16(2), Buffer.from('ok')]));
    header('ts', 8, Buffer.from([0, 0, 0, 0, 0, 0, 0x03, 0xe8]));
    header('u', 9, Buffer.alloc(16, 0xab));
    const headers = Buffer.concat(parts);
    const total = 12 + headers.length + 2 + 4;
    const msg = Buffer.alloc(total);
    msg.writeUInt32BE(total, 0);
    msg.writeUInt32BE(headers.length, 4);
    msg.writeUInt32BE(crc32Reference(msg.subarray(0, 8)), 8);
    headers.copy(msg, 12);
    msg.write('{}', 12 + headers.length);
    msg.writeUInt32BE(crc32Reference(msg.subarray(0, total - 4)), total - 4);

    const { d, out } = decoder();
    d.push(msg);
    expect(out[0].headers).toEqual({
      t: true,
      f: false,
      b: -1,
      s: 0x0102,
      i: 256,
      l: 7n,
      y: Uint8Array.from([9, 8]),
      str: 'ok',
      ts: 1000n,
      u: new Uint8Array(16).fill(0xab),
    });
    expect(out[0].payload).toBe('{}');
  });
});
