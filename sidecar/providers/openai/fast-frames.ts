// The common OpenAI stream read, handled in one piece: the run of whole single-line
// `data: {...}\n\n` events at the front of a read is decoded with one call and split with
// string searches, instead of a decode per line in the SSE parser. (Searching the bytes
// instead was slower: each Buffer.indexOf crosses into C++.) Anything unusual (a CR, a
// comment, an event: line, a multi-line event) and an unfinished tail go to the parser.

import { isAscii } from 'node:buffer';

const CR = 0x0d;
const BLANK_LINE = Buffer.from('\n\n');

export interface EventRegion {
  /** Byte offset where the region ends. */
  end: number;
  /** Every byte is ASCII: character and byte offsets are the same. */
  ascii: boolean;
}

/**
 * Where the whole events from `from` end (after the last blank line of the read), and whether
 * they are all ASCII; undefined when there is none, or when a CR is about (CRLF streams are
 * the parser's).
 */
export function wholeEvents(buf: Buffer, from: number): EventRegion | undefined {
  const last = buf.lastIndexOf(BLANK_LINE);
  if (last < from || buf.indexOf(CR, from) !== -1) return undefined;
  const end = last + 2;
  return { end, ascii: isAscii(buf.subarray(from, end)) };
}

/** The region as text. ASCII is read as Latin-1: the same text, without the UTF-8 decoder. */
export function regionText(buf: Buffer, from: number, region: EventRegion): string {
  return buf.toString(region.ascii ? 'latin1' : 'utf8', from, region.end);
}

/** Where the first blank line (an event boundary in an LF-only stream) ends, or -1. */
export function afterFirstBlankLine(buf: Buffer): number {
  const at = buf.indexOf(BLANK_LINE);
  return at === -1 ? -1 : at + 2;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** What may follow a backslash in a JSON string (u then takes four hex digits). */
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74, 0x75]);
const HEX4 = /^[0-9A-Fa-f]{4}$/;

/**
 * From the opening quote of a JSON string at `at`, the index just past its closing quote;
 * -1 when there is no well-formed string there (a raw control character, a line break
 * among them, or a bad escape), so that the caller leaves the event to the full parse.
 */
export function skipJsonString(text: string, at: number): number {
  if (text.charCodeAt(at) !== QUOTE) return -1;
  for (let i = at + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      const escaped = text.charCodeAt(++i);
      if (!ESCAPES.has(escaped)) return -1;
      if (escaped === 0x75) {
        if (!HEX4.test(text.slice(i + 1, i + 5))) return -1;
        i += 4;
      }
    }
  }
  return -1;
}
