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
// escaped keys, so each hole is a whole value at one known path. Another well-formed JSON
// string or number in its place leaves valid JSON whose every other token is the parsed
// chunk's, so whatever is read from those other paths (choices, deltas, finish reasons,
// errors) reads the same. Only values the decoder's reading does not look at become holes,
// and the ones it does look at are read back from the hole: a token's text must not be
// empty (an empty one would not show), and token counts are numbers taken from their text.

import type { ChunkShape, Usage } from '../adapter.js';
import { skipJsonString } from './fast-frames.js';
import { usageOf } from './usage.js';

const enum Hole {
  /** Any well-formed JSON string. */
  String,
  /** A JSON string holding at least one character. */
  Text,
  /** A JSON number. */
  Number,
}

/** The usage figures the decoder reads, in usageOf's order. */
const USAGE_PATHS = [
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'prompt_tokens_details.cached_tokens',
  'completion_tokens_details.reasoning_tokens',
];
const NO_SLOT = -1;

/** Top-level strings that say nothing the decoder reads. */
const LABELS = new Set(['id', 'model', 'system_fingerprint', 'obfuscation']);
/** Delta fields whose non-empty text makes a chunk one a client would show. */
const TEXT_FIELDS = new Set(['content', 'reasoning_content', 'reasoning', 'refusal']);

/** More holes than this and the chunk is not learned (a usage chunk has about a dozen). */
const MAX_HOLES = 32;
/** Deeper than this and the chunk is not learned (chat chunks nest four or five deep). */
const MAX_DEPTH = 16;

/** What the full reading of the learned chunk found, shared by every chunk that matches. */
export interface ChunkMeaning {
  readonly shape: ChunkShape;
  readonly finished: readonly number[] | undefined;
  /** One choice whose delta has text: a chunk a run template may be learned from. */
  readonly hasText: boolean;
}

export class ChunkSkeleton {
  /** Hole spans of the last successful match: start and end of hole i at 2i and 2i+1. */
  static readonly spans = new Int32Array(2 * MAX_HOLES);

  /** Chunks recognised by it; the book keeps the most useful. */
  hits = 0;

  private constructor(
    /** The text around the holes: literals.length === holes.length + 1. */
    private readonly literals: readonly string[],
    private readonly holes: readonly Hole[],
    /** For each of USAGE_PATHS, the hole holding it, or NO_SLOT. */
    private readonly usageSlots: readonly number[],
    /** The chunk's `usage` is an object (else usage reads as absent whatever the holes). */
    private readonly usageObject: boolean,
    readonly meaning: ChunkMeaning,
  ) {}

  /**
   * A skeleton of `data`, the text of a chunk that JSON.parse read as an object and the
   * decoder found to mean `meaning` (with `usageObject` telling whether its usage was an
   * object); undefined when its holes could not be told apart with certainty: a duplicate or
   * escaped key, more than one line, too deep, too many holes.
   */
  static learn(
    data: string,
    meaning: ChunkMeaning,
    usageObject: boolean,
  ): ChunkSkeleton | undefined {
    if (data.includes('\n') || data.includes('\r')) return undefined;
    const walk = new Walk(data);
    if (!walk.value(0) || walk.skipSpace() !== data.length) return undefined;
    const { cuts } = walk;
    if (cuts.length > MAX_HOLES) return undefined;
    const literals: string[] = [];
    let from = 0;
    for (const cut of cuts) {
      literals.push(data.slice(from, cut.start));
      from = cut.end;
    }
    literals.push(data.slice(from));
    const slots = USAGE_PATHS.map((path) => cuts.findIndex((cut) => cut.usagePath === path));
    return new ChunkSkeleton(
      literals,
      cuts.map((cut) => cut.hole),
      slots,
      usageObject,
      meaning,
    );
  }

  /**
   * True when `data` is this skeleton with well-formed values in its holes; then usage()
   * reads its token counts, until the next call.
   */
  recognise(data: string): boolean {
    const { literals, holes } = this;
    const spans = ChunkSkeleton.spans;
    // The end first: it tells most skeletons of a stream apart at once.
    const last = literals[holes.length];
    // A slice compared with === is a memcmp (see chunk-template.ts).
    if (data.slice(data.length - last.length) !== last) return false;
    let p = 0;
    for (let i = 0; i < holes.length; i++) {
      const literal = literals[i];
      if (data.slice(p, p + literal.length) !== literal) return false;
      const start = p + literal.length;
      const hole = holes[i];
      p = hole === Hole.Number ? skipJsonNumber(data, start) : skipJsonString(data, start);
      if (p === -1 || (hole === Hole.Text && p - start <= 2)) return false;
      spans[2 * i] = start;
      spans[2 * i + 1] = p;
    }
    if (data.length !== p + last.length) return false;
    this.hits++;
    return true;
  }

  /** The usage of the chunk recognise() just accepted. */
  usage(data: string): Usage | undefined {
    if (!this.usageObject) return undefined;
    const slots = this.usageSlots;
    return usageOf(
      figure(data, slots[0]),
      figure(data, slots[1]),
      figure(data, slots[2]),
      figure(data, slots[3]),
      figure(data, slots[4]),
    );
  }
}

/** The number in hole `hole` of the last recognised chunk, as usage reads it. */
function figure(data: string, hole: number): number | undefined {
  if (hole === NO_SLOT) return undefined;
  const spans = ChunkSkeleton.spans;
  const value = Number(data.slice(spans[2 * hole], spans[2 * hole + 1]));
  return Number.isFinite(value) ? value : undefined;
}

/**
 * The skeletons an endpoint's streams taught, shared by every stream to it. Bounded: when
 * full, a new skeleton takes the place of the one that recognised the fewest chunks.
 */
export class SkeletonBook {
  private readonly skeletons: ChunkSkeleton[] = [];

  constructor(private readonly capacity = 16) {}

  /** Chunks recognised so far, by any skeleton. */
  recognised = 0;

  /** The skeleton `data` matches, whose usage() is then the chunk's. */
  recognise(data: string): ChunkSkeleton | undefined {
    for (const skeleton of this.skeletons) {
      if (skeleton.recognise(data)) {
        this.recognised++;
        return skeleton;
      }
    }
    return undefined;
  }

  learn(data: string, meaning: ChunkMeaning, usageObject: boolean): void {
    const skeleton = ChunkSkeleton.learn(data, meaning, usageObject);
    if (skeleton === undefined) return;
    if (this.skeletons.length < this.capacity) {
      this.skeletons.push(skeleton);
      return;
    }
    let least = 0;
    for (let i = 1; i < this.skeletons.length; i++) {
      if (this.skeletons[i].hits < this.skeletons[least].hits) least = i;
    }
    this.skeletons[least] = skeleton;
  }

  get size(): number {
    return this.skeletons.length;
  }
}

interface Cut {
  start: number;
  end: number;
  hole: Hole;
  /** Which of USAGE_PATHS the value is, if any. */
  usagePath: string | undefined;
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
      this.note(start, end, this.stringHole(end - start > 2));
      return true;
    }
    const end = skipJsonNumber(text, start);
    if (end !== -1) {
      this.at = end;
      this.note(start, end, this.numberHole());
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

  private note(
    start: number,
    end: number,
    hole: { hole: Hole; usagePath?: string } | undefined,
  ): void {
    if (hole !== undefined)
      this.cuts.push({ start, end, hole: hole.hole, usagePath: hole.usagePath });
  }

  /** A string at this path is a hole: a label, or a delta's text when it has some. */
  private stringHole(nonEmpty: boolean): { hole: Hole } | undefined {
    const path = this.path;
    if (path.length === 1 && LABELS.has(path[0] as string)) return { hole: Hole.String };
    const isText =
      path.length === 4 &&
      path[0] === 'choices' &&
      path[2] === 'delta' &&
      TEXT_FIELDS.has(path[3] as string);
    // An empty text stays as it is: a chunk with none is another shape of chunk.
    return isText && nonEmpty ? { hole: Hole.Text } : undefined;
  }

  /** A number at this path is a hole: `created`, or any figure inside `usage`. */
  private numberHole(): { hole: Hole; usagePath?: string } | undefined {
    const path = this.path;
    if (path.length === 1 && path[0] === 'created') return { hole: Hole.Number };
    // `usage` itself stays: a number there would make the chunk truthy or not by its value.
    if (path.length < 2 || path[0] !== 'usage') return undefined;
    const name = path.slice(1).join('.');
    return { hole: Hole.Number, usagePath: USAGE_PATHS.includes(name) ? name : undefined };
  }
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
