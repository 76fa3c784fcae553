// Finds where a run of OpenAI stream events that match a learned chunk template ends, over
// ASCII bytes: the work sidecar/providers/openai/chunk-template.ts does on text, without
// decoding the read into a string first.
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
 * JSON string of ASCII characters stands there (no raw control character, no byte above 0x7f,
 * only the escapes JSON allows, \u with four hex digits), as skipJsonString in
 * sidecar/providers/openai/fast-frames.ts decides on text.
 */
function skipString(p: i32, end: i32): i32 {
  if (p >= end || load<u8>(inputAt + <usize>p) !== QUOTE) return -1;
  for (let i = p + 1; i < end; i++) {
    const c = load<u8>(inputAt + <usize>i);
    if (c === QUOTE) return i + 1;
    if (c < 0x20 || c > 0x7f) return -1;
    if (c === BACKSLASH) {
      if (++i >= end) return -1;
      const e = load<u8>(inputAt + <usize>i);
      if (e === 0x75) {
        if (i + 4 >= end) return -1;
        for (let h = 1; h <= 4; h++) if (!isHex(load<u8>(inputAt + <usize>(i + h)))) return -1;
        i += 4;
      } else if (!isEscape(e)) {
        return -1;
      }
    }
  }
  return -1;
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
