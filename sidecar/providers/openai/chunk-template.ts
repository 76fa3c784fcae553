// After the first token, almost every chunk of an OpenAI stream is the same text around a
// different token: same id, model, index and nulls, another `content` string (and, from
// OpenAI itself, another `obfuscation` padding string). Learned once from a chunk that was
// parsed in full, that text lets the decoder recognise a whole run of such chunks with a
// few string comparisons and forward them as they came, instead of cutting, inspecting and
// re-framing each one (bench/results/latency-*.md).

import { skipJsonString as skipString } from './fast-frames.js';
import { shapeOf } from './shape.js';
import { readOpenAIUsage } from './usage.js';

const LF = 0x0a;
const DATA = 'data: ';
const CONTENT = '"content":"';
const CHOICES = '"choices":[{';
const OBFUSCATION = '"obfuscation":"';

/** A template's fixed parts as bytes, back to back, and each one's length. */
export interface TemplateBytes {
  readonly all: Uint8Array;
  readonly lengths: readonly number[];
}

export class ChunkTemplate {
  #bytes: TemplateBytes | null | undefined;

  /** The chunk's text around its variable strings: fixed[0] "..." fixed[1] ["..." fixed[2]]. */
  private constructor(private readonly fixed: readonly string[]) {}

  /**
   * The fixed parts as bytes, for matching a read without decoding it
   * (sidecar/providers/openai/sse-scan-kernel.ts); undefined when a part is not ASCII, since
   * no ASCII event can match it then.
   */
  get bytes(): TemplateBytes | undefined {
    if (this.#bytes === undefined) {
      const text = this.fixed.join('');
      const all = Buffer.from(text, 'utf8');
      // As many bytes as characters: every one of them ASCII.
      this.#bytes =
        all.length === text.length ? { all, lengths: this.fixed.map((part) => part.length) } : null;
    }
    return this.#bytes ?? undefined;
  }

  /**
   * A template from one chunk's data, or undefined unless the chunk is a single choice's
   * plain text (no finish, no usage, no error) and its strings were located exactly: a
   * probe with the strings replaced must parse back, ordinary, with the probes in those
   * very fields.
   */
  static learn(data: string): ChunkTemplate | undefined {
    // Data joined from several lines cannot be matched line by line.
    if (data.includes('\n') || data.includes('\r')) return undefined;
    // No parse of the chunk itself: the probe is the same text with other strings, so it
    // is ordinary exactly when the chunk is.
    const content = data.indexOf(CONTENT, data.indexOf(CHOICES));
    if (content === -1) return undefined;
    const contentStart = content + CONTENT.length - 1;
    const contentEnd = skipString(data, contentStart);
    const fixed = [data.slice(0, contentStart)];
    const obfuscation = data.lastIndexOf(OBFUSCATION);
    if (obfuscation > contentEnd) {
      const start = obfuscation + OBFUSCATION.length - 1;
      const end = skipString(data, start);
      if (end === -1) return undefined;
      fixed.push(data.slice(contentEnd, start), data.slice(end));
    } else {
      fixed.push(data.slice(contentEnd));
    }
    if (contentEnd === -1 || !probes(fixed)) return undefined;
    return new ChunkTemplate(fixed);
  }

  /**
   * Where the run of `data: <chunk>\n\n` events matching the template, from `at` in `text`,
   * ends: `at` itself when the first event there does not match. An event longer than
   * `maxEventChars` ends the run (the caller picks a bound that keeps its bytes in limit).
   */
  matchRun(text: string, at: number, maxEventChars: number): number {
    const fixed = this.fixed;
    let next = at;
    for (;;) {
      if (!text.startsWith(DATA, next)) return next;
      let p = next + DATA.length;
      for (let i = 0; i < fixed.length; i++) {
        if (i > 0) p = skipString(text, p);
        // A slice compared with === is a memcmp; startsWith at an offset was 4x slower.
        if (p === -1 || text.slice(p, p + fixed[i].length) !== fixed[i]) return next;
        p += fixed[i].length;
      }
      if (text.charCodeAt(p) !== LF || text.charCodeAt(p + 1) !== LF) return next;
      if (p - next > maxEventChars) return next;
      next = p + 2;
    }
  }
}

/** One choice, a delta, nothing finished, no usage, no error: the chunks a run may hold. */
function isOrdinary(chunk: Record<string, unknown>): boolean {
  if (chunk === null || typeof chunk !== 'object' || Array.isArray(chunk)) return false;
  if (chunk.error !== undefined || readOpenAIUsage(chunk.usage) !== undefined) return false;
  if (!Array.isArray(chunk.choices) || chunk.choices.length !== 1) return false;
  const { shape, finished } = shapeOf(chunk);
  return shape === 'content' && finished === undefined;
}

/** The fixed parts around probe strings must parse back with the probes where we think. */
function probes(fixed: readonly string[]): boolean {
  const text =
    fixed.length === 2
      ? `${fixed[0]}"\u00a7c"${fixed[1]}`
      : `${fixed[0]}"\u00a7c"${fixed[1]}"\u00a7o"${fixed[2]}`;
  let probe: Record<string, unknown>;
  try {
    probe = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return false;
  }
  const choice = (probe.choices as { delta?: { content?: unknown } }[] | undefined)?.[0];
  if (choice?.delta?.content !== '\u00a7c' || !isOrdinary(probe)) return false;
  return fixed.length === 2 || probe.obfuscation === '\u00a7o';
}
