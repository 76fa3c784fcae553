// The common OpenAI stream read, handled in one piece: the run of whole single-line
// `data: {...}\n\n` events at the front of a read is decoded with one call and split with
// string searches, instead of a decode per line in the SSE parser. (Searching the bytes
// instead was slower: each Buffer.indexOf crosses into C++.) Anything unusual (a CR, a
// comment, an event: line, a multi-line event) and an unfinished tail go to the parser.

const CR = 0x0d;
const BLANK_LINE = Buffer.from('\n\n');
const DATA = 'data: ';

/**
 * The events' data texts from `from` to the last blank line of the read, and where the
 * parser must take over (the read's length when nothing is left for it).
 */
export function simpleEvents(
  buf: Buffer,
  from: number,
  maxEventBytes: number,
): { data: string[]; rest: number } {
  const data: string[] = [];
  const last = buf.lastIndexOf(BLANK_LINE);
  if (last < from || buf.indexOf(CR, from) !== -1) return { data, rest: from };

  const text = buf.toString('utf8', from, last + 2);
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\n', at);
    // Not a plain data line, or data spread over several lines: the parser's job.
    if (!text.startsWith(DATA, at) || text.charCodeAt(end + 1) !== 0x0a) break;
    if (end - at > maxEventBytes) break;
    data.push(text.slice(at + DATA.length, end));
    at = end + 2;
  }
  if (at === text.length) return { data, rest: last + 2 };
  // Stopped early: hand the parser the bytes from the first event it must read.
  return { data, rest: from + Buffer.byteLength(text.slice(0, at)) };
}

/** Where the first blank line (an event boundary in an LF-only stream) ends, or -1. */
export function afterFirstBlankLine(buf: Buffer): number {
  const at = buf.indexOf(BLANK_LINE);
  return at === -1 ? -1 : at + 2;
}
