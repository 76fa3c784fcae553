// The OpenAI protocol's byte scans. Finds where a run of stream events that match a learned
// chunk template ends, over ASCII bytes: the work sidecar/providers/openai/chunk-template.ts
// does on text, without decoding the read into a string first. And reads a non-streamed
// answer, checked whole, and its usage (scanCompletion, at the end of this file).
//
// Layout, 16-byte aligned:
//
//   [static data][template: up to TEMPLATE_BYTES][input: one read, grown on demand]
//
// An event of the run is `data: ` + fixed[0] + "string" + fixed[1] [+ "string" + fixed[2]]
// + `\n\n`, where each "string" is a well-formed JSON string of ASCII characters. The host
// writes the fixed parts back to back at templateBase() and the read at inputBase(), then
// calls matchRun. Exported functions check their arguments once; the loops below them use
// raw loads, comparing 16 bytes at a time with a scalar tail.

import { ensureMemory, memoryBytes } from './lib/memory';

const ALIGN_MASK: usize = 15;
const TEMPLATE_BYTES: usize = 8192;
const MAX_PARTS: i32 = 3;

const QUOTE: u8 = 0x22;
const BACKSLASH: u8 = 0x5c;
const LF: u8 = 0x0a;

const templateAt: usize = (__heap_base + ALIGN_MASK) & ~ALIGN_MASK;
const inputAt: usize = templateAt + TEMPLATE_BYTES;

let partCount: i32 = 0;
let len0: i32 = 0;
let len1: i32 = 0;
let len2: i32 = 0;

export function templateBase(): usize {
  return templateAt;
}

/** The most template bytes the kernel holds; the host matches larger templates itself. */
export function templateCapacity(): i32 {
  return <i32>TEMPLATE_BYTES;
}

/** Makes room for a read of `bytes` and returns where the host writes it. */
export function inputReserve(bytes: i32): usize {
  if (bytes < 0) abort('bytes must not be negative');
  ensureMemory(<u64>inputAt + <u64>bytes);
  return inputAt;
}

/** The template's fixed parts, as laid at templateBase(): 2 or 3 of them. */
export function setTemplate(count: i32, a: i32, b: i32, c: i32): void {
  if (count < 2 || count > MAX_PARTS) abort('a template has 2 or 3 fixed parts');
  if (a < 0 || b < 0 || c < 0) abort('part lengths must not be negative');
  if (<i64>a + <i64>b + <i64>(count === 3 ? c : 0) > <i64>TEMPLATE_BYTES) {
    abort('the template is larger than its region');
  }
  partCount = count;
  len0 = a;
  len1 = b;
  len2 = count === 3 ? c : 0;
}

/**
 * Where the run of matching events from `at` ends, `at` itself when the first event there
 * does not match; offsets are into the read at inputBase(), which holds `end` bytes. An event
 * longer than `maxEventBytes` ends the run.
 */
export function matchRun(at: i32, end: i32, maxEventBytes: i32): i32 {
  if (partCount === 0) abort('no template set');
  if (at < 0 || end < at) abort('at and end must satisfy 0 <= at <= end');
  if (<u64>inputAt + <u64>end > memoryBytes()) abort('end is past the read');

  let next = at;
  while (isDataPrefix(next, end)) {
    let p = next;
    p += 6;
    p = fixedAt(p, end, templateAt, len0);
    if (p < 0) return next;
    p = skipString(p, end);
    if (p < 0) return next;
    p = fixedAt(p, end, templateAt + <usize>len0, len1);
    if (p < 0) return next;
    if (partCount === 3) {
      p = skipString(p, end);
      if (p < 0) return next;
      p = fixedAt(p, end, templateAt + <usize>len0 + <usize>len1, len2);
      if (p < 0) return next;
    }
    if (p + 2 > end) return next;
    if (load<u8>(inputAt + <usize>p) !== LF || load<u8>(inputAt + <usize>p + 1) !== LF) {
      return next;
    }
    if (p - next > maxEventBytes) return next;
    next = p + 2;
  }
  return next;
}

// `data: ` read as one little-endian u32 ("data") and one u16 (": ").
function isDataPrefix(p: i32, end: i32): bool {
  if (p + 6 > end) return false;
  const at = inputAt + <usize>p;
  return load<u32>(at) === 0x61746164 && load<u16>(at + 4) === 0x203a;
}

/** p + n when the n bytes at p equal the template bytes at `part`; -1 otherwise. */
function fixedAt(p: i32, end: i32, part: usize, n: i32): i32 {
  if (p + n > end) return -1;
  const at = inputAt + <usize>p;
  let k: i32 = 0;
  for (; k + 16 <= n; k += 16) {
    const same = i8x16.eq(v128.load(at + <usize>k), v128.load(part + <usize>k));
    if (!i8x16.all_true(same)) return -1;
  }
  for (; k < n; k++) {
    if (load<u8>(at + <usize>k) !== load<u8>(part + <usize>k)) return -1;
  }
  return p + n;
}

/**
 * From an opening quote at p, the offset just past the closing one; -1 unless a well-formed
 * JSON string stands there (no raw control character, only the escapes JSON allows, \u with
 * four hex digits), as skipJsonString in sidecar/providers/openai/fast-frames.ts decides on
 * text. The host loads only ASCII reads for runs; an answer's strings may hold UTF-8.
 */
function skipString(p: i32, end: i32): i32 {
  if (p >= end || load<u8>(inputAt + <usize>p) !== QUOTE) return -1;
  const close = stringEnd(p + 1, end);
  return close < 0 ? -1 : close + 1;
}

function isEscape(c: u8): bool {
  return (
    c === 0x22 ||
    c === 0x5c ||
    c === 0x2f ||
    c === 0x62 ||
    c === 0x66 ||
    c === 0x6e ||
    c === 0x72 ||
    c === 0x74
  );
}

function isHex(c: u8): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

// ---------------------------------------------------------------------------------------
// A whole chat completion (a non-streamed answer) at inputBase(): is it a JSON object whose
// `choices` is an array, and what does its `usage` hold? The host asks this instead of
// parsing the answer, which it forwards as it came. The top level is walked member by member,
// pretty-printed or not, and every value in it is checked as JSON spells it.
// Anything this walk does not read with certainty (an escaped key, a usage it cannot read,
// nesting deeper than MAX_NESTING) answers 0, and the host parses the answer instead.

const OPEN_OBJECT: u8 = 0x7b;
const CLOSE_OBJECT: u8 = 0x7d;
const OPEN_ARRAY: u8 = 0x5b;
const CLOSE_ARRAY: u8 = 0x5d;
const COLON: u8 = 0x3a;
const COMMA: u8 = 0x2c;
const ZERO: u8 = 0x30;
const NINE: u8 = 0x39;
const MAX_NESTING: i32 = 256;

// The usage figures, in the host's order (NaN: absent).
const PROMPT: i32 = 0;
const COMPLETION: i32 = 1;
const TOTAL: i32 = 2;
const CACHED: i32 = 3;
const REASONING: i32 = 4;
const figuresAt: usize = memory.data(8 * 5, 16);
const closersAt: usize = memory.data(MAX_NESTING, 16);

// Usage keys, as the scan names them.
const KEY_OTHER: i32 = -1;
const KEY_PROMPT_DETAILS: i32 = 5;
const KEY_COMPLETION_DETAILS: i32 = 6;

/** Where scanCompletion writes the five usage figures, as f64 (NaN when absent). */
export function figuresBase(): usize {
  return figuresAt;
}

/**
 * 1 when the `len` bytes at inputBase() are one JSON object whose last `choices` member is
 * an array, whose last `error` member (if any) is null, and whose last `usage` member is
 * absent, null, or an object of whole numbers (and `prompt_tokens_details` /
 * `completion_tokens_details` one level down) read into the figures; 0 when the host must
 * parse the answer to know.
 */
export function scanCompletion(len: i32): i32 {
  if (len < 0 || <u64>inputAt + <u64>len > memoryBytes()) abort('len is past the read');
  clearFigures();
  let p = space(0, len);
  if (p >= len || byteAt(p) !== OPEN_OBJECT) return 0;
  p = space(p + 1, len);
  if (p >= len || byteAt(p) === CLOSE_OBJECT) return 0; // no choices
  let choicesArray = false;
  let failed = false;
  while (true) {
    if (byteAt(p) !== QUOTE) return 0;
    const keyStart = p + 1;
    const keyEnd = plainKeyEnd(keyStart, len);
    if (keyEnd < 0) return 0;
    p = space(keyEnd + 1, len);
    if (p >= len || byteAt(p) !== COLON) return 0;
    p = space(p + 1, len);
    if (p >= len) return 0;
    const keyLen = keyEnd - keyStart;
    if (keyLen === 5 && same(keyStart, 'usage')) {
      clearFigures();
      if (byteAt(p) === OPEN_OBJECT) p = scanUsage(p, len);
      else p = isNull(p, len) ? p + 4 : -1;
    } else {
      if (keyLen === 7 && same(keyStart, 'choices')) choicesArray = byteAt(p) === OPEN_ARRAY;
      // An error beside the choices (OpenRouter's failed answer): the host parses and says so.
      // As with choices, the last member of the name counts.
      if (keyLen === 5 && same(keyStart, 'error')) failed = !isNull(p, len);
      p = skipValue(p, len);
    }
    if (p < 0) return 0;
    p = space(p, len);
    if (p >= len) return 0;
    const c = byteAt(p);
    if (c === COMMA) {
      p = space(p + 1, len);
      if (p >= len) return 0;
      continue;
    }
    if (c !== CLOSE_OBJECT) return 0;
    break;
  }
  if (space(p + 1, len) !== len) return 0;
  return choicesArray && !failed ? 1 : 0;
}

function byteAt(p: i32): u8 {
  return load<u8>(inputAt + <usize>p);
}

function space(p: i32, len: i32): i32 {
  while (p < len) {
    const c = byteAt(p);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    p++;
  }
  return p;
}

function clearFigures(): void {
  for (let i = 0; i < 5; i++) store<f64>(figuresAt + (<usize>i << 3), NaN);
}

function setFigure(which: i32, value: f64): void {
  store<f64>(figuresAt + (<usize>which << 3), value);
}

function isNull(p: i32, len: i32): bool {
  return (
    p + 4 <= len &&
    byteAt(p) === 0x6e &&
    byteAt(p + 1) === 0x75 &&
    byteAt(p + 2) === 0x6c &&
    byteAt(p + 3) === 0x6c
  );
}

/** The closing quote of a key from `at`, or -1: a key with an escape is not read here. */
function plainKeyEnd(at: i32, len: i32): i32 {
  const i = nextSpecial(at, len);
  return i < len && byteAt(i) === QUOTE ? i : -1;
}

/** The first quote, backslash or control character from `at`; `len` when there is none. */
function nextSpecial(at: i32, len: i32): i32 {
  const quote = i8x16.splat(<i8>QUOTE);
  const backslash = i8x16.splat(<i8>BACKSLASH);
  const control = i8x16.splat(0x20);
  let i = at;
  while (i + 16 <= len) {
    const v = v128.load(inputAt + <usize>i);
    const special = v128.or(
      v128.or(i8x16.eq(v, quote), i8x16.eq(v, backslash)),
      i8x16.lt_u(v, control),
    );
    const mask = i8x16.bitmask(special);
    if (mask !== 0) return i + ctz(mask);
    i += 16;
  }
  while (i < len) {
    const c = byteAt(i);
    if (c === QUOTE || c === BACKSLASH || c < 0x20) return i;
    i++;
  }
  return len;
}

/**
 * From just after an opening quote, the index of the closing quote, or -1 when no JSON
 * string stands there (a raw control character, a bad escape, no end). Bytes above 0x7f are
 * UTF-8 text.
 */
function stringEnd(at: i32, len: i32): i32 {
  let i = at;
  while (true) {
    i = nextSpecial(i, len);
    if (i >= len) return -1;
    const c = byteAt(i);
    if (c === QUOTE) return i;
    if (c < 0x20) return -1;
    // A backslash: the escape after it.
    if (i + 1 >= len) return -1;
    const e = byteAt(i + 1);
    if (e === 0x75) {
      if (i + 5 >= len) return -1;
      for (let h = 2; h <= 5; h++) if (!isHex(byteAt(i + h))) return -1;
      i += 6;
    } else if (isEscape(e)) {
      i += 2;
    } else {
      return -1;
    }
  }
  return -1; // not reached: the loop returns
}

/** Past the value at p (strings checked, nested brackets matched), or -1. */
function skipValue(p: i32, len: i32): i32 {
  const c = byteAt(p);
  if (c === QUOTE) return skipString(p, len);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) return skipNested(p, len);
  return skipScalar(p, len);
}

/**
 * Past the object or array at p, or -1 unless it is well-formed JSON: members and elements
 * checked one by one (strings, numbers and words as JSON spells them, a comma between each
 * two, a colon after each key, every bracket closed by its pair), so that a body the walk
 * accepts is one JSON.parse accepts.
 */
function skipNested(p: i32, len: i32): i32 {
  let depth = 0;
  let i = p;
  while (true) {
    // A value starts at i.
    if (i >= len) return -1;
    let c = byteAt(i);
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === MAX_NESTING) return -1;
      const closer = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
      store<u8>(closersAt + <usize>depth, closer);
      depth++;
      i = space(i + 1, len);
      if (i >= len) return -1;
      if (byteAt(i) !== closer) {
        if (closer === CLOSE_OBJECT) i = memberValue(i, len);
        if (i < 0) return -1;
        continue;
      }
      // Empty: i is on its closer, which the loop below takes.
    } else if (c === QUOTE) {
      i = skipString(i, len);
      if (i < 0) return -1;
    } else {
      i = skipScalar(i, len);
      if (i < 0) return -1;
    }
    // Past a value: close what ends here, then on to the next member or element.
    while (true) {
      if (depth === 0) return i;
      i = space(i, len);
      if (i >= len) return -1;
      c = byteAt(i);
      const closer = load<u8>(closersAt + <usize>(depth - 1));
      if (c === COMMA) {
        i = space(i + 1, len);
        if (closer === CLOSE_OBJECT) i = memberValue(i, len);
        if (i < 0) return -1;
        break;
      }
      if (c !== closer) return -1;
      depth--;
      i++;
    }
  }
  return -1; // not reached: the loops return
}

/** From a member's key at i, where its value starts, or -1 unless `"key" :` stands there. */
function memberValue(i: i32, len: i32): i32 {
  const end = skipString(i, len);
  if (end < 0) return -1;
  i = space(end, len);
  if (i >= len || byteAt(i) !== COLON) return -1;
  return space(i + 1, len);
}

/** Past `true`, `false`, `null` or a JSON number at p, or -1. */
function skipScalar(p: i32, len: i32): i32 {
  const c = byteAt(p);
  if (c === 0x74) return word(p, len, 0x65757274, 4); // true
  if (c === 0x6e) return word(p, len, 0x6c6c756e, 4); // null
  if (c === 0x66) return p + 5 <= len && byteAt(p + 4) === 0x65 ? word(p, len, 0x736c6166, 5) : -1; // false
  let i = p;
  if (byteAt(i) === 0x2d) i++;
  if (i >= len) return -1;
  const first = byteAt(i);
  if (first === ZERO) i++;
  else if (first >= 0x31 && first <= NINE) i = digitsEnd(i + 1, len);
  else return -1;
  if (i < len && byteAt(i) === 0x2e) {
    const end = digitsEnd(i + 1, len);
    if (end === i + 1) return -1;
    i = end;
  }
  if (i < len && (byteAt(i) === 0x65 || byteAt(i) === 0x45)) {
    let j = i + 1;
    if (j < len && (byteAt(j) === 0x2b || byteAt(j) === 0x2d)) j++;
    const end = digitsEnd(j, len);
    if (end === j) return -1;
    i = end;
  }
  return i;
}

/** p + n when the n bytes at p spell the word (its first four bytes little-endian in `head`). */
function word(p: i32, len: i32, head: u32, n: i32): i32 {
  if (p + n > len || load<u32>(inputAt + <usize>p) !== head) return -1;
  return p + n;
}

function digitsEnd(i: i32, len: i32): i32 {
  while (i < len && byteAt(i) >= ZERO && byteAt(i) <= NINE) i++;
  return i;
}

/**
 * The usage object at `open` into the figures, read as the host's usage reader reads the
 * parsed object; past its end, or -1 when it holds what this scan does not read exactly: an
 * escaped key, or a figure written as a fraction, with an exponent or a sign, or with over 15
 * digits. Values under keys it does not read are skipped, whatever they are. As JSON.parse
 * does, a later key of the same name replaces an earlier one.
 */
function scanUsage(open: i32, len: i32): i32 {
  // Inside a details object: which one (KEY_OTHER at the top of the usage object).
  let parent = KEY_OTHER;
  let i = space(open + 1, len);
  if (i >= len) return -1;
  if (byteAt(i) === CLOSE_OBJECT) return i + 1;
  while (true) {
    if (i >= len || byteAt(i) !== QUOTE) return -1;
    const keyStart = i + 1;
    const keyEnd = plainKeyEnd(keyStart, len);
    if (keyEnd < 0) return -1;
    const key = usageKey(keyStart, keyEnd - keyStart);
    i = space(keyEnd + 1, len);
    if (i >= len || byteAt(i) !== COLON) return -1;
    i = space(i + 1, len);
    if (i >= len) return -1;
    if (parent === KEY_OTHER) {
      if (key === PROMPT || key === COMPLETION || key === TOTAL) {
        i = readFigure(i, len, key);
      } else if (key === KEY_PROMPT_DETAILS || key === KEY_COMPLETION_DETAILS) {
        // Whatever the key held before, its details are these; anything but an object: none.
        setFigure(key === KEY_PROMPT_DETAILS ? CACHED : REASONING, NaN);
        if (byteAt(i) === OPEN_OBJECT) {
          parent = key;
          i = space(i + 1, len);
          if (i >= len) return -1;
          if (byteAt(i) !== CLOSE_OBJECT) continue;
          // An empty details object closes at once: handled below with the others.
        } else {
          i = skipValue(i, len);
        }
      } else {
        i = skipValue(i, len);
      }
    } else if (parent === KEY_PROMPT_DETAILS && key === CACHED) {
      i = readFigure(i, len, CACHED);
    } else if (parent === KEY_COMPLETION_DETAILS && key === REASONING) {
      i = readFigure(i, len, REASONING);
    } else {
      i = skipValue(i, len);
    }
    if (i < 0) return -1;
    i = space(i, len);
    if (i >= len) return -1;
    const c = byteAt(i);
    if (c === COMMA) {
      i = space(i + 1, len);
      continue;
    }
    if (c !== CLOSE_OBJECT) return -1;
    if (parent === KEY_OTHER) return i + 1;
    // The details object closed at i: back to the usage object.
    parent = KEY_OTHER;
    i = space(i + 1, len);
    if (i >= len) return -1;
    if (byteAt(i) === COMMA) {
      i = space(i + 1, len);
      continue;
    }
    if (byteAt(i) !== CLOSE_OBJECT) return -1;
    return i + 1;
  }
  return -1; // not reached: the loop returns
}

/**
 * The value at i into figure `which`, as the usage reader takes a number: a whole number is
 * the figure; null, a string, `true`, `false`, an array or an object is none. Past the
 * value, or -1 for a number this scan cannot read exactly (a fraction, an exponent, a sign,
 * over 15 digits; the host then parses the answer).
 */
function readFigure(i: i32, len: i32, which: i32): i32 {
  const c = byteAt(i);
  if (c === 0x2d) return -1;
  if (c < ZERO || c > NINE) {
    setFigure(which, NaN);
    return skipValue(i, len);
  }
  // At most 15 digits: exact as a double, as JSON.parse reads it.
  const start = i;
  let value: f64 = 0;
  while (i < len && byteAt(i) >= ZERO && byteAt(i) <= NINE) {
    value = value * 10 + <f64>(byteAt(i) - ZERO);
    i++;
  }
  if (i - start > 15 || (c === ZERO && i - start > 1)) return -1;
  if (i < len) {
    const after = byteAt(i);
    if (after === 0x2e || after === 0x65 || after === 0x45) return -1; // . e E
  }
  setFigure(which, value);
  return i;
}

/** Which usage key the bytes spell: a figure's index, a details object, or KEY_OTHER. */
function usageKey(at: i32, n: i32): i32 {
  if (n === 13 && same(at, 'prompt_tokens')) return PROMPT;
  if (n === 17 && same(at, 'completion_tokens')) return COMPLETION;
  if (n === 12 && same(at, 'total_tokens')) return TOTAL;
  if (n === 21 && same(at, 'prompt_tokens_details')) return KEY_PROMPT_DETAILS;
  if (n === 25 && same(at, 'completion_tokens_details')) return KEY_COMPLETION_DETAILS;
  if (n === 13 && same(at, 'cached_tokens')) return CACHED;
  if (n === 16 && same(at, 'reasoning_tokens')) return REASONING;
  return KEY_OTHER;
}

function same(at: i32, name: string): bool {
  for (let k = 0; k < name.length; k++) {
    if (<u32>byteAt(at + k) !== <u32>name.charCodeAt(k)) return false;
  }
  return true;
}
