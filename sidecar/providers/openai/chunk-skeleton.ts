// A stream's role, first-token, finish and usage chunks are the same text from one stream to
// the next but for a few values: the completion id, the second it was created, the model,
// the fingerprint, the token text, the token counts. A skeleton is the text of one such chunk
// that was parsed in full, with those values cut out as holes. A later chunk that is the
// skeleton's text with other well-formed values in the holes means what the parsed chunk
// meant, so the decoder takes its shape and finish from the skeleton and its usage from the
// holes, without JSON.parse (four parses per stream were the largest part of the decoder's
// cost).
//
// Why a match means the same: the parsed chunk was valid JSON with no duplicate and no
// escaped keys, so each hole is a whole value at one path (a list of keys, compared key by
// key: a key may hold a dot). Another well-formed JSON
// string or number in its place leaves valid JSON whose every other token is the parsed
// chunk's, so whatever is read from those other paths (choices, deltas, finish reasons,
// errors) reads the same. Holes are the strings and numbers the decoder's reading never
// looks at (everything outside `choices`, `usage` and `error`), and two it does look at,
// read back from the hole: a delta's text, which must not be empty (an empty one would not
// show), and the numbers inside `usage`, which give the token counts.

import type { ChunkShape, Usage } from '../adapter.js';
import { skipJsonString } from './fast-frames.js';
import { tokenCount } from '../token-count.js';
import { usageOf } from './usage.js';

const enum Hole {
  /** Any well-formed JSON string. */
  String,
  /** A JSON string holding at least one character. */
  Text,
  /** A JSON number. */
  Number,
}

/**
 * The usage figures the decoder reads, in usageOf's order, each as its keys below `usage`
 * (kept apart: a key may itself hold a dot).
 */
const USAGE_PATHS: readonly (readonly string[])[] = [
  ['prompt_tokens'],
  ['completion_tokens'],
  ['total_tokens'],
  ['prompt_tokens_details', 'cached_tokens'],
  ['completion_tokens_details', 'reasoning_tokens'],
];
const NO_SLOT = -1;

/** Delta fields whose non-empty text makes a chunk one a client would show. */
const TEXT_FIELDS = new Set(['content', 'reasoning_content', 'reasoning', 'refusal']);

/** More holes than this and the chunk is not learned (a usage chunk has about a dozen). */
const MAX_HOLES = 32;
/** Deeper than this and the chunk is not learned (chat chunks nest four or five deep). */
const MAX_DEPTH = 16;
/**
 * A longer chunk is not learned: a book keeps its skeletons for the life of the provider,
 * and chat chunks are a few hundred characters.
 */
const MAX_CHARS = 4096;
/** Past its first skeletons, a book may learn one more for every this many recognitions. */
const LEARN_EVERY = 8;
/**
 * After this many chunks in a row that no skeleton recognised (chunks that never repeat, as
 * with log probabilities), a book tries only every PROBE_EVERY-th chunk until one is.
 */
const MISS_STREAK = 64;
const PROBE_EVERY = 16;

/** What the full reading of the learned chunk found, shared by every chunk that matches. */
export interface ChunkMeaning {
  readonly shape: ChunkShape;
  readonly finished: readonly number[] | undefined;
  /** One choice whose delta has text: a chunk a run template may be learned from. */
  readonly hasText: boolean;
}

/** A chunk a skeleton recognised: what its skeleton's chunk meant, and its own usage. */
export interface Recognised {
  readonly meaning: ChunkMeaning;
  readonly usage: Usage | undefined;
}

/** Hole spans of the chunk being matched: start and end of hole i at 2i and 2i+1. */
const spans = new Int32Array(2 * MAX_HOLES);

export class ChunkSkeleton {
  /** When it last recognised a chunk, on its book's clock. */
  lastUsed = 0;

  private constructor(
    /** The text around the holes: literals.length === holes.length + 1. */
    private readonly literals: readonly string[],
    private readonly holes: readonly Hole[],
    /** For each of USAGE_PATHS, the hole holding it, or NO_SLOT. */
    private readonly usageSlots: readonly number[],
    readonly meaning: ChunkMeaning,
  ) {}

  /**
   * A skeleton of `data`, the text of a chunk that JSON.parse read as an object and the
   * decoder found to mean `meaning`; undefined when its holes could not be told apart with
   * certainty (a duplicate or escaped key), or it is more than one line, too deep, too long,
   * or has too many holes.
   */
  static learn(data: string, meaning: ChunkMeaning): ChunkSkeleton | undefined {
    if (data.length > MAX_CHARS || data.includes('\n') || data.includes('\r')) return undefined;
    const walk = new Walk(data);
    if (!walk.value(0) || walk.skipSpace() !== data.length) return undefined;
    const { cuts } = walk;
    if (cuts.length > MAX_HOLES) return undefined;
    const literals: string[] = [];
    let from = 0;
    for (const cut of cuts) {
      literals.push(ownCopy(data.slice(from, cut.start)));
      from = cut.end;
    }
    literals.push(ownCopy(data.slice(from)));
    const slots = USAGE_PATHS.map((_, slot) => cuts.findIndex((cut) => cut.usageSlot === slot));
    return new ChunkSkeleton(
      literals,
      cuts.map((cut) => cut.hole),
      slots,
      meaning,
    );
  }

  /** What `data` means when it is this skeleton with well-formed values in its holes. */
  recognise(data: string): Recognised | undefined {
    const { literals, holes } = this;
    // The end first: it tells most skeletons of a stream apart at once.
    const last = literals[holes.length];
    // A slice compared with === is a memcmp (see chunk-template.ts).
    if (data.slice(data.length - last.length) !== last) return undefined;
    let p = 0;
    for (let i = 0; i < holes.length; i++) {
      const literal = literals[i];
      if (data.slice(p, p + literal.length) !== literal) return undefined;
      const start = p + literal.length;
      const hole = holes[i];
      p = hole === Hole.Number ? skipJsonNumber(data, start) : skipJsonString(data, start);
      if (p === -1 || (hole === Hole.Text && p - start <= 2)) return undefined;
      spans[2 * i] = start;
      spans[2 * i + 1] = p;
    }
    if (data.length !== p + last.length) return undefined;
    const slots = this.usageSlots;
    // No prompt or completion figure (every chunk but the usage one): no usage to read.
    if (slots[0] === NO_SLOT && slots[1] === NO_SLOT)
      return { meaning: this.meaning, usage: undefined };
    const usage = usageOf(
      figure(data, slots[0]),
      figure(data, slots[1]),
      figure(data, slots[2]),
      figure(data, slots[3]),
      figure(data, slots[4]),
    );
    return { meaning: this.meaning, usage };
  }
}

/** The number in hole `hole` of the chunk just matched, as the usage reader reads it. */
function figure(data: string, hole: number): number | undefined {
  if (hole === NO_SLOT) return undefined;
  return tokenCount(Number(data.slice(spans[2 * hole], spans[2 * hole + 1])));
}

/**
 * A copy of `text` that holds none of the string it was sliced from (V8 may keep a slice as
 * a view of its parent, here a whole read, for as long as the skeleton lives).
 */
function ownCopy(text: string): string {
  return (' ' + text).slice(1);
}

/**
 * The skeletons an endpoint's streams taught, shared by every stream to it. Bounded: when
 * full, a new skeleton takes the place of the one unused for longest. It pays for itself:
 * past its first `capacity` lessons a book takes one more for every LEARN_EVERY chunks it
 * recognised, and after a long run of misses it mostly stops looking, so an endpoint whose
 * chunks never repeat costs little more than one without a book. (Skipping a look changes
 * nothing but the cost: the chunk is parsed.)
 */
export class SkeletonBook {
  private readonly skeletons: ChunkSkeleton[] = [];
  /** Chunks recognised so far, by any skeleton: the clock of lastUsed. */
  recognised = 0;
  private lessons = 0;
  /** Chunks since the last one recognised. */
  private misses = 0;
  /** Where the next look starts. */
  private next = 0;

  constructor(private readonly capacity = 16) {}

  recognise(data: string): Recognised | undefined {
    const misses = this.misses;
    this.misses = misses + 1;
    if (misses >= MISS_STREAK && misses % PROBE_EVERY !== 0) return undefined;
    const { skeletons } = this;
    const count = skeletons.length;
    // From the one after the last that matched: a stream's chunks come in the order they
    // were learned (role, text, finish, usage), so that one usually matches at once. No two
    // skeletons that differ in meaning match the same chunk, so the order is only a cost.
    for (let k = 0, i = this.next; k < count; k++, i = i + 1 === count ? 0 : i + 1) {
      const skeleton = skeletons[i];
      const known = skeleton.recognise(data);
      if (known !== undefined) {
        skeleton.lastUsed = ++this.recognised;
        this.misses = 0;
        this.next = i + 1 === count ? 0 : i + 1;
        return known;
      }
    }
    return undefined;
  }

  learn(data: string, meaning: ChunkMeaning): void {
    if (this.lessons >= this.capacity + this.recognised / LEARN_EVERY) return;
    this.lessons++;
    const skeleton = ChunkSkeleton.learn(data, meaning);
    if (skeleton === undefined) return;
    skeleton.lastUsed = this.recognised;
    if (this.skeletons.length < this.capacity) {
      this.skeletons.push(skeleton);
      return;
    }
    let stalest = 0;
    for (let i = 1; i < this.skeletons.length; i++) {
      if (this.skeletons[i].lastUsed < this.skeletons[stalest].lastUsed) stalest = i;
    }
    this.skeletons[stalest] = skeleton;
  }

  get size(): number {
    return this.skeletons.length;
  }
}

interface Cut {
  start: number;
  end: number;
  hole: Hole;
  /** Which of USAGE_PATHS the value is, or NO_SLOT. */
  usageSlot: number;
}

/**
 * Walks the text of a valid JSON value, noting the values that become holes. Fails (false)
 * on what would make a path ambiguous: a duplicate key, a key with an escape.
 */
class Walk {
  readonly cuts: Cut[] = [];
  private readonly path: (string | number)[] = [];
  private at = 0;

  constructor(private readonly text: string) {}

  skipSpace(): number {
    const { text } = this;
    while (this.at < text.length) {
      const c = text.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.at++;
    }
    return this.at;
  }

  value(depth: number): boolean {
    if (depth > MAX_DEPTH) return false;
    const { text } = this;
    const start = this.skipSpace();
    const c = text.charCodeAt(start);
    if (c === 0x7b) return this.object(depth);
    if (c === 0x5b) return this.array(depth);
    if (c === 0x22) {
      const end = skipJsonString(text, start);
      if (end === -1) return false;
      this.at = end;
      this.noteString(start, end);
      return true;
    }
    const end = skipJsonNumber(text, start);
    if (end !== -1) {
      this.at = end;
      this.noteNumber(start, end);
      return true;
    }
    for (const word of WORDS) {
      if (text.startsWith(word, start)) {
        this.at = start + word.length;
        return true;
      }
    }
    return false;
  }

  private object(depth: number): boolean {
    const { text } = this;
    if (this.opensEmpty(0x7d)) return true;
    const keys = new Set<string>();
    for (;;) {
      const start = this.skipSpace();
      const end = skipJsonString(text, start);
      if (end === -1) return false;
      const key = text.slice(start + 1, end - 1);
      if (key.includes('\\') || keys.has(key)) return false;
      keys.add(key);
      this.at = end;
      if (text.charCodeAt(this.skipSpace()) !== 0x3a) return false;
      this.at++;
      const next = this.member(key, depth, 0x7d);
      if (next !== Next.More) return next === Next.Closed;
    }
  }

  private array(depth: number): boolean {
    if (this.opensEmpty(0x5d)) return true;
    for (let index = 0; ; index++) {
      const next = this.member(index, depth, 0x5d);
      if (next !== Next.More) return next === Next.Closed;
    }
  }

  /** Past the opening bracket; true, and past the closing one too, when nothing is between. */
  private opensEmpty(close: number): boolean {
    this.at++;
    if (this.text.charCodeAt(this.skipSpace()) !== close) return false;
    this.at++;
    return true;
  }

  /** The value at `step` below the current path, then what follows it: a comma or `close`. */
  private member(step: string | number, depth: number, close: number): Next {
    this.path.push(step);
    const ok = this.value(depth + 1);
    this.path.pop();
    if (!ok) return Next.Bad;
    const next = this.text.charCodeAt(this.skipSpace());
    this.at++;
    return next === close ? Next.Closed : next === 0x2c ? Next.More : Next.Bad;
  }

  /** The string at [start, end) is a hole when the decoder never reads it, or a delta's text. */
  private noteString(start: number, end: number): void {
    const path = this.path;
    if (unread(path)) {
      this.cuts.push({ start, end, hole: Hole.String, usageSlot: NO_SLOT });
      return;
    }
    const isText =
      path.length === 4 &&
      path[0] === 'choices' &&
      path[2] === 'delta' &&
      TEXT_FIELDS.has(path[3] as string);
    // An empty text stays as it is: a chunk with none is another shape of chunk.
    if (isText && end - start > 2) {
      this.cuts.push({ start, end, hole: Hole.Text, usageSlot: NO_SLOT });
    }
  }

  /** The number at [start, end) is a hole when the decoder never reads it, or a usage figure. */
  private noteNumber(start: number, end: number): void {
    const path = this.path;
    if (unread(path)) {
      this.cuts.push({ start, end, hole: Hole.Number, usageSlot: NO_SLOT });
      return;
    }
    // `usage` itself stays: a number there would make the chunk truthy or not by its value.
    if (path.length < 2 || path[0] !== 'usage') return;
    const below = path.slice(1);
    const usageSlot = USAGE_PATHS.findIndex(
      (keys) => keys.length === below.length && keys.every((key, i) => key === below[i]),
    );
    this.cuts.push({ start, end, hole: Hole.Number, usageSlot });
  }
}

/**
 * A value the decoder's reading of a chunk never looks at: anything outside `choices`,
 * `usage` and `error` (the id, `created`, the model, the fingerprint, OpenAI's obfuscation,
 * a vendor's own fields such as Groq's `x_groq`).
 */
function unread(path: readonly (string | number)[]): boolean {
  const top = path[0];
  return top !== 'choices' && top !== 'usage' && top !== 'error';
}

const WORDS = ['true', 'false', 'null'];

const enum Next {
  More,
  Closed,
  Bad,
}

/**
 * From `at`, the index just past a JSON number (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE]
 * [+-]? [0-9]+)?`, the longest that fits); -1 when none starts there.
 */
export function skipJsonNumber(text: string, at: number): number {
  let i = at;
  if (text.charCodeAt(i) === 0x2d) i++;
  const first = text.charCodeAt(i);
  if (first === 0x30) i++;
  else if (first >= 0x31 && first <= 0x39) i = digits(text, i + 1);
  else return -1;
  if (text.charCodeAt(i) === 0x2e) {
    const end = digits(text, i + 1);
    if (end === i + 1) return -1;
    i = end;
  }
  const e = text.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    let j = i + 1;
    const sign = text.charCodeAt(j);
    if (sign === 0x2b || sign === 0x2d) j++;
    const end = digits(text, j);
    if (end === j) return -1;
    i = end;
  }
  return i;
}

function digits(text: string, at: number): number {
  let i = at;
  for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i));
  return i;
}
