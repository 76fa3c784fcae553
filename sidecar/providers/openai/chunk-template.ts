// After the first token, almost every chunk of an OpenAI stream is the same text around a
// different token: same id, model, index and nulls, another `content` string (and, from
// OpenAI itself, another `obfuscation` padding string). Learned once from a chunk that was
// parsed in full, that text lets the decoder recognise a whole run of such chunks with a
// few string comparisons and forward them as they came, instead of cutting, inspecting and
// re-framing each one (bench/results/latency-*.md).

import { skipJsonString as skipString } from './fast-frames.js';

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
   * A template from the data of one chunk that was parsed and found ordinary: a single
   * choice whose delta carries text, nothing finished, no usage, no error (the caller
   * checks that on its parse). Undefined when its strings cannot be located.
   *
   * No second parse proves the template. The chunk is valid JSON, so the `"content":` and
   * `"obfuscation":` found in it are keys (a quote inside a string is escaped), and the
   * strings after them are values: any other JSON string in their place leaves a valid
   * chunk whose every other byte, and so its shape, finish, usage and error, is the
   * learned chunk's. Whichever `content` key was found, a chunk that matches the template
   * is that same ordinary chunk with other strings. Only a `content` right inside the
   * `delta` object is taken, so that runs hold the text chunks they were meant for.
   */
  static learn(data: string): ChunkTemplate | undefined {
    // Data joined from several lines cannot be matched line by line.
    if (data.includes('\n') || data.includes('\r')) return undefined;
    const choices = data.indexOf(CHOICES);
    const content = data.indexOf(CONTENT, choices);
    if (content === -1 || !inDelta(data, choices, content)) return undefined;
    const contentStart = content + CONTENT.length - 1;
    const contentEnd = skipString(data, contentStart);
    if (contentEnd === -1) return undefined;
    const fixed = [data.slice(0, contentStart)];
    // The first after the text: a forward search is a fast scan, lastIndexOf a slow one
    // (0.45 us a stream in perf, for chunks that mostly have none).
    const obfuscation = data.indexOf(OBFUSCATION, contentEnd);
    if (obfuscation !== -1) {
      const start = obfuscation + OBFUSCATION.length - 1;
      const end = skipString(data, start);
      if (end === -1) return undefined;
      fixed.push(data.slice(contentEnd, start), data.slice(end));
    } else {
      fixed.push(data.slice(contentEnd));
    }
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

const DELTA = '"delta":{';
const BRACKETS = /[{}[\]]/;

/**
 * The `content` key at `content` is a key of the object opened by the last `"delta":{`
 * after `choices`: no bracket between them (a string holding one is refused too).
 */
function inDelta(data: string, choices: number, content: number): boolean {
  const delta = data.lastIndexOf(DELTA, content);
  return delta > choices && !BRACKETS.test(data.slice(delta + DELTA.length, content));
}
