import { DEFAULT_MAX_EVENT_BYTES, SseParser, type SseEvent } from '../../stream/sse-parser.js';
import { badFrame } from '../failures.js';
import { eventTooLarge } from '../sse-decoder.js';
import { afterFirstBlankLine, regionText, wholeEvents } from './fast-frames.js';
import type { StreamDecoder, StreamItem, Usage } from '../adapter.js';
import type { ChunkMeaning, SkeletonBook } from './chunk-skeleton.js';
import { ChunkTemplate } from './chunk-template.js';
import { classifyStreamError, isFailure, type ClassifyContext } from './classify-error.js';
import { shapeOf } from './shape.js';
import type { SseScanKernel } from './sse-scan-kernel.js';
import { readOpenAIUsage } from './usage.js';

/**
 * Decodes an OpenAI-protocol chat stream into canonical items. Chunks pass through as the
 * upstream's own JSON text; we parse each one only to learn its shape.
 */
export class OpenAIStreamDecoder implements StreamDecoder {
  /** Made on first need: most streams never leave the fast path. */
  private sse: SseParser | undefined;
  private items: StreamItem[] = [];
  /** The parser holds nothing: the next read may take the byte fast path. */
  private atBoundary = true;
  /** A chunk with text went out: the relay is past its commit point (or ended). */
  private sawContent = false;
  private template: ChunkTemplate | undefined;
  private lessons = 0;
  /** The fast path took bytes: a parser made later starts mid-stream (no BOM to strip). */
  private tookBytes = false;
  /** An event over the size limit ended the stream; later reads are ignored. */
  private failed = false;
  /**
   * Chunks this stream offered the skeleton book. A stream whose offers ran out before its
   * finish or usage chunk leaves those to the next stream, whose earlier chunks the book
   * then recognises.
   */
  private skeletonLessons = 0;

  constructor(
    private readonly ctx: ClassifyContext,
    private readonly maxEventBytes = DEFAULT_MAX_EVENT_BYTES,
    /** Matches runs in ASCII reads as bytes; without it, runs are matched on decoded text. */
    private readonly scan?: SseScanKernel,
    /** The endpoint's chunk skeletons, shared by its streams; every chunk is parsed without. */
    private readonly skeletons?: SkeletonBook,
  ) {}

  push(bytes: Uint8Array): StreamItem[] {
    if (this.failed) return [];
    const buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      this.read(buf);
    } catch (err) {
      // What the read completed before the oversized event still goes out, then the error.
      this.items.push(eventTooLarge(err));
      this.failed = true;
    }
    return this.take();
  }

  private read(buf: Buffer): void {
    let from = 0;
    if (!this.atBoundary) {
      // The parser holds the start of an event: it takes this read up to the event's end.
      const boundary = buf.indexOf(0x0d) === -1 ? afterFirstBlankLine(buf) : -1;
      if (boundary === -1) return this.parser.push(buf);
      this.parser.push(buf.subarray(0, boundary));
      from = boundary;
      this.atBoundary = !this.parser.hasPartialEvent();
      if (!this.atBoundary) return this.parser.push(buf.subarray(from));
    }

    const region = wholeEvents(buf, from);
    let rest = from;
    if (region !== undefined && region.ascii && this.scan !== undefined) {
      rest = this.readAsciiEvents(buf, from, region.end, this.scan);
      if (rest > from) this.tookBytes = true;
    } else if (region !== undefined) {
      const text = regionText(buf, from, region);
      // U+FFFD means bytes that are not UTF-8 (or the character itself): the parser's job,
      // since character and byte offsets no longer map one to one.
      if (region.ascii || !text.includes('\ufffd')) {
        // ASCII text can be forwarded as the very bytes it was read from, with no encoding back.
        const at = this.readEvents(text, region.ascii ? buf.subarray(from) : undefined);
        if (at > 0) this.tookBytes = true;
        rest = at === text.length ? region.end : from + Buffer.byteLength(text.slice(0, at));
      }
    }
    if (rest < buf.length) {
      this.parser.push(buf.subarray(rest));
      this.atBoundary = false;
    }
  }

  /**
   * Decodes the plain `data: ...\n\n` events at the front of `text`; returns where it
   * stopped (an event the SSE parser must read). Once a token was seen, runs of chunks that
   * match the stream's template become one `frames` item.
   */
  private readEvents(text: string, bytes: Buffer | undefined): number {
    const max = this.maxEventBytes;
    // Up to this many characters an event is surely within the byte limit (a UTF-16 unit
    // takes at most 3 UTF-8 bytes); a longer non-ASCII one is measured.
    const surelyFits = bytes !== undefined ? max : Math.floor(max / 3);
    let at = 0;
    while (at < text.length) {
      if (this.template !== undefined && this.sawContent) {
        const run = this.template.matchRun(text, at, surelyFits);
        if (run > at) {
          const frames = bytes !== undefined ? bytes.subarray(at, run) : text.slice(at, run);
          this.items.push({ kind: 'frames', frames });
          at = run;
          continue;
        }
      }
      const end = text.indexOf('\n', at);
      // Not a plain data line, or data spread over several lines: the parser's job.
      if (!text.startsWith(DATA, at) || text.charCodeAt(end + 1) !== LF) break;
      if (end - at > surelyFits && Buffer.byteLength(text.slice(at, end)) > max) break;
      const raw = bytes?.subarray(at, end + 2);
      this.onEvent({ event: '', data: text.slice(at + DATA.length, end) }, raw);
      at = end + 2;
    }
    return at;
  }

  /**
   * readEvents over the bytes of an all-ASCII region, [from, end): only the events outside a
   * run are decoded, and runs are matched by the kernel. Returns the byte offset where it
   * stopped, with the same events taken and left as readEvents would on the region's text.
   */
  private readAsciiEvents(buf: Buffer, from: number, end: number, scan: SseScanKernel): number {
    const max = this.maxEventBytes;
    let loaded = false;
    let at = from;
    while (at < end) {
      const template = this.sawContent ? this.template?.bytes : undefined;
      // A template too large for the kernel leaves its events to onEvent one by one: the
      // same bytes reach the client, only not as one run.
      if (template !== undefined && template.all.length <= scan.templateCapacity) {
        // The read goes into the kernel once, however many runs it holds; no other decoder
        // runs before this loop ends.
        if (!loaded) scan.load(buf.subarray(from, end), template);
        loaded = true;
        const run = from + scan.matchRun(at - from, end - from, max);
        if (run > at) {
          this.items.push({ kind: 'frames', frames: buf.subarray(at, run) });
          at = run;
          continue;
        }
      }
      const lineEnd = buf.indexOf(LF, at);
      // Not a plain data line, or data spread over several lines: the parser's job.
      if (!isDataLine(buf, at) || buf[lineEnd + 1] !== LF) break;
      if (lineEnd - at > max) break;
      const raw = buf.subarray(at, lineEnd + 2);
      this.onEvent({ event: '', data: buf.toString('latin1', at + DATA.length, lineEnd) }, raw);
      at = lineEnd + 2;
    }
    return at;
  }

  end(): { items: StreamItem[]; cut: boolean } {
    if (this.failed) return { items: this.take(), cut: false };
    const cut = this.sse?.hasPartialEvent() ?? false;
    this.sse?.end();
    return { items: this.take(), cut };
  }

  private get parser(): SseParser {
    this.sse ??= new SseParser({
      onEvent: (ev) => this.onEvent(ev),
      maxEventBytes: this.maxEventBytes,
      midStream: this.tookBytes,
    });
    return this.sse;
  }

  private take(): StreamItem[] {
    const items = this.items;
    this.items = [];
    return items;
  }

  /** `raw`: the event's bytes as read, when they are exactly `data: <data>\n\n` in ASCII. */
  private onEvent(ev: SseEvent, raw?: Uint8Array): void {
    const data = ev.data;
    if (data === '[DONE]') {
      this.items.push({ kind: 'done', raw });
      return;
    }
    // Skeletons are of plain events only: an `event:` line may change what the data means.
    const plain = ev.event === '';
    const known = plain ? this.skeletons?.recognise(data) : undefined;
    if (known !== undefined) return this.onChunk(data, raw, known.meaning, known.usage, true);

    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(data) as Record<string, unknown>;
    } catch {
      // `[DONE] ` or `[DONE]\r`: a server's stray whitespace, which the OpenAI SDK reads past
      // too. The client gets the exact frame (raw left out), not an error after a whole answer.
      if (data.trim() === '[DONE]') this.items.push({ kind: 'done' });
      else this.items.push({ kind: 'error', failure: badFrame(this.ctx.providerId) });
      return;
    }
    if (typeof chunk !== 'object' || chunk === null || Array.isArray(chunk)) {
      this.items.push({ kind: 'error', failure: badFrame(this.ctx.providerId) });
      return;
    }
    if (ev.event === 'error' || isFailure(chunk.error)) {
      this.items.push({ kind: 'error', failure: classifyStreamError(chunk, this.ctx) });
      return;
    }

    const { shape, finished } = shapeOf(chunk);
    // A chunk with an error member, even a null one, teaches nothing.
    const clean = chunk.error === undefined;
    // Text in a delta makes the chunk a content one: no other shape has any.
    const oneText = clean && shape === 'content' && hasText(chunk);
    const meaning: ChunkMeaning = { shape, finished, hasText: oneText };
    if (plain && clean) this.teach(data, meaning);
    this.onChunk(data, raw, meaning, readOpenAIUsage(chunk.usage), plain);
  }

  private onChunk(
    data: string,
    raw: Uint8Array | undefined,
    meaning: ChunkMeaning,
    usage: Usage | undefined,
    plain: boolean,
  ): void {
    const { shape, finished } = meaning;
    this.items.push({ kind: 'chunk', data, shape, usage, finished, raw });
    if (shape !== 'content') return;
    this.sawContent = true;
    // The first plain text chunk teaches the run template: one choice, its delta's text,
    // nothing finished, no usage, no error (what learn() relies on).
    if (this.template !== undefined || this.lessons >= MAX_LESSONS) return;
    if (plain && finished === undefined && usage === undefined && meaning.hasText) {
      this.lessons++;
      this.template = ChunkTemplate.learn(data);
    }
  }

  /**
   * Gives the endpoint's book a skeleton of a parsed chunk whose every changing value can be
   * a hole: a role, finish or usage chunk, or one choice's text; not a tool call, whose
   * arguments would make each chunk a skeleton of its own.
   */
  private teach(data: string, meaning: ChunkMeaning): void {
    if (this.skeletons === undefined || this.skeletonLessons >= MAX_SKELETON_LESSONS) return;
    const { shape } = meaning;
    if (shape !== 'lifecycle' && shape !== 'usage' && !meaning.hasText) return;
    this.skeletonLessons++;
    this.skeletons.learn(data, meaning);
  }
}

/** Chunks parsed to learn the stream's template before giving up on it. */
const MAX_LESSONS = 3;
/** Chunks one stream may offer the skeleton book: enough for role, text, finish, usage. */
const MAX_SKELETON_LESSONS = 4;
const DATA = 'data: ';
const LF = 0x0a;

/** `data: ` at `at`, byte by byte. */
function isDataLine(buf: Buffer, at: number): boolean {
  return (
    buf[at] === 0x64 &&
    buf[at + 1] === 0x61 &&
    buf[at + 2] === 0x74 &&
    buf[at + 3] === 0x61 &&
    buf[at + 4] === 0x3a &&
    buf[at + 5] === 0x20
  );
}

/**
 * A single choice whose delta carries text (the only chunks a run template is learned from).
 * Not an empty string: a reasoning or tool-call chunk with `"content":""` would teach a
 * template holding its reasoning or call, which no later text chunk matches.
 */
function hasText(chunk: Record<string, unknown>): boolean {
  const choices = chunk.choices as { delta?: { content?: unknown } | null }[];
  if (choices.length !== 1) return false;
  const content = choices[0]?.delta?.content;
  return typeof content === 'string' && content.length > 0;
}
