// The common OpenAI stream read, handled on bytes: whole `data: {...}\n\n` events, one line
// each, LF only, ending on an event boundary. Such a read needs no line decoding at all,
// and a plain text delta is forwarded as its original bytes. Anything else (a CR, a
// comment, an event: line, a read that ends mid-event) goes through the full SSE parser.

const LF = 0x0a;
const CR = 0x0d;
const DATA = Buffer.from('data: ');
const CHOICES = Buffer.from('"choices":[{');
const CONTENT = Buffer.from('"content":"');
const FINISH = Buffer.from('"finish_reason":');
const USAGE = Buffer.from('"usage":');
const N = 0x6e; // the n of null
const QUOTE = 0x22;

/** [start, end) of each event's line (without its "\n\n"), or undefined when not simple. */
export function simpleFrames(buf: Buffer, maxEventBytes: number): number[] | undefined {
  const length = buf.length;
  if (length < 8 || buf[length - 1] !== LF || buf[length - 2] !== LF) return undefined;
  if (buf.indexOf(CR) !== -1) return undefined;

  const bounds: number[] = [];
  let at = 0;
  while (at < length) {
    if (buf.compare(DATA, 0, DATA.length, at, at + DATA.length) !== 0) return undefined;
    const end = buf.indexOf(LF, at + DATA.length);
    if (end === -1 || buf[end + 1] !== LF || end - at > maxEventBytes) return undefined;
    bounds.push(at, end);
    at = end + 2;
  }
  return bounds;
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
