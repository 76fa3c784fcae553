// Differential tests for the sse-scan WASM kernel (wasm/sse-scan.ts) as the OpenAI stream
// decoder uses it (stream-decoder.ts, readAsciiEvents).
//
// For any upstream bytes, split into reads anywhere, the decoder with the kernel must emit
// what the decoder matching runs on text emits: item for item, push for push, byte for byte
// (a template too large for the kernel is the one documented exception: then only what the
// client sees must agree). Both must also give the client what two references give:
//
//  - `noFastPath`: the same decoder fed reads that never hold a blank line (every `\n\n` of
//    the stream is cut in half), so no read is ever scanned for runs: the SSE parser and
//    onEvent see every event, one by one.
//  - `reference`: the project's SSE parser, then JSON.parse for every event; no string
//    heuristics. Compared on every stream, malformed events included: outside a run the
//    decoder parses each event, as the reference does (the cases at the end once failed,
//    when it recognised text chunks by a few string searches instead).
//
// Streams are ASCII, UTF-8 and invalid UTF-8 mixed, so reads switch between the kernel and
// the text matcher; every stream is built as a byte string (one char per byte, latin1).

import { describe, expect, it } from 'vitest';
import { ChunkTemplate } from '../../../sidecar/providers/openai/chunk-template.js';
import {
  loadSseScanKernel,
  type SseScanKernel,
} from '../../../sidecar/providers/openai/sse-scan-kernel.js';
import { OpenAIStreamDecoder } from '../../../sidecar/providers/openai/stream-decoder.js';
import {
  itemsOf,
  norm,
  ReferenceDecoder,
  relayStream,
  splitAt,
  type Decoderish,
  type RelayOutcome,
} from '../../support/stream-relay.js';
import { seededRandom as rng } from '../../support/random.js';

const kernel = await loadSseScanKernel();
const cctx = { providerId: 'p', secrets: [] };

// ---------------------------------------------------------------------------------------
// Drivers

const bytesOf = (s: string): Buffer => Buffer.from(s, 'latin1');
type Outcome = Omit<RelayOutcome, 'beforeText'>;

/**
 * Decoder and relay over these reads, as chat-attempt.ts drives them. Where the first text
 * stood is left out: a run arrives as frames, the same chunk event by event as a chunk.
 */
function relayed(d: Decoderish, reads: readonly Uint8Array[], choices: number): Outcome {
  const { beforeText: _, ...outcome } = relayStream(d, reads, { choices });
  return outcome;
}

const withKernel = (max?: number, scan: SseScanKernel = kernel) =>
  new OpenAIStreamDecoder(cctx, max, scan);
const onText = (max?: number) => new OpenAIStreamDecoder(cctx, max);

/** Reads that never hold a blank line: the decoder's fast path never runs on them. */
function noBlankLineReads(stream: Buffer): Buffer[] {
  const cuts: number[] = [];
  for (let i = 1; i < stream.length; i++) {
    if (stream[i - 1] === 0x0a && stream[i] === 0x0a) cuts.push(i);
  }
  return splitAt(stream, cuts);
}

// ---------------------------------------------------------------------------------------
// Streams. A family is one provider's chunk text with slots: C the content string literal,
// F the finish_reason, U the usage, O the whole `,"obfuscation":"..."` member (or nothing).

interface Family {
  name: string;
  text: string;
  /** The family sends an obfuscation member (OpenAI). */
  obfuscates: boolean;
}

const fill = (f: Family, c: string, o: string | null, finish = 'null', usage = 'null') =>
  f.text
    .replace('§C', () => c)
    .replace('§F', () => finish)
    .replace('§U', () => usage)
    .replace('§O', () => (o === null || !f.obfuscates ? '' : `,"obfuscation":${o}`));

const OPENAI: Family = {
  name: 'openai',
  obfuscates: true,
  text:
    '{"id":"chatcmpl-BXyzAbC","object":"chat.completion.chunk","created":1733350000,' +
    '"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_0ba0d124f1",' +
    '"choices":[{"index":0,"delta":{"content":§C},"logprobs":null,"finish_reason":§F}],"usage":§U§O}',
};

const FAMILIES: Family[] = [
  OPENAI,
  {
    name: 'vllm',
    obfuscates: false,
    text:
      '{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1,"model":"meta-llama/Llama-3.1-8B",' +
      '"choices":[{"index":0,"delta":{"content":§C},"logprobs":null,"finish_reason":§F}],"usage":§U}',
  },
  {
    name: 'azure',
    obfuscates: true,
    text:
      '{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},' +
      '"self_harm":{"filtered":false,"severity":"safe"}},"delta":{"content":§C},"finish_reason":§F,' +
      '"index":0,"logprobs":null}],"created":1733350000,"id":"chatcmpl-Az","model":"gpt-4o",' +
      '"object":"chat.completion.chunk","system_fingerprint":"fp_82ce25c0d4","usage":§U§O}',
  },
  {
    name: 'role in every chunk',
    obfuscates: true,
    text:
      '{"id":"r","object":"chat.completion.chunk","created":2,"model":"m","choices":[{"index":0,' +
      '"delta":{"role":"assistant","content":§C},"finish_reason":§F}],"usage":§U§O}',
  },
  {
    // Fixed text that holds what the matcher looks for: `data: `, escaped blank lines,
    // escaped quotes around "content", a backslash at a string's end, a \u0022 quote.
    name: 'tricky fixed text',
    obfuscates: true,
    text: String.raw`{"id":"data: \n\ndata: x","object":"chat.completion.chunk","created":3,"model":"\"content\":\"\u0022}]","system_fingerprint":"\\","choices":[{"index":0,"delta":{"content":§C},"logprobs":null,"finish_reason":§F}],"usage":§U,"x":"\"obfuscation\":\""§O,"after":"data: "}`,
  },
  {
    // Not ASCII (a UTF-8 é in the model name): the kernel never holds this template.
    name: 'non-ASCII fixed text',
    obfuscates: true,
    text: OPENAI.text.replace('gpt-4o-mini', 'gpt-\xc3\xa9'),
  },
];

/** OPENAI with a fingerprint padded so that the template's fixed bytes total `total`. */
function longFamily(total: number): Family {
  const base = ChunkTemplate.learn(fill(OPENAI, '"x"', '"o"'))!.bytes!.all.length;
  const pad = 'A'.repeat(total - base);
  const family: Family = {
    name: `fixed text of ${total} bytes`,
    obfuscates: true,
    text: OPENAI.text.replace('fp_0ba0d124f1', `fp_0ba0d124f1${pad}`),
  };
  const learned = ChunkTemplate.learn(fill(family, '"x"', '"o"'))!.bytes!.all.length;
  if (learned !== total) throw new Error(`long family: ${learned} bytes, not ${total}`);
  return family;
}

// Pieces of a content string literal (byte strings: UTF-8 as latin1 chars).
const GOOD = [
  'a',
  'Hello',
  ' world',
  '\\"',
  '\\\\',
  '\\n',
  '\\n\\n',
  '\\r\\n',
  '\\t',
  '\\/',
  '\\b\\f',
  '\\u00e9',
  '\\u0000',
  '\\uD83D\\uDE00',
  '\\ud800',
  '\\u0022',
  '\x7f',
  'data: ',
  'data: x\\n\\ndata: [DONE]\\n\\n',
  '\\"finish_reason\\":\\"stop\\"',
  '\\"usage\\":{\\"prompt_tokens\\":1}',
  '\\"content\\":\\"',
  '\\"obfuscation\\":\\"',
  '}]}',
  '\\\\\\"',
  '\xc3\xa9', // é
  '\xf0\x9f\x98\x80', // an emoji, 4 bytes
  '\xe2\x80\xa8', // U+2028
  'x'.repeat(40),
];
// Pieces that make the literal something else: not a string, not JSON, not UTF-8.
const BAD = [
  '\\u00',
  '\\u12G4',
  '\\x',
  '\\',
  '"',
  '\t',
  '\x00',
  '\n',
  '\r',
  '\\\n',
  '\xff',
  '\xc3',
  '","finish_reason":"stop',
];
const MUTANTS = [
  '"',
  '\\',
  '\n',
  '\r',
  ' ',
  '{',
  '}',
  ':',
  ',',
  'a',
  '0',
  'n',
  '\xff',
  '\x7f',
  '\x00',
];

interface Generated {
  stream: Buffer;
  choices: number;
  max: number | undefined;
  family: Family;
}

function generate(next: () => number, family: Family): Generated {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  // Half the streams also hold malformed events and strings.
  const dirty = next() < 0.5;
  const content = (allowBad: boolean): string => {
    let body = '';
    const n = Math.floor(next() * 4);
    for (let i = 0; i < n; i++) {
      if (dirty && allowBad && next() < 0.1) {
        body += pick(BAD);
      } else {
        body += pick(GOOD);
      }
    }
    return `"${body}"`;
  };
  const obf = (): string | null => {
    const r = next();
    if (r < 0.15) return null; // obfuscation in some chunks and not others
    if (r < 0.25) return '""';
    if (r < 0.3) return '"\\u0041\\""';
    return `"${'p'.repeat(Math.floor(next() * 20))}"`;
  };
  const ev = (data: string) => `data: ${data}\n\n`;
  const tok = (allowBad = true) => ev(fill(family, content(allowBad), obf()));
  const roleData = fill(family, '""', '"r"').replace(
    '"delta":{"content":',
    '"delta":{"role":"assistant","content":',
  );

  let choices = 1;
  const events: string[] = [ev(roleData)];
  // Text chunks that teach no template (their first "content" is in another object): the
  // decoder learns from a later one, or, after three, never.
  const unlearnable = next() < 0.25 ? 1 + Math.floor(next() * 3) : 0;
  for (let i = 0; i < unlearnable; i++) {
    events.push(
      ev(fill(family, '"u"', obf()).replace('"index":0,', '"index":0,"lp":{"content":"q"},')),
    );
  }
  events.push(ev(fill(family, `"${pick(GOOD)}"`, obf())));
  const count = 3 + Math.floor(next() * 22);
  for (let i = 0; i < count; i++) {
    const r = next();
    if (r < 0.5) events.push(tok());
    else if (r < 0.55)
      events.push(ev(fill(family, '""', obf()))); // empty text
    else if (r < 0.58) events.push(ev(fill(family, '""', obf(), `"${pick(['stop', 'length'])}"`)));
    else if (r < 0.6)
      events.push(
        ev(
          fill(family, content(false), obf(), 'null', '{"prompt_tokens":3,"completion_tokens":4}'),
        ),
      );
    else if (r < 0.62)
      events.push(
        ev(
          `{"id":"u","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}`,
        ),
      );
    else if (r < 0.65) events.push(`: ping ${i}\n\n`);
    else if (r < 0.68) {
      // CR or CRLF somewhere in the event's framing.
      const t = tok(false);
      events.push(
        pick([
          t.replace('\n\n', '\r\n\r\n'),
          t.replace('\n\n', '\n\r\n'),
          t.replace('\n\n', '\r\r'),
        ]),
      );
    } else if (r < 0.7) events.push(`event: message\n${tok(false)}`);
    else if (r < 0.72) events.push(`id: ${i}\n${tok(false)}`);
    else if (r < 0.74) events.push(tok(false).replace('data: ', 'data:'));
    else if (r < 0.76) {
      // The same data over two lines: the parser joins them with '\n' (JSON whitespace).
      const t = tok(false);
      const cut = t.indexOf('"choices"');
      events.push(`${t.slice(0, cut)}\ndata: ${t.slice(cut)}`);
    } else if (r < 0.78)
      events.push('\n'); // an extra blank line
    else if (r < 0.785) events.push(ev('{"error":{"message":"boom","type":"server_error"}}'));
    else if (r < 0.79) {
      // OpenRouter's mid-stream error: beside choices, with finish_reason "error".
      const choice = '{"index":0,"delta":{"content":""},"finish_reason":"error"}';
      events.push(ev(`{"id":"gen-1","choices":[${choice}],"error":{"code":502,"message":"x"}}`));
    } else if (r < 0.8) {
      // A second choice: the stream then needs both finishes.
      choices = 2;
      events.push(ev(fill(family, content(false), obf()).replace('"index":0', '"index":1')));
    } else if (dirty && r < 0.9) {
      // One byte replaced, removed or added anywhere in a template-shaped event.
      const t = tok(false);
      const at = Math.floor(next() * t.length);
      const m = next();
      events.push(
        m < 0.6
          ? t.slice(0, at) + pick(MUTANTS) + t.slice(at + 1)
          : m < 0.8
            ? t.slice(0, at) + t.slice(at + 1)
            : t.slice(0, at) + pick(MUTANTS) + t.slice(at),
      );
    } else events.push(tok());
  }
  events.push(ev(fill(family, '""', obf(), '"stop"')));
  if (choices === 2)
    events.push(ev(fill(family, '""', obf(), '"stop"').replace('"index":0', '"index":1')));
  const end = next();
  if (end < 0.6) events.push('data: [DONE]\n\n');

  // Now and then an event limit right at one template-shaped event's line: over it, at it,
  // one under it.
  let max: number | undefined;
  if (next() < 0.3) {
    const lines = events.join('').split(/\r\n|\r|\n/);
    const longest = Math.max(...lines.map((l) => l.length));
    const base = `data: ${fill(family, '""', '"o"')}`.length;
    const sized = Math.max(longest + 1 + Math.floor(next() * 3), base + 1);
    const big = ev(fill(family, `"${'y'.repeat(sized - base)}"`, '"o"'));
    events.splice(2 + Math.floor(next() * (events.length - 3)), 0, big);
    max = sized + Math.floor(next() * 3) - 1;
  }
  let body = events.join('');
  // Cut at EOF, maybe mid-event.
  if (end > 0.85) body = body.slice(0, body.length - 1 - Math.floor(next() * 30));
  return { stream: bytesOf(body), choices, max, family };
}

/** Read splits for a stream: whole, event by event, and random cuts aimed at the bytes
 * where matching is delicate (the `data: ` prefix, escapes, line feeds, quotes). */
function* splitsOf(stream: Buffer, next: () => number, randomCount: number): Generator<Buffer[]> {
  yield [stream];
  const boundaries: number[] = [];
  const delicate: number[] = [];
  for (let i = 0; i < stream.length; i++) {
    const c = stream[i];
    if (i > 0 && stream[i - 1] === 0x0a && c === 0x0a) boundaries.push(i + 1);
    if (c === 0x5c || c === 0x0a || c === 0x22 || c === 0x64 || c >= 0x80) delicate.push(i);
  }
  yield splitAt(stream, boundaries);
  for (let k = 0; k < randomCount; k++) {
    const cuts: number[] = [];
    const n = 1 + Math.floor(next() * 10);
    for (let j = 0; j < n; j++) {
      if (delicate.length > 0 && next() < 0.7) {
        cuts.push(delicate[Math.floor(next() * delicate.length)] + Math.floor(next() * 4) - 1);
      } else {
        cuts.push(Math.floor(next() * stream.length));
      }
    }
    yield splitAt(stream, cuts);
  }
}

function describeReads(reads: readonly Uint8Array[]): string {
  return reads.map((r) => r.length).join(',');
}

// ---------------------------------------------------------------------------------------

// Fixed work and no waiting (about 6 s here): the limit only catches a hang, and allows a
// loaded machine many times that. Under two busy cores the default 20 s ran out.
describe(
  'the sse-scan kernel against the text matcher, inside the decoder',
  { timeout: 120_000 },
  () => {
    it('emits the same items, push for push, and the same client bytes as the references, on random streams at random splits (fixed seed)', () => {
      const next = rng(0x5eed_2026);
      const families = [
        ...FAMILIES,
        longFamily(300),
        longFamily(kernel.templateCapacity - 1),
        longFamily(kernel.templateCapacity),
      ];
      let streams = 0;
      let splits = 0;
      let kernelRuns = 0;
      for (const family of families) {
        const rounds = family.text.length > 4000 ? 20 : 150;
        for (let s = 0; s < rounds; s++) {
          const g = generate(next, family);
          streams++;
          const label = `${family.name}, stream ${s}, max ${g.max}`;
          const expected = relayed(withKernel(g.max), noBlankLineReads(g.stream), g.choices);
          expect(
            relayed(new ReferenceDecoder(g.max), [g.stream], g.choices),
            `reference: ${label}`,
          ).toEqual(expected);
          for (const split of splitsOf(g.stream, next, 6)) {
            splits++;
            // Now and then plain Uint8Array views, not Buffers, as a transport may hand over.
            const reads: Uint8Array[] =
              splits % 3 === 0
                ? split.map((r) => new Uint8Array(r.buffer, r.byteOffset, r.length))
                : split;
            const k = itemsOf(withKernel(g.max), reads);
            const t = itemsOf(onText(g.max), reads);
            expect(k, `items: ${label}, reads ${describeReads(reads)}`).toEqual(t);
            if (k.some((push) => push.some((i) => i.startsWith('frames B:')))) kernelRuns++;
            expect(
              relayed(withKernel(g.max), reads, g.choices),
              `client: ${label}, reads ${describeReads(reads)}`,
            ).toEqual(expected);
          }
        }
      }
      // The comparison must have exercised the kernel a lot.
      expect(streams).toBe(6 * 150 + 150 + 20 + 20);
      expect(splits).toBe(streams * 8);
      expect(kernelRuns).toBeGreaterThan(splits / 3);
    });

    it('agrees on what the client sees when the template is one byte over the kernel (8 KiB + 1)', () => {
      const family = longFamily(kernel.templateCapacity + 1);
      const next = rng(77);
      for (let s = 0; s < 10; s++) {
        const g = generate(next, family);
        const expected = relayed(withKernel(g.max), noBlankLineReads(g.stream), g.choices);
        for (const reads of splitsOf(g.stream, next, 3)) {
          expect(relayed(withKernel(g.max), reads, g.choices), `stream ${s}`).toEqual(expected);
          expect(relayed(onText(g.max), reads, g.choices), `stream ${s}`).toEqual(expected);
        }
        // The kernel path really declines it: no run forwarded as bytes by it.
        const k = withKernel(g.max).push(g.stream);
        expect(k.some((i) => i.kind === 'frames' && typeof i.frames !== 'string')).toBe(false);
      }
    });

    it('takes an event exactly at maxEventBytes into a run, and fails one byte over, at every split', () => {
      const tok = (t: string) => `data: ${fill(OPENAI, `"${t}"`, '"o"')}\n\n`;
      const head =
        tok('a').replace('"delta":{"content":"a"', '"delta":{"role":"assistant","content":""') +
        tok('b') +
        tok('c');
      const big = tok('y'.repeat(500));
      const line = big.length - 2;
      for (const max of [line - 1, line, line + 1]) {
        const stream = bytesOf(head + tok('d') + big + tok('e') + 'data: [DONE]\n\n');
        const expected = relayed(withKernel(max), noBlankLineReads(stream), 1);
        // Whole, it ends on [DONE] with no usage chunk: clean, its log line saying so.
        expect(expected.errorDetail).toBe(max < line ? 'event_too_large' : 'done_without_usage');
        for (let cut = head.length - 3; cut < stream.length; cut += 3) {
          const reads = splitAt(stream, [cut]);
          expect(itemsOf(withKernel(max), reads), `max ${max}, cut ${cut}`).toEqual(
            itemsOf(onText(max), reads),
          );
          expect(relayed(withKernel(max), reads, 1)).toEqual(expected);
        }
        // Whole, the big event is in the run exactly when it fits.
        const items = withKernel(max).push(stream);
        const run = items.find((i) => i.kind === 'frames');
        expect(
          run !== undefined &&
            Buffer.from(run.frames as Uint8Array)
              .toString()
              .includes('yyy'),
        ).toBe(max >= line);
      }
    });
  },
);

describe('the kernel as a shared singleton', () => {
  it('keeps two interleaved streams apart, across a 2 MiB read that grows its memory', async () => {
    // A fresh kernel, so that the growth happens during this test.
    const fresh = await loadSseScanKernel();
    const a = FAMILIES[0];
    const b = FAMILIES[2];
    const tokA = (t: string, o = '"x"') => `data: ${fill(a, `"${t}"`, o)}\n\n`;
    const tokB = (t: string, o = '"y"') => `data: ${fill(b, `"${t}"`, o)}\n\n`;
    const next = rng(99);
    /** Reads of one stream: small ones, some ending mid-event, and one huge one. */
    const readsOf = (tok: (t: string) => string, hugeAt: number, hugeBytes: number): Buffer[] => {
      const reads: Buffer[] = [bytesOf(tok('first'))];
      let carry = '';
      for (let i = 0; i < 40; i++) {
        let text = carry;
        carry = '';
        if (i === hugeAt) {
          while (text.length < hugeBytes) text += tok(`w${text.length}`);
        } else {
          const n = 1 + Math.floor(next() * 4);
          for (let j = 0; j < n; j++) text += tok(`t${i}.${j}\\n`);
        }
        if (next() < 0.4) {
          const t = tok(`half\\u00e9${i}`);
          const c = 1 + Math.floor(next() * (t.length - 1));
          text += t.slice(0, c);
          carry = t.slice(c);
        }
        reads.push(bytesOf(text));
      }
      reads.push(bytesOf(`${carry}data: [DONE]\n\n`));
      return reads;
    };
    const readsA = readsOf(tokA, 5, 2 << 20);
    const readsB = readsOf(tokB, 25, 3 << 20);
    expect(Math.max(...readsA.map((r) => r.length))).toBeGreaterThan(2 << 20);

    const alone = (reads: Buffer[]) => itemsOf(onText(), reads);
    const expectedA = alone(readsA);
    const expectedB = alone(readsB);

    const dA = withKernel(undefined, fresh);
    const dB = withKernel(undefined, fresh);
    const gotA: string[][] = [];
    const gotB: string[][] = [];
    for (let i = 0; i < Math.max(readsA.length, readsB.length); i++) {
      if (i < readsA.length) gotA.push(dA.push(readsA[i]).map(norm));
      if (i < readsB.length) gotB.push(dB.push(readsB[i]).map(norm));
    }
    for (const [d, got] of [
      [dA, gotA],
      [dB, gotB],
    ] as const) {
      const { items, cut } = d.end();
      got.push([...items.map(norm), `cut=${cut}`]);
    }
    expect(gotA).toEqual(expectedA);
    expect(gotB).toEqual(expectedB);
    // The kernel really ran on both streams.
    expect(gotA.flat().filter((i) => i.startsWith('frames B:')).length).toBeGreaterThan(10);
    expect(gotB.flat().filter((i) => i.startsWith('frames B:')).length).toBeGreaterThan(10);

    // Small reads after the growth still match what the text matcher says.
    const small = bytesOf(tokA('s') + tokA('t') + tokA('u'));
    const d = withKernel(undefined, fresh);
    const e = onText();
    expect(itemsOf(d, [bytesOf(tokA('p')), small])).toEqual(
      itemsOf(e, [bytesOf(tokA('p')), small]),
    );
  });
});

describe('the kernel against ChunkTemplate.matchRun, byte by byte', () => {
  // Templates whose fixed parts straddle the kernel's 16-byte compare: parts of 1 to 50 bytes.
  function templateWithParts(
    l0: number,
    l1: number,
    l2: number,
  ): { data: (c: string, o: string) => string } {
    // fixed[0] = `{"a":"<pad>","choices":[{"index":0,"delta":{"content":`
    const head0 = '{"a":"","choices":[{"index":0,"delta":{"content":';
    // fixed[1] = `},"finish_reason":null}],"b":"<pad>","obfuscation":`
    const head1 = '},"finish_reason":null}],"b":"","obfuscation":';
    // fixed[2] = `,"c":"<pad>"}` or `}`
    const data = (c: string, o: string) =>
      `{"a":"${'a'.repeat(Math.max(0, l0 - head0.length))}","choices":[{"index":0,"delta":{"content":${c}},"finish_reason":null}],"b":"${'b'.repeat(Math.max(0, l1 - head1.length))}","obfuscation":${o}${l2 <= 1 ? '' : `,"c":"${'c'.repeat(Math.max(0, l2 - 8))}"`}}`;
    return { data };
  }

  it('ends every run at the same byte for every one-byte change and every cut of the read', () => {
    let compared = 0;
    for (const [l0, l1, l2] of [
      [48, 46, 1],
      [63, 47, 9],
      [64, 48, 16],
      [65, 49, 17],
      [80, 64, 24],
      [95, 79, 33],
    ]) {
      const { data } = templateWithParts(l0, l1, l2);
      const template = ChunkTemplate.learn(data('"x"', '"o"'));
      expect(template, `${l0}/${l1}/${l2}`).toBeDefined();
      const bytes = template!.bytes!;
      const good = `data: ${data('"a\\u00e9\\"b"', '"pp"')}\n\n`;
      const second = `data: ${data('"c"', '""')}\n\n`;
      const MAX = 1 << 20;
      // Every byte of the first event changed to each of a few bytes.
      for (let at = 0; at < good.length; at++) {
        // ASCII only: the decoder never gives the kernel a read with a byte over 0x7f.
        for (const m of ['"', '\\', '\n', '\r', 'x', '\x7f', '\x00', '{', ' ']) {
          if (good[at] === m) continue;
          const text = good.slice(0, at) + m + good.slice(at + 1) + second;
          const read = bytesOf(text);
          kernel.load(read, bytes);
          const expected = template!.matchRun(text, 0, MAX);
          expect(kernel.matchRun(0, read.length, MAX), `${JSON.stringify(text)}`).toBe(expected);
          compared++;
        }
      }
      // Every cut of a two-event read: the matcher must stop at the end it is given.
      const text = good + second;
      const read = bytesOf(text);
      kernel.load(read, bytes);
      for (let end = 0; end <= read.length; end++) {
        for (const at of [0, good.length]) {
          if (at > end) continue;
          const expected = template!.matchRun(text.slice(0, end), at, MAX);
          expect(kernel.matchRun(at, end, MAX), `end ${end} at ${at}`).toBe(expected);
          compared++;
        }
      }
      // Every event limit around the two events' sizes.
      for (let max = good.length - 6; max <= good.length; max++) {
        expect(kernel.matchRun(0, read.length, max)).toBe(template!.matchRun(text, 0, max));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(5000);
  });

  it('ends a run where the text matcher does for every cut inside a \\u escape at the end of the read', () => {
    const template = ChunkTemplate.learn(fill(OPENAI, '"x"', '"o"'))!;
    for (const esc of ['\\u00e9', '\\uD83D\\uDE00', '\\"', '\\\\']) {
      const ev = `data: ${fill(OPENAI, `"${esc}"`, `"${esc}"`)}\n\n`;
      const text = ev + ev;
      const read = bytesOf(text);
      kernel.load(read, template.bytes!);
      for (let end = ev.length; end <= text.length; end++) {
        expect(kernel.matchRun(0, end, 1 << 20), `${esc} end ${end}`).toBe(
          template.matchRun(text.slice(0, end), 0, 1 << 20),
        );
      }
    }
  });
});

// ---------------------------------------------------------------------------------------
// Cases this file once found failing, kept as they were minimised.

describe('cases that once failed', () => {
  const tok = (t: string) =>
    `data: {"id":"c","choices":[{"index":0,"delta":{"content":"${t}"},"finish_reason":null}]}\n\n`;

  it('matches runs with the kernel when the event limit is 2^31 or more (the kernel takes an i32)', () => {
    // policy.limits.max_stream_event_bytes is a uint32; 2^31 and above once reached the
    // kernel negative (ToInt32), so no event fitted and no run was ever matched.
    const stream = bytesOf(tok('a') + tok('b') + tok('c'));
    const max = 2 ** 31;
    expect(itemsOf(withKernel(max), [stream])).toEqual(itemsOf(onText(max), [stream]));
  });

  it('fails on a text event that is not JSON rather than forwarding it', () => {
    const bad = 'data: {"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]\n\n';
    const stream = bytesOf(tok('a') + bad + tok('b'));
    const expected = relayed(new ReferenceDecoder(), [stream], 1);
    expect(expected.failure).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
    expect(relayed(withKernel(), [stream], 1)).toEqual(expected);
  });

  it("sees a second choice's finish_reason written with a space before the colon", () => {
    const both =
      'data: {"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null},' +
      '{"index":1,"delta":{},"finish_reason" :"stop"}]}\n\n';
    const last = 'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n';
    const stream = bytesOf(tok('a') + both + last);
    const expected = relayed(new ReferenceDecoder(), [stream], 2);
    // Both choices finished: only the usage chunk (asked for) and [DONE] were missing.
    expect(expected.errorDetail).toBe('eof_before_usage');
    expect(relayed(withKernel(), [stream], 2)).toEqual(expected);
  });

  it('sees a finish_reason whose key is written with a \\u escape', () => {
    const escaped =
      'data: {"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null,"finish\\u005freason":"stop"}]}\n\n';
    const stream = bytesOf(tok('a') + escaped);
    const expected = relayed(new ReferenceDecoder(), [stream], 1);
    expect(expected.errorDetail).toBe('eof_before_usage'); // the finish was seen
    expect(relayed(withKernel(), [stream], 1)).toEqual(expected);
  });

  it('records usage written with a space before the colon', () => {
    const withUsage =
      'data: {"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}],' +
      '"usage" :{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}\n\n';
    const stream = bytesOf(tok('a') + withUsage + 'data: [DONE]\n\n');
    const expected = relayed(new ReferenceDecoder(), [stream], 1);
    expect(expected.usage).toEqual({ promptTokens: 3, completionTokens: 4, totalTokens: 7 });
    expect(relayed(withKernel(), [stream], 1)).toEqual(expected);
  });

  it('holds back a chunk whose only text is in a nested "delta" before the real one', () => {
    // JSON.parse: choices[0].delta.content is "" (a lifecycle chunk, held back); a string
    // search for the first `"delta":{` after `"choices":[{` finds the nested one.
    const nested =
      'data: {"choices":[{"index":0,"logprobs":{"delta":{"content":"hi"}},"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n';
    const stream = bytesOf(nested);
    const expected = relayed(new ReferenceDecoder(), [stream], 1);
    expect(expected.commits).toBe(0);
    expect(relayed(withKernel(), [stream], 1)).toEqual(expected);
  });
});
