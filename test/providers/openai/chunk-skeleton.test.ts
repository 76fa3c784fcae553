// The chunk skeletons the OpenAI stream decoder learns across streams (chunk-skeleton.ts).
//
// The invariant: a decoder with an endpoint's skeleton book emits, for any stream after any
// streams before it, exactly the items a decoder without one emits, push for push. The
// decoder without a book parses every event it does not forward in a run, so it is the
// reference; the differential cases at the end feed both thousands of generated streams
// whose holes hold other values, values of the wrong kind, and malformed text.

import { describe, expect, it } from 'vitest';
import type { ChunkShape } from '../../../sidecar/providers/adapter.js';
import {
  ChunkSkeleton,
  SkeletonBook,
  skipJsonNumber,
  type ChunkMeaning,
} from '../../../sidecar/providers/openai/chunk-skeleton.js';
import { loadSseScanKernel } from '../../../sidecar/providers/openai/sse-scan-kernel.js';
import { OpenAIStreamDecoder } from '../../../sidecar/providers/openai/stream-decoder.js';
import { readOpenAIUsage } from '../../../sidecar/providers/openai/usage.js';
import { seededRandom } from '../../support/random.js';
import { itemsOf, splitAt } from '../../support/stream-relay.js';

const kernel = await loadSseScanKernel();
const cctx = { providerId: 'p', secrets: [] };

const HEAD = (id = 'chatcmpl-1', created = '1733350000', model = 'gpt-4o-mini') =>
  `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":"${model}",` +
  `"system_fingerprint":"fp_1",`;
const role = (head = HEAD()) =>
  `${head}"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}`;
const text = (content: string, head = HEAD()) =>
  `${head}"choices":[{"index":0,"delta":{"content":${content}},"finish_reason":null}],"usage":null}`;
const usage = (figures: string, head = HEAD()) => `${head}"choices":[],"usage":${figures}}`;

const meaning = (shape: ChunkShape, hasText = false, finished?: number[]): ChunkMeaning => ({
  shape,
  finished,
  hasText,
});

function learned(data: string, m = meaning('lifecycle')): ChunkSkeleton {
  const skeleton = ChunkSkeleton.learn(data, m);
  expect(skeleton, `learned from ${data}`).toBeDefined();
  return skeleton!;
}

const matches = (skeleton: ChunkSkeleton, data: string) => skeleton.recognise(data) !== undefined;

describe('a chunk skeleton', () => {
  it('takes other ids, seconds, models, fingerprints and obfuscation, and nothing else', () => {
    const s = learned(role().replace('"usage":null}', '"usage":null,"obfuscation":"ab"}'));
    const other = role(HEAD('chatcmpl-\\"x\\u0041', '-1.5e+3', 'other/model')).replace(
      '"usage":null}',
      '"usage":null,"obfuscation":""}',
    );
    expect(matches(s, other)).toBe(true);
    expect(matches(s, other.replace('"fp_1"', '"fp_2"'))).toBe(true);
    // Anything outside a hole is the skeleton's text or no match.
    expect(matches(s, other.replace('"role":"assistant"', '"role":"user"'))).toBe(false);
    expect(matches(s, other.replace('"index":0', '"index":1'))).toBe(false);
    expect(matches(s, other.replace('"content":""', '"content":"x"'))).toBe(false);
    expect(matches(s, other.replace('{"id"', ' {"id"'))).toBe(false);
    expect(matches(s, `${other} `)).toBe(false);
    // A value of another kind in a hole.
    expect(matches(s, role(HEAD('x', '"1733350000"')))).toBe(false);
    expect(matches(s, role().replace('"chatcmpl-1"', '1'))).toBe(false);
    expect(matches(s, role().replace('"chatcmpl-1"', 'null'))).toBe(false);
  });

  it('holds a text only when the chunk had one, and then requires one', () => {
    const s = learned(text('"Hi"'), meaning('content', true));
    expect(matches(s, text('"\\n"'))).toBe(true);
    expect(matches(s, text('"\\u0000"'))).toBe(true);
    expect(matches(s, text('""'))).toBe(false);
    expect(matches(s, text('"a\nb"'))).toBe(false);
    expect(matches(s, text('"\\x"'))).toBe(false);
    expect(matches(s, text('"\\u12G4"'))).toBe(false);
    expect(matches(s, text('"unterminated'))).toBe(false);
    expect(matches(s, text('5'))).toBe(false);
    // An empty text stays literal: a chunk with text is another chunk.
    const empty = learned(text('""'));
    expect(matches(empty, text('""', HEAD('other')))).toBe(true);
    expect(matches(empty, text('"x"'))).toBe(false);
  });

  it('reads token counts from its holes exactly as the usage reader does', () => {
    const figures = (p: string, c: string, t: string, cached: string, reasoning: string) =>
      `{"prompt_tokens":${p},"completion_tokens":${c},"total_tokens":${t},` +
      `"prompt_tokens_details":{"cached_tokens":${cached},"audio_tokens":0},` +
      `"completion_tokens_details":{"reasoning_tokens":${reasoning}}}`;
    const s = learned(usage(figures('1', '2', '3', '4', '5')), meaning('usage'));
    const next = seededRandom(7);
    const numbers = [
      '0',
      '-0',
      '7',
      '12345678901234567890',
      '1.5',
      '-2',
      '1e3',
      '1E-2',
      '1e400',
      '-1e400',
    ];
    const pick = () => numbers[Math.floor(next() * numbers.length)];
    for (let i = 0; i < 300; i++) {
      const data = usage(figures(pick(), pick(), pick(), pick(), pick()), HEAD(`c${i}`));
      expect(s.recognise(data)?.usage).toEqual(readOpenAIUsage(JSON.parse(data).usage));
    }
    for (const bad of [
      '01',
      '1.',
      '.5',
      '+1',
      '-',
      '1e',
      '0x1',
      'Infinity',
      'NaN',
      '"1"',
      'null',
    ]) {
      expect(matches(s, usage(figures(bad, '2', '3', '4', '5'))), bad).toBe(false);
    }
  });

  it("holds whatever the decoder never reads: a vendor's own fields", () => {
    const groq = (id: string, queue: string) =>
      role().replace('"usage":null}', `"usage":null,"x_groq":{"id":"${id}","q":[${queue}]}}`);
    const s = learned(groq('req_1', '0.5'));
    expect(matches(s, groq('req_2', '1e-3'))).toBe(true);
    expect(matches(s, groq('req_2', '"0.5"'))).toBe(false);
    expect(matches(s, groq('req_2', '0.5,1'))).toBe(false);
  });

  it('stops looking after a long run of misses, and looks again at every sixteenth', () => {
    const book = new SkeletonBook();
    book.learn(role(), meaning('lifecycle'));
    for (let i = 0; i < 64; i++) expect(book.recognise(text(`"${i}"`))).toBeUndefined();
    // Misses 64 to 79: only the 64th looks.
    expect(book.recognise(role(HEAD('a')))).toBeDefined();
    for (let i = 0; i < 64; i++) book.recognise(text(`"${i}"`));
    expect(book.recognise(role(HEAD('b')))).toBeDefined();
    for (let i = 0; i < 65; i++) book.recognise(text(`"${i}"`));
    expect(book.recognise(role(HEAD('c')))).toBeUndefined();
    for (let i = 0; i < 14; i++) book.recognise(text(`"${i}"`));
    expect(book.recognise(role(HEAD('d')))).toBeDefined();
  });

  it('keeps `usage` itself literal: its value decides the shape', () => {
    const s = learned(`${HEAD()}"choices":[],"usage":5}`, meaning('usage'));
    expect(matches(s, `${HEAD()}"choices":[],"usage":0}`)).toBe(false);
    expect(matches(s, `${HEAD('x')}"choices":[],"usage":5}`)).toBe(true);
  });

  it('learns nothing from a chunk whose paths are not certain', () => {
    const refuse = (data: string) =>
      expect(ChunkSkeleton.learn(data, meaning('lifecycle')), data).toBeUndefined();
    refuse(role().replace('"model":', '"id":"again","model":')); // a duplicate key
    refuse(role().replace('"id"', '"\\u0069d"')); // an escaped key: it is "id"
    refuse(role().replace(',"usage"', ',\n"usage"')); // more than one line
    refuse(`${HEAD()}"choices":[],"x":${'['.repeat(20)}${']'.repeat(20)}}`); // too deep
    const many = Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`).join(',');
    refuse(`${HEAD()}"choices":[],"usage":{${many}}}`); // too many holes
  });

  it('tells JSON numbers exactly', () => {
    const grammar = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/;
    const next = seededRandom(11);
    const alphabet = '0123456789-+.eE ,x';
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const n = 1 + Math.floor(next() * 8);
      for (let k = 0; k < n; k++) s += alphabet[Math.floor(next() * alphabet.length)];
      const m = grammar.exec(s);
      const end = skipJsonNumber(s, 0);
      // The longest number at the start, or none; a number with a dangling part ("1.",
      // "1e") is none, since no JSON can continue that way.
      if (m === null) expect(end, s).toBe(-1);
      else if (end !== -1) expect(end, s).toBe(m[0].length);
      else expect(/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?[.eE]/.test(s), s).toBe(true);
    }
  });
});

describe('a skeleton book', () => {
  it('when full, gives the place of the skeleton unused for longest', () => {
    const book = new SkeletonBook(2);
    book.learn(role(), meaning('lifecycle'));
    book.learn(text('"x"'), meaning('content', true));
    expect(book.recognise(role(HEAD('y')))).toBeDefined();
    book.learn(usage('null'), meaning('noise'));
    expect(book.size).toBe(2);
    expect(book.recognise(role(HEAD('z')))).toBeDefined();
    expect(book.recognise(text('"y"'))).toBeUndefined();
    expect(book.recognise(usage('null', HEAD('w')))).toBeDefined();
    // Stale skeletons, however often used once, give way to new ones in turn.
    for (let i = 0; i < 100; i++) book.recognise(role(HEAD(`r${i}`)));
    book.learn(text('"x"'), meaning('content', true));
    book.learn(`${HEAD()}"choices":[],"usage":null,"x":1}`, meaning('noise'));
    expect(book.recognise(role())).toBeUndefined();
    expect(book.recognise(text('"y"'))).toBeDefined();
  });

  it('stops learning when what it learns is not recognised', () => {
    const book = new SkeletonBook(4);
    // Every chunk a new text (a value outside the holes changes): nothing repeats.
    for (let i = 0; i < 50; i++) book.learn(usage(`{"n":"${i}"}`), meaning('usage'));
    expect(book.size).toBe(4);
    // The four learned last are not the ones kept: lessons stopped after four.
    expect(book.recognise(usage('{"n":"3"}', HEAD('x')))).toBeDefined();
    expect(book.recognise(usage('{"n":"49"}', HEAD('x')))).toBeUndefined();
    // Recognitions earn lessons again: one per eight.
    for (let i = 0; i < 8; i++) book.recognise(usage('{"n":"3"}', HEAD(`y${i}`)));
    book.learn(usage('{"n":"50"}'), meaning('usage'));
    expect(book.recognise(usage('{"n":"50"}', HEAD('x')))).toBeDefined();
  });

  it('of no places learns nothing', () => {
    const book = new SkeletonBook(0);
    book.learn(role(), meaning('lifecycle'));
    expect(book.size).toBe(0);
    expect(book.recognise(role())).toBeUndefined();
  });
});

describe('usage keys', () => {
  it('with a dot are other keys, not a path', () => {
    const data = (cached: string) =>
      usage(
        `{"prompt_tokens":5,"prompt_tokens_details.cached_tokens":${cached},` +
          '"prompt_tokens_details":{"cached_tokens":2}}',
      );
    const s = learned(data('9'), meaning('usage'));
    const known = s.recognise(data('7'));
    expect(known?.usage).toEqual(readOpenAIUsage(JSON.parse(data('7')).usage));
    expect(known?.usage?.cachedTokens).toBe(2);
  });
});

describe('a decoder', () => {
  it('reads a chunk whose choices are not objects as one with nothing to show', () => {
    const decoder = new OpenAIStreamDecoder(cctx, undefined, kernel, new SkeletonBook());
    const items = decoder.push(Buffer.from('data: {"choices":[null,1]}\n\n'));
    expect(items).toEqual([
      expect.objectContaining({ kind: 'chunk', shape: 'noise', finished: undefined }),
    ]);
  });
});

// ---------------------------------------------------------------------------------------
// Differential: decoders sharing a book against decoders without one.

/** One provider's chunk text; §H the head, §C content, §F finish, §U usage, §X extra members. */
const FAMILIES = [
  '{§H"choices":[{"index":0,"delta":{"content":§C},"logprobs":null,"finish_reason":§F}],"usage":§U§X}',
  '{"choices":[{"delta":{"content":§C},"finish_reason":§F,"index":0,"logprobs":null}],§H"usage":§U§X}',
  '{§H"choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":§C},"finish_reason":§F}],"usage":§U§X}',
  '{§H"choices":[{"index":0,"delta":{"content":§C},"finish_reason":§F},{"index":1,"delta":{"content":§C},"finish_reason":§F}],"usage":§U§X}',
];

const STRINGS = ['"a"', '"Hello"', '"\\"x\\""', '"\\u0041"', '"\\ud800"', '"é"', '""', '"data: x"'];
const BAD_STRINGS = ['"a', '"\\x"', '"\\u00"', '"a\tb"', '5', 'null', '{}', '"a"b"'];
const NUMBERS = ['0', '1733350000', '-1', '1.5', '2e3', '1e400', '-0'];
const BAD_NUMBERS = ['01', '1.', '"1"', 'null', '-', '1e', 'true'];
const FINISH = ['null', 'null', 'null', '"stop"', '"length"', '"tool_calls"'];
const USAGE = [
  'null',
  'null',
  '{"prompt_tokens":§N,"completion_tokens":§N,"total_tokens":§N}',
  '{"prompt_tokens":§N,"completion_tokens":§N,"total_tokens":§N,"prompt_tokens_details":{"cached_tokens":§N},"completion_tokens_details":{"reasoning_tokens":§N}}',
  '{"completion_tokens":§N}',
  // A duplicate key: JSON.parse reads the last one.
  '{"prompt_tokens":§N,"completion_tokens":§N,"prompt_tokens":§N}',
  // A key with a dot is not a path.
  '{"prompt_tokens":§N,"prompt_tokens_details.cached_tokens":§N,"completion_tokens_details.reasoning_tokens":§N}',
  '{"prompt_tokens_details.cached_tokens":§N,"prompt_tokens_details":{"cached_tokens":§N}}',
  '{"prompt_tokens":"7"}',
  '[1,2]',
  '0',
  '1',
];
const EXTRA = [
  '',
  '',
  ',"obfuscation":§S',
  ',"error":null',
  ',"error":{"message":"x"}',
  ',"service_tier":§S',
];

function generator(seed: number) {
  const next = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const sometimes = <T>(good: readonly T[], bad: readonly T[]) =>
    next() < 0.06 ? pick(bad) : pick(good);
  const str = () => sometimes(STRINGS, BAD_STRINGS);
  const num = () => sometimes(NUMBERS, BAD_NUMBERS);
  const head = () =>
    `"id":${str()},"object":"chat.completion.chunk","created":${num()},"model":${str()},` +
    (next() < 0.8 ? `"system_fingerprint":${str()},` : '');

  function chunk(family: string, content: string, finish: string, usage: string): string {
    return family
      .replace('§H', head)
      .replaceAll('§C', () => content)
      .replaceAll('§F', () => finish)
      .replace('§U', () => usage.replaceAll('§N', num))
      .replace('§X', () => pick(EXTRA).replace('§S', str));
  }

  /** One stream of a family: role, text, finish, usage, [DONE], with odd events between. */
  return function stream(family: string): Buffer {
    const ev = (data: string) => `data: ${data}\n\n`;
    const events = [
      ev(
        chunk(family, '""', 'null', 'null').replace(
          '"content":""',
          '"role":"assistant","content":""',
        ),
      ),
    ];
    const count = 1 + Math.floor(next() * 6);
    for (let i = 0; i < count; i++) {
      const r = next();
      if (r < 0.6) events.push(ev(chunk(family, str(), 'null', 'null')));
      else if (r < 0.7) events.push(ev(chunk(family, str(), pick(FINISH), pick(USAGE))));
      else if (r < 0.75) events.push(`event: error\n${ev(chunk(family, str(), 'null', 'null'))}`);
      else if (r < 0.8) events.push(`event: message\n${ev(chunk(family, str(), 'null', 'null'))}`);
      else if (r < 0.83)
        events.push(ev(`{"error":{"message":"overloaded","type":"server_error"}}`));
      else if (r < 0.85) events.push(ev(`{${head()}"choices":[null],"usage":null}`));
      else if (r < 0.9) {
        // A tool call: its arguments make every chunk a new text.
        events.push(
          ev(
            `{${head()}"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":${str()}}}]},"finish_reason":null}]}`,
          ),
        );
      } else {
        // One byte of a chunk changed: maybe still JSON, maybe another chunk, maybe neither.
        const data = chunk(family, str(), 'null', 'null');
        const at = Math.floor(next() * data.length);
        events.push(
          ev(data.slice(0, at) + pick(['"', '1', ' ', ',', '}', '\\', 'x']) + data.slice(at + 1)),
        );
      }
    }
    events.push(ev(chunk(family, '""', pick(FINISH), 'null')));
    events.push(
      ev(
        chunk(family, '""', 'null', pick(USAGE)).replace(
          /"choices":\[.*\],"usage"/,
          '"choices":[],"usage"',
        ),
      ),
    );
    if (next() < 0.9) events.push('data: [DONE]\n\n');
    return Buffer.from(events.join(''));
  };
}

/** Reads of a stream: whole, event by event, or cut at random. */
function readsOf(stream: Buffer, next: () => number): Buffer[] {
  const r = next();
  if (r < 0.4) return [stream];
  if (r < 0.7) {
    const cuts: number[] = [];
    for (let i = 1; i < stream.length; i++)
      if (stream[i - 1] === 0x0a && stream[i - 2] === 0x0a) cuts.push(i);
    return splitAt(stream, cuts);
  }
  const cuts = Array.from({ length: 1 + Math.floor(next() * 6) }, () =>
    Math.floor(next() * stream.length),
  );
  return splitAt(stream, cuts);
}

describe('decoders sharing a skeleton book', () => {
  for (const [capacity, scan] of [
    [16, kernel],
    [16, undefined],
    [3, kernel],
  ] as const) {
    it(`emit what decoders without one emit, stream after stream (book of ${capacity}, runs ${scan ? 'by the kernel' : 'on text'})`, () => {
      let recognised = 0;
      for (const [f, family] of FAMILIES.entries()) {
        const book = new SkeletonBook(capacity);
        const stream = generator(100 + f);
        const next = seededRandom(200 + f);
        for (let i = 0; i < 600; i++) {
          const bytes = stream(family);
          const reads = readsOf(bytes, next);
          const withBook = new OpenAIStreamDecoder(cctx, undefined, scan, book);
          const without = new OpenAIStreamDecoder(cctx, undefined, scan);
          const before = book.recognised;
          expect(itemsOf(withBook, reads), `family ${f}, stream ${i}: ${bytes.toString()}`).toEqual(
            itemsOf(without, reads),
          );
          recognised += book.recognised - before;
        }
      }
      // The book was used, or this proves nothing.
      expect(recognised).toBeGreaterThan(capacity > 3 ? 2000 : 200);
    });
  }
});
