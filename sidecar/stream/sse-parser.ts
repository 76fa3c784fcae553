import { GatewayError } from '../errors.js';

// An incremental text/event-stream parser following the WHATWG rules for interpreting an
// event stream: https://html.spec.whatwg.org/multipage/server-sent-events.html
// Bytes are scanned once with indexOf; only an unfinished line is copied, into one reused
// buffer, so a chunk of many small events costs one pass and no copy.

export interface SseEvent {
  /** The `event:` field; '' when there was none (the spec's 'message' default is not applied). */
  event: string;
  /** The `data:` lines joined with '\n'. */
  data: string;
  /** The last event ID in effect (it persists across events, per the spec); absent when ''. */
  id?: string;
  /** A valid `retry:` value given in this event's own block of lines. */
  retry?: number;
}

export interface SseParserOptions {
  /** Called synchronously, in stream order, for each complete event. */
  onEvent(ev: SseEvent): void;
  /** Cap on one event's data plus the line being read. Gemini thought signatures run large. */
  maxEventBytes?: number;
  /** The stream's first bytes went elsewhere: this parser starts mid-stream, no BOM. */
  midStream?: boolean;
}

export const DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024;

/** An upstream event (or line) is larger than the parser's limit; the stream cannot go on. */
export class SseEventTooLargeError extends GatewayError {
  readonly maxEventBytes: number;

  constructor(maxEventBytes: number) {
    super(
      'GW_ERR_UPSTREAM_BAD_RESPONSE',
      `The provider sent a stream event larger than ${maxEventBytes} bytes.`,
    );
    this.name = 'SseEventTooLargeError';
    this.maxEventBytes = maxEventBytes;
  }
}

const enum State {
  /** Nothing decided yet: a UTF-8 BOM, possibly split across pushes, may come first. */
  Bom,
  Lines,
  /** The last line ended in CR at the end of a push; an LF opening the next push belongs to it. */
  AfterCr,
  Ended,
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const BOM = [0xef, 0xbb, 0xbf];
const INITIAL_HELD_BYTES = 4096;

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const DATA = ascii('data');
const EVENT = ascii('event');
const ID = ascii('id');
const RETRY = ascii('retry');
const DIGITS = /^[0-9]+$/;

export class SseParser {
  private readonly onEvent: (ev: SseEvent) => void;
  private readonly maxEventBytes: number;
  // ignoreBOM keeps U+FEFF inside lines: only the stream's first bytes may hold a BOM.
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private state = State.Bom;
  private failure: SseEventTooLargeError | undefined;

  /** The bytes of a line whose terminator has not arrived yet. Reused, grown by doubling. */
  private held = new Uint8Array(INITIAL_HELD_BYTES);
  private heldLength = 0;

  // The block of field lines since the last blank line.
  private blockOpen = false;
  private hasData = false;
  private data = '';
  private dataBytes = 0;
  private eventType = '';
  private retry: number | undefined;
  private lastEventId = '';

  constructor(options: SseParserOptions) {
    this.onEvent = options.onEvent;
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    if (options.midStream) this.state = State.Lines;
  }

  /**
   * Feeds bytes as they arrive. Complete events are delivered before this returns. Throws
   * SseEventTooLargeError (then on every later call) when the limit is passed. If onEvent
   * throws, the rest of the chunk is lost: treat that as the end of the stream.
   */
  push(chunk: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.state === State.Ended) throw new Error('SseParser.push() called after end()');

    let start = 0;
    if (this.state === State.Bom) {
      start = this.skipBom(chunk);
      if (start < 0) return;
    }
    if (this.state === State.AfterCr && start < chunk.length) {
      if (chunk[start] === LF) start++;
      this.state = State.Lines;
    }

    try {
      this.scan(chunk, start);
    } catch (err) {
      if (err instanceof SseEventTooLargeError) this.failure = err;
      throw err;
    }
  }

  /** Marks the end of the stream. An event without its closing blank line is discarded. */
  end(): void {
    this.state = State.Ended;
  }

  /**
   * True when a field line (or part of one) has arrived that no blank line has closed yet:
   * at EOF, that event was cut. Stays meaningful after end(); comments do not count.
   */
  hasPartialEvent(): boolean {
    return this.blockOpen || (this.heldLength > 0 && this.held[0] !== COLON);
  }

  /** Returns where lines start in `chunk` after a leading BOM, or -1 to wait for more bytes. */
  private skipBom(chunk: Uint8Array): number {
    let i = 0;
    while (this.heldLength + i < BOM.length && i < chunk.length) {
      if (chunk[i] !== BOM[this.heldLength + i]) {
        // Not a BOM: any held prefix of one stays held as the start of the first line.
        this.state = State.Lines;
        return 0;
      }
      i++;
    }
    if (this.heldLength + i === BOM.length) {
      this.heldLength = 0;
      this.state = State.Lines;
      return i;
    }
    this.hold(chunk, 0, i);
    return -1;
  }

  private scan(chunk: Uint8Array, from: number): void {
    let start = from;
    // The next LF and CR at or after `start`; -1 once the chunk has none left. Each is
    // searched again only after `start` passes it, so every byte is scanned once per value.
    let lf = chunk.indexOf(LF, start);
    let cr = chunk.indexOf(CR, start);

    for (;;) {
      if (lf !== -1 && lf < start) lf = chunk.indexOf(LF, start);
      if (cr !== -1 && cr < start) cr = chunk.indexOf(CR, start);
      const eol = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      if (eol === -1) break;

      if (this.heldLength > 0) {
        this.hold(chunk, start, eol);
        const length = this.heldLength;
        this.heldLength = 0;
        this.line(this.held, 0, length);
      } else {
        this.line(chunk, start, eol);
      }

      start = eol + 1;
      if (eol === cr) {
        if (start === chunk.length) this.state = State.AfterCr;
        else if (chunk[start] === LF) start++;
      }
    }

    if (start < chunk.length) this.hold(chunk, start, chunk.length);
  }

  /** Appends to the unfinished line, checking the limit before any byte is copied. */
  private hold(chunk: Uint8Array, start: number, end: number): void {
    const length = this.heldLength + end - start;
    if (this.dataBytes + length > this.maxEventBytes) {
      throw new SseEventTooLargeError(this.maxEventBytes);
    }
    if (length > this.held.length) {
      const grown = new Uint8Array(Math.max(length, this.held.length * 2));
      grown.set(this.held.subarray(0, this.heldLength));
      this.held = grown;
    }
    this.held.set(chunk.subarray(start, end), this.heldLength);
    this.heldLength = length;
  }

  /** Interprets one line, bytes [start, end) without its terminator. */
  private line(bytes: Uint8Array, start: number, end: number): void {
    if (start === end) return this.dispatch();
    if (bytes[start] === COLON) return; // a comment: keep-alives such as ": ping - <time>"
    if (this.dataBytes + end - start > this.maxEventBytes) {
      throw new SseEventTooLargeError(this.maxEventBytes);
    }

    this.blockOpen = true;

    // Field names are matched as bytes, so unknown fields are skipped without decoding.
    let at: number;
    if ((at = valueStart(bytes, start, end, DATA)) >= 0) {
      const value = this.decoder.decode(bytes.subarray(at, end));
      this.data = this.hasData ? this.data + '\n' + value : value;
      this.hasData = true;
      this.dataBytes += end - start;
    } else if ((at = valueStart(bytes, start, end, EVENT)) >= 0) {
      this.eventType = this.decoder.decode(bytes.subarray(at, end));
    } else if ((at = valueStart(bytes, start, end, ID)) >= 0) {
      // The spec ignores an id holding NUL.
      if (bytes.subarray(at, end).indexOf(0) < 0) {
        this.lastEventId = this.decoder.decode(bytes.subarray(at, end));
      }
    } else if ((at = valueStart(bytes, start, end, RETRY)) >= 0) {
      const value = this.decoder.decode(bytes.subarray(at, end));
      if (DIGITS.test(value)) this.retry = Number(value);
    }
  }

  private dispatch(): void {
    const { hasData, data, eventType, retry } = this;
    this.blockOpen = false;
    this.hasData = false;
    this.data = '';
    this.dataBytes = 0;
    this.eventType = '';
    this.retry = undefined;
    if (!hasData) return;

    // Every key is always set so all events share one object shape.
    const id = this.lastEventId === '' ? undefined : this.lastEventId;
    this.onEvent({ event: eventType, data, id, retry });
  }
}

/**
 * If the line [start, end) is the field `name`, returns where its value starts (after the
 * colon and one optional space; `end` for a bare name); otherwise -1.
 */
function valueStart(bytes: Uint8Array, start: number, end: number, name: Uint8Array): number {
  const colon = start + name.length;
  if (colon > end) return -1;
  for (let i = 0; i < name.length; i++) if (bytes[start + i] !== name[i]) return -1;
  if (colon === end) return end;
  if (bytes[colon] !== COLON) return -1;
  return colon + 1 < end && bytes[colon + 1] === SPACE ? colon + 2 : colon + 1;
}
