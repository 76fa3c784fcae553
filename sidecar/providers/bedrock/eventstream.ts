import { crc32 } from './crc32.js';

// An incremental decoder for AWS event-stream framing (`application/vnd.amazon.eventstream`),
// the binary envelope of ConverseStream. A message is: total length (u32 BE), headers length
// (u32 BE), CRC32 of those 8 bytes, the headers, the payload, then CRC32 of everything before
// it. Source: AWS "Event stream encoding" (Lex V2 / Transcribe developer guides), which
// Bedrock's runtime shares.
//
// Messages wholly inside one network read are decoded in place; only a message cut across
// reads is copied, into one reused buffer grown by doubling. The length in the prelude is
// checked against the limit before a byte of the body is buffered.

export type HeaderValue = string | number | boolean | bigint | Uint8Array;

export interface EventMessage {
  readonly headers: Readonly<Record<string, HeaderValue>>;
  /** Valid only during the onMessage call: it may point into a buffer that is reused. */
  readonly payload: Uint8Array;
}

export type FrameProblem = 'too_large' | 'prelude_crc' | 'message_crc' | 'malformed';

export class EventStreamError extends Error {
  constructor(
    readonly problem: FrameProblem,
    message: string,
  ) {
    super(message);
    this.name = 'EventStreamError';
  }
}

export interface EventStreamOptions {
  /** Called synchronously, in stream order, for each verified message. */
  onMessage(message: EventMessage): void;
  /** Largest whole message accepted; the format itself allows 16 MiB. */
  maxMessageBytes: number;
}

const PRELUDE_BYTES = 12;
/** Prelude plus the trailing message CRC. */
const OVERHEAD_BYTES = 16;
const INITIAL_HELD_BYTES = 4096;

const enum State {
  /** Waiting for (the rest of) a prelude. */
  Prelude,
  /** The prelude is verified; waiting for the rest of a message of known length. */
  Message,
  /** A corrupt frame was seen: nothing after it can be trusted. */
  Failed,
}

export class EventStreamDecoder {
  private state = State.Prelude;
  private failure: EventStreamError | undefined;
  /** The start of a message cut across reads. Reused, grown by doubling. */
  private held = new Uint8Array(INITIAL_HELD_BYTES);
  private heldLength = 0;
  private heldTotal = 0;

  constructor(private readonly opts: EventStreamOptions) {}

  /** True when bytes of an unfinished message are held. */
  hasPartial(): boolean {
    return this.heldLength > 0;
  }

  /** Feeds bytes as they arrive; throws EventStreamError (then on every call) on a bad frame. */
  push(chunk: Uint8Array): void {
    if (this.state === State.Failed) throw this.failure;
    try {
      this.scan(chunk);
    } catch (err) {
      if (err instanceof EventStreamError) {
        this.state = State.Failed;
        this.failure = err;
      }
      throw err;
    }
  }

  private scan(chunk: Uint8Array): void {
    let offset = 0;
    if (this.heldLength > 0) {
      offset = this.fillHeld(chunk);
      if (this.heldLength < PRELUDE_BYTES || this.heldLength < this.heldTotal) return;
      this.decode(this.held, 0);
      this.heldLength = 0;
      this.state = State.Prelude;
    }

    // Fast path: whole messages inside this read are decoded where they lie.
    while (chunk.length - offset >= PRELUDE_BYTES) {
      const total = this.checkPrelude(chunk, offset);
      if (chunk.length - offset < total) break;
      this.decode(chunk, offset);
      offset += total;
    }
    if (offset < chunk.length) this.fillHeld(chunk.subarray(offset));
  }

  /** Moves bytes from the front of `chunk` into the held message; returns how many it took. */
  private fillHeld(chunk: Uint8Array): number {
    let taken = 0;
    if (this.state === State.Prelude) {
      taken = Math.min(PRELUDE_BYTES - this.heldLength, chunk.length);
      this.append(chunk.subarray(0, taken));
      if (this.heldLength < PRELUDE_BYTES) return taken;
      this.heldTotal = this.checkPrelude(this.held, 0);
      this.state = State.Message;
    }
    const more = Math.min(this.heldTotal - this.heldLength, chunk.length - taken);
    this.append(chunk.subarray(taken, taken + more));
    return taken + more;
  }

  private append(bytes: Uint8Array): void {
    const needed = this.heldLength + bytes.length;
    if (needed > this.held.length) {
      let size = this.held.length * 2;
      while (size < needed) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.held.subarray(0, this.heldLength));
      this.held = grown;
    }
    this.held.set(bytes, this.heldLength);
    this.heldLength = needed;
  }

  /** Verifies a prelude before anything else of its message is buffered; returns its length. */
  private checkPrelude(buf: Uint8Array, at: number): number {
    const total = u32(buf, at);
    const headersLength = u32(buf, at + 4);
    if (u32(buf, at + 8) !== crc32(buf.subarray(at, at + 8))) {
      throw new EventStreamError('prelude_crc', 'event-stream prelude checksum mismatch');
    }
    if (total < OVERHEAD_BYTES || headersLength > total - OVERHEAD_BYTES) {
      throw new EventStreamError('malformed', `event-stream lengths are inconsistent (${total})`);
    }
    if (total > this.opts.maxMessageBytes) {
      throw new EventStreamError(
        'too_large',
        `event-stream message of ${total} bytes is over the ${this.opts.maxMessageBytes} limit`,
      );
    }
    return total;
  }

  private decode(buf: Uint8Array, at: number): void {
    const total = u32(buf, at);
    const end = at + total - 4;
    if (u32(buf, end) !== crc32(buf.subarray(at, end))) {
      throw new EventStreamError('message_crc', 'event-stream message checksum mismatch');
    }
    const headersEnd = at + PRELUDE_BYTES + u32(buf, at + 4);
    const headers = readHeaders(buf, at + PRELUDE_BYTES, headersEnd);
    this.opts.onMessage({ headers, payload: buf.subarray(headersEnd, end) });
  }
}

const utf8 = new TextDecoder('utf-8');

/** Header value types 0-9 of the event-stream format. */
function readHeaders(buf: Uint8Array, start: number, end: number): Record<string, HeaderValue> {
  const headers: Record<string, HeaderValue> = {};
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = start;
  const need = (n: number): void => {
    if (at + n > end) throw new EventStreamError('malformed', 'event-stream header runs past');
  };

  while (at < end) {
    need(1);
    const nameLength = buf[at++];
    need(nameLength + 1);
    const name = utf8.decode(buf.subarray(at, at + nameLength));
    at += nameLength;
    const type = buf[at++];
    let value: HeaderValue;
    switch (type) {
      case 0:
      case 1:
        value = type === 0;
        break;
      case 2:
        need(1);
        value = view.getInt8(at);
        at += 1;
        break;
      case 3:
        need(2);
        value = view.getInt16(at);
        at += 2;
        break;
      case 4:
        need(4);
        value = view.getInt32(at);
        at += 4;
        break;
      case 5: // int64
      case 8: // timestamp, milliseconds since the epoch
        need(8);
        value = view.getBigInt64(at);
        at += 8;
        break;
      case 6: // bytes
      case 7: {
        need(2);
        const length = view.getUint16(at);
        at += 2;
        need(length);
        const bytes = buf.subarray(at, at + length);
        value = type === 7 ? utf8.decode(bytes) : Uint8Array.from(bytes);
        at += length;
        break;
      }
      case 9: // UUID
        need(16);
        value = Uint8Array.from(buf.subarray(at, at + 16));
        at += 16;
        break;
      default:
        throw new EventStreamError('malformed', `event-stream header type ${type} is unknown`);
    }
    headers[name] = value;
  }
  return headers;
}

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
}
