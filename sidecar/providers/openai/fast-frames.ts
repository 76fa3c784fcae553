// The common OpenAI stream read, handled on bytes: whole `data: {...}\n\n` events, one line
// each, LF only, ending on an event boundary. Such a read needs no line decoding at all,
// and a plain text delta is forwarded as its original bytes. Anything else (a CR, a
// comment, an event: line, a read that ends mid-event) goes through the full SSE parser.

const LF = 0x0a;
const CR = 0x0d;
const DATA = Buffer.from('data: ');
const BLANK_LINE = Buffer.from('\n\n');
const CHOICES = Buffer.from('"choices":[{');
const CONTENT = Buffer.from('"content":"');
const FINISH = Buffer.from('"finish_reason":');
const USAGE = Buffer.from('"usage":');
const N = 0x6e; // the n of null
const QUOTE = 0x22;

/**
 * The whole single-line `data:` events at the front of a read, as [start, end) pairs of
 * their lines (without "\n\n"), and where the first byte the fast path cannot take is:
 * the read's length when it took everything, else the start of an unfinished or unusual
 * event, which the SSE parser then gets from there on. Reads with a CR are left whole to
 * the parser (CR line endings need its rules).
 */
export function simpleFrames(
  buf: Buffer,
  from: number,
  maxEventBytes: number,
): { bounds: number[]; rest: number } {
  const length = buf.length;
  const bounds: number[] = [];
  if (buf.indexOf(CR, from) !== -1) return { bounds, rest: from };

  let at = from;
  while (at < length) {
    if (length - at < DATA.length) break;
    if (buf.compare(DATA, 0, DATA.length, at, at + DATA.length) !== 0) break;
    const end = buf.indexOf(LF, at + DATA.length);
    if (end === -1 || end + 1 >= length || buf[end + 1] !== LF) break;
    if (end - at > maxEventBytes) break;
    bounds.push(at, end);
    at = end + 2;
  }
  return { bounds, rest: at };
}

/** Where the first blank line (an event boundary in an LF-only stream) ends, or -1. */
export function afterFirstBlankLine(buf: Buffer): number {
  const at = buf.indexOf(BLANK_LINE);
  return at === -1 ? -1 : at + 2;
}

/**
 * The bytes twin of the text check in stream-decoder.ts: one choice's text and nothing
 * else worth knowing (no finish, no usage). Quotes inside JSON strings are escaped, so
 * these unescaped patterns can only be keys.
 */
export function isPlainTextDeltaBytes(buf: Buffer, start: number, end: number): boolean {
  const from = start + DATA.length;
  if (buf[from] !== 0x7b) return false;
  const choices = within(buf.indexOf(CHOICES, from), end);
  if (choices === -1) return false;
  const at = within(buf.indexOf(CONTENT, choices), end);
  if (at === -1 || buf[at + CONTENT.length] === QUOTE) return false;

  const finish = within(buf.indexOf(FINISH, at), end);
  if (finish === -1 || buf[finish + FINISH.length] !== N) return false;
  const usage = within(buf.indexOf(USAGE, finish), end);
  if (usage !== -1 && buf[usage + USAGE.length] !== N) return false;
  const before = buf.subarray(from, choices).lastIndexOf(USAGE);
  return before === -1 || buf[from + before + USAGE.length] === N;
}

function within(index: number, end: number): number {
  return index !== -1 && index < end ? index : -1;
}
