// The common OpenAI stream read, handled in one piece: the run of whole single-line
// `data: {...}\n\n` events at the front of a read is decoded with one call and split with
// string searches, instead of a decode per line in the SSE parser. (Searching the bytes
// instead was slower: each Buffer.indexOf crosses into C++.) Anything unusual (a CR, a
// comment, an event: line, a multi-line event) and an unfinished tail go to the parser.

const CR = 0x0d;
const BLANK_LINE = Buffer.from('\n\n');

/**
 * The text of the whole events from `from` to the last blank line of the read, and the byte
 * offset where that ends; undefined when there is none, or when a CR is about (CRLF streams
 * are the parser's).
 */
export function wholeEvents(buf: Buffer, from: number): { text: string; end: number } | undefined {
  const last = buf.lastIndexOf(BLANK_LINE);
  if (last < from || buf.indexOf(CR, from) !== -1) return undefined;
  return { text: buf.toString('utf8', from, last + 2), end: last + 2 };
}

/** Where the first blank line (an event boundary in an LF-only stream) ends, or -1. */
export function afterFirstBlankLine(buf: Buffer): number {
  const at = buf.indexOf(BLANK_LINE);
  return at === -1 ? -1 : at + 2;
}
