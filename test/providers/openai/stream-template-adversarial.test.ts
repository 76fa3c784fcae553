// Adversarial tests for the OpenAI stream decoder's template fast path (chunk-template.ts).
//
// The invariant: for any upstream byte stream, split into reads anywhere, what the client
// receives, the usage and finish reasons recorded, the errors raised and the commit point
// are what the event-by-event path gives. Two references:
//
//  - `eventByEvent`: the same decoder fed one byte per read. A one-byte read never holds a
//    blank line, so every byte goes through the SSE parser and onEvent: no readEvents, no
//    template, no frames. This is the event-by-event path exactly.
//  - `semantic`: the project's SSE parser over the whole stream, and each event judged with
//    JSON.parse + shapeOf + readOpenAIUsage (no string heuristics at all).
//
// Both are fed through the real StreamRelay, driven the way chat-attempt.ts drives it.

import { beforeAll, describe, expect, it } from 'vitest';
import { OpenAIStreamDecoder } from '../../../sidecar/providers/openai/stream-decoder.js';
import {
  loadSseScanKernel,
  type SseScanKernel,
} from '../../../sidecar/providers/openai/sse-scan-kernel.js';
import { shapeOf } from '../../../sidecar/providers/openai/shape.js';
import { readOpenAIUsage } from '../../../sidecar/providers/openai/usage.js';
import { chatStream } from '../../support/mock-openai.js';
import {
  ReferenceDecoder,
  relayStream,
  splitAt,
  type Decoderish,
  type RelayOptions,
  type RelayOutcome,
} from '../../support/stream-relay.js';
import { seededRandom as rng } from '../../support/random.js';

const cctx = { providerId: 'p', secrets: [] };

interface Opts extends RelayOptions {
  max?: number;
}

type Outcome = RelayOutcome;

const run = (decoder: Decoderish, reads: readonly Buffer[], opts: Opts = {}): Outcome =>
  relayStream(decoder, reads, opts);

/** Runs are matched on text, or as bytes by the kernel: every case below runs both ways. */
let scan: SseScanKernel | undefined;
const kernel = await loadSseScanKernel();

const decoder = (opts: Opts) => new OpenAIStreamDecoder(cctx, opts.max, scan);

/** The decoder and relay over these reads. */
function fast(reads: readonly Buffer[], opts: Opts = {}): Outcome {
  return run(decoder(opts), reads, opts);
}

/** The same stream, one byte per read: only the SSE parser and onEvent ever see it. */
function eventByEvent(stream: Buffer, opts: Opts = {}): Outcome {
  const reads: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) reads.push(stream.subarray(i, i + 1));
  return run(decoder(opts), reads, opts);
}

function semantic(stream: Buffer, opts: Opts = {}): Outcome {
  return run(new ReferenceDecoder(opts.max), [stream], opts);
}

/** Splits to try: whole, every two-way cut, and random many-way cuts (fixed seed). */
function* splits(stream: Buffer, seed = 1, randomCount = 40): Generator<Buffer[]> {
  yield [stream];
  for (let c = 1; c < stream.length; c++) yield splitAt(stream, [c]);
  const next = rng(seed);
  for (let k = 0; k < randomCount; k++) {
    const n = 1 + Math.floor(next() * 12);
    const cuts: number[] = [];
    for (let i = 0; i < n; i++) cuts.push(Math.floor(next() * stream.length));
    yield splitAt(stream, cuts);
  }
}

/** The first split whose outcome differs from the expected one, or undefined. */
function firstDivergence(stream: Buffer, expected: Outcome, opts: Opts = {}, seed = 1) {
  for (const reads of splits(stream, seed)) {
    const got = fast(reads, opts);
    try {
      expect(got).toEqual(expected);
    } catch {
      return { cuts: reads.map((r) => r.length), got };
    }
  }
  return undefined;
}

/** Asserts the fast path equals the event-by-event path for every split tried. */
function expectInvariant(stream: Buffer, opts: Opts = {}, seed = 1): Outcome {
  const reference = eventByEvent(stream, opts);
  const divergence = firstDivergence(stream, reference, opts, seed);
  expect(divergence, 'a split where the fast path differs from the event-by-event path').toBe(
    undefined,
  );
  return reference;
}

// OpenAI-shaped chunks. `raw` is the JSON text of the content string, quotes included, so
// tests can send exactly the escapes they mean.
const HEAD =
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":';
const role = `data: ${HEAD}{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"r"}\n\n`;
const rawTok = (raw: string, obf = 'x', finish = 'null', usage = 'null') =>
  `data: ${HEAD}{"content":${raw}},"logprobs":null,"finish_reason":${finish}}],"usage":${usage},"obfuscation":"${obf}"}\n\n`;
const tok = (t: string, obf = 'x') => rawTok(JSON.stringify(t), obf);
const finishEv = (reason = 'stop', index = 0) =>
  `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","choices":[{"index":${index},"delta":{},"logprobs":null,"finish_reason":"${reason}"}],"usage":null,"obfuscation":"f"}\n\n`;
const usageEv = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12},"obfuscation":"u"}\n\n`;
const DONE = 'data: [DONE]\n\n';
const b = (s: string) => Buffer.from(s);

/** A stream that has learned its template (role, two tokens) before `middle`. */
const around = (middle: string, tail = finishEv() + usageEv + DONE) =>
  role + tok('Hel') + tok('lo') + middle + tail;

const MATCHERS = [
  ['on text', undefined],
  ['by the WASM kernel', kernel],
] as const;

for (const [how, matcher] of MATCHERS) {
  // Fixed work and no waiting (up to 5 s a test here): the limit only catches a hang.
  describe(`runs matched ${how}`, { timeout: 120_000 }, () => {
    beforeAll(() => {
      scan = matcher;
    });

    describe('the template fast path against the event-by-event path (regressions)', () => {
      it('learns a template and forwards runs, byte for byte, on a plain stream', () => {
        const stream = b(around(tok(' wor') + tok('ld', 'padding') + tok('!', '')));
        // The fast path really engages on a whole read: otherwise this file proves nothing.
        const d = new OpenAIStreamDecoder(cctx, undefined, scan);
        const kinds = d.push(stream).map((i) => i.kind);
        expect(kinds).toContain('frames');
        const ref = expectInvariant(stream);
        expect(ref.body).toBe(stream.toString('latin1'));
        expect(ref.usage).toEqual({ promptTokens: 7, completionTokens: 5, totalTokens: 12 });
        expect(ref.failure).toBe(undefined);
        expect(ref.beforeText).toEqual(['lifecycle', 'content']);
      });

      it('matches the semantic reference too on mock OpenAI streams (n=1 and n=2, usage, tools)', () => {
        for (const n of [1, 2]) {
          for (const done of [true, false]) {
            const stream = b(
              chatStream({
                model: 'm',
                n,
                pieces: ['a', ' "q" ', '\\', 'caf\u00e9', '\u{1f600}', '', 'end'],
                includeUsage: true,
                toolCalls: [{ id: 'call_1', name: 'f', arguments: ['{"a":', '1}'] }],
                finishReason: 'tool_calls',
                done,
              }).join(''),
            );
            const ref = expectInvariant(stream, { choices: n }, n * 10 + Number(done));
            expect(semantic(stream, { choices: n })).toEqual(ref);
            // Without [DONE], every choice finished: the answer is whole.
            expect(ref.failure).toBe(undefined);
            expect(ref.usage).toMatchObject({ promptTokens: 10 });
          }
        }
      });

      it('treats escaped quotes, backslashes and unicode escapes in the text as text', () => {
        const raws = [
          '"\\"quoted\\""',
          '"ends in a backslash \\\\"', // "\\" right before the closing quote
          '"\\\\\\""', // \\ then \" : a backslash and a quote
          '"\\u0022,\\"finish_reason\\":\\"stop\\"}]"',
          '"\\ud83d\\ude00 \\u00e9 \\n \\t \\/"',
          '"\\",\\"usage\\":{\\"prompt_tokens\\":1}"',
          '"\\"obfuscation\\":\\"zz"',
          '"\\"content\\":\\""',
        ];
        const stream = b(around(raws.map((r, i) => rawTok(r, 'o'.repeat(i))).join('')));
        const ref = expectInvariant(stream);
        expect(semantic(stream)).toEqual(ref);
        expect(ref.body).toBe(stream.toString('latin1'));
        expect(ref.usage).toEqual({ promptTokens: 7, completionTokens: 5, totalTokens: 12 });
      });

      it('forwards raw non-ASCII text (2-, 3- and 4-byte characters) unchanged at any split', () => {
        const stream = b(
          around(tok('caf\u00e9') + tok('\u2603 snow') + tok('\u{1f600}') + tok('x')),
        );
        const ref = expectInvariant(stream);
        expect(ref.body).toBe(stream.toString('latin1'));
        expect(semantic(stream)).toEqual(ref);
      });

      it('reads a template-shaped chunk that finishes or carries usage in full', () => {
        const variants = [
          rawTok('"a"', 'x', '"stop"'),
          rawTok('"a"', 'x', '"length"'),
          rawTok('"a"', 'x', 'null', '{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}'),
          rawTok('"a"', 'x', 'null', ' {"prompt_tokens":3,"completion_tokens":4}'),
        ];
        for (const [i, v] of variants.entries()) {
          const stream = b(around(tok('b') + v + tok('c'), i < 2 ? DONE : finishEv() + DONE));
          const ref = expectInvariant(stream, {}, i);
          expect(semantic(stream)).toEqual(ref);
          if (i >= 2) expect(ref.usage).toMatchObject({ promptTokens: 3, completionTokens: 4 });
        }
        // A finish inside a run, then EOF without [DONE]: the stream is whole only if it was seen.
        const cut = b(role + tok('a') + tok('b') + rawTok('"c"', 'x', '"stop"'));
        const ref = expectInvariant(cut);
        // Seen: what is missing is the usage chunk the client asked for, not a finish.
        expect(ref.errorDetail).toBe('eof_before_usage');
        const unfinished = b(role + tok('a') + tok('b') + tok('c'));
        expect(expectInvariant(unfinished).errorDetail).toBe('eof_without_finish');
      });

      it('reads whitespace variants, reordered keys, duplicate keys and other shapes in full', () => {
        const odd = [
          tok('a').replace('"usage":null', '"usage": null'),
          tok('a').replace('"finish_reason":null', '"finish_reason" : null'),
          tok('a').replace(
            '{"content":"a"},"logprobs":null',
            '{"content":"a"},"finish_reason":null,"logprobs":null',
          ),
          tok('a')
            .replace('"id":"chatcmpl-1",', '')
            .replace('"obfuscation"', '"id":"c","obfuscation"'),
          tok('a').replace(
            '"usage":null',
            '"usage":null,"usage":{"prompt_tokens":9,"completion_tokens":1}',
          ),
          tok('a').replace('"obfuscation":"x"', '"obfuscation":"x","obfuscation":"y"'),
          tok('a').replace(
            '}],"usage"',
            '},{"index":1,"delta":{"content":"z"},"finish_reason":null}],"usage"',
          ),
          tok('a').replace(
            '{"content":"a"}',
            '{"content":"a","tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}',
          ),
          tok('a').replace('{"content":"a"}', '{"content":"a","refusal":"no"}'),
          tok('a').replace('{"content":"a"}', '{"reasoning_content":"think","content":"a"}'),
          tok('a').replace('"logprobs":null', '"logprobs":{"content":"lp"}'),
          tok('a').replace('{"content":"a"}', '{"content":"a","obfuscation":"nested"}'),
          tok('a').replace('"obfuscation":"x"', '"obfuscation":null'),
          tok(''), // empty text: a lifecycle chunk
          `data: {"id":"chatcmpl-1","choices":[],"prompt_filter_results":[{"content_filter_results":{}}]}\n\n`,
          `data: {"id":"chatcmpl-1","choices":[{"index":0,"finish_reason":null,"content_filter_results":{}}]}\n\n`,
        ];
        for (const [i, v] of odd.entries()) {
          const stream = b(around(tok('b') + v + tok('c')));
          const ref = expectInvariant(stream, {}, 100 + i);
          expect(ref.failure).toBe(undefined);
        }
        // An error beside the choices (OpenRouter's mid-stream failure) ends the stream,
        // on either path: it is not a chunk to pass on.
        const failing = tok('a').replace(
          '"usage":null',
          '"usage":null,"error":{"message":"boom","type":"server_error"}',
        );
        const ref = expectInvariant(b(around(tok('b') + failing + tok('c'))), {}, 99);
        expect(ref.failure).toBe('GW_ERR_STREAM_UPSTREAM_ERROR');
      });

      it('stops a run at an error chunk, and raises it', () => {
        const stream = b(
          around(
            tok('b') +
              'data: {"error":{"message":"boom","type":"server_error","code":"server_error"}}\n\n',
            tok('after') + DONE,
          ),
        );
        const ref = expectInvariant(stream);
        expect(ref.failure).toBe('GW_ERR_STREAM_UPSTREAM_ERROR');
        expect(ref.body).not.toContain('after');
        expect(semantic(stream)).toEqual(ref);
        const typed = b(
          around(tok('b') + 'event: error\ndata: {"message":"x"}\n\n', tok('after') + DONE),
        );
        expect(expectInvariant(typed).failure).toBe('GW_ERR_STREAM_UPSTREAM_ERROR');
      });

      it('handles CRLF, CR, comments, event: lines and multi-line data around runs', () => {
        const plain = around(tok(' a') + tok(' b') + tok(' c'));
        const variants = [
          plain.replace(/\n/g, '\r\n'),
          plain.replace(/\n/g, '\r'),
          plain.split(tok(' b')).join(`: keep-alive\n\n${tok(' b')}: ping\n\n`),
          plain.split(tok(' b')).join(`event: message\n${tok(' b')}`),
          plain.split(tok(' b')).join(`id: 7\nretry: 10\n${tok(' b')}`),
          plain.split(tok(' b')).join(tok(' b').replace('"delta":', '"delta":\ndata: ')),
          plain.split(tok(' b')).join(tok(' b').replace('data: ', 'data:')),
          plain.split(tok(' b')).join(tok(' b').replace('data: ', 'data:  ')),
          plain.replace(finishEv(), finishEv().replace('\n\n', '\r\n\r\n')),
          plain.split(tok(' b')).join(`\n${tok(' b')}`),
        ];
        for (const [i, v] of variants.entries()) {
          const ref = expectInvariant(b(v), {}, 200 + i);
          expect(ref.failure).toBe(undefined);
          expect(ref.usage).toEqual({ promptTokens: 7, completionTokens: 5, totalTokens: 12 });
        }
      });

      it('sees every finish of an n=2 stream that closes without [DONE] after a run', () => {
        const two = (t: string, i: number) => tok(t).replace('"index":0', `"index":${i}`);
        const stream = b(
          role +
            role.replace('"index":0', '"index":1') +
            two('a', 0) +
            two('b', 1) +
            two('c', 0) +
            two('d', 1) +
            two('e', 0) +
            finishEv('stop', 1) +
            two('f', 0) +
            finishEv('length', 0),
        );
        const ref = expectInvariant(stream, { choices: 2 });
        expect(ref.errorDetail).toBe('eof_before_usage'); // both finishes seen
        const missing = b(stream.toString().slice(0, -finishEv('length', 0).length));
        expect(expectInvariant(missing, { choices: 2 }).errorDetail).toBe('eof_without_finish');
      });

      it('stops at an event cut at EOF inside a run', () => {
        const full = around(tok('b') + tok('c'), '');
        for (const drop of [0, 1, 2, 5, 30]) {
          const ref = expectInvariant(b(full.slice(0, full.length - drop)), {}, drop);
          expect(ref.errorDetail).toBe(drop === 0 ? 'eof_without_finish' : 'eof_mid_event');
        }
      });

      it('treats an ASCII event at the size limit like the event-by-event path', () => {
        const big = tok('y'.repeat(200));
        const limit = big.length - 2; // `data: ` + chunk, without the blank line
        const before = b(around(tok('b'), ''));
        const stream = Buffer.concat([before, b(big + tok('c') + finishEv() + DONE)]);
        for (const max of [limit, limit + 1]) {
          const ref = expectInvariant(stream, { max }, max);
          expect(ref.failure).toBe(undefined);
          expect(ref.body).toContain('y'.repeat(200));
        }
        // One over: refused, after what came before it, whenever the big event starts a read
        // (a read holding both is tested further down).
        const max = limit - 1;
        const ref = eventByEvent(stream, { max });
        expect(ref.errorDetail).toBe('event_too_large');
        for (let cut = before.length; cut < stream.length; cut += 7) {
          expect(
            fast(
              [
                stream.subarray(0, before.length),
                ...splitAt(stream.subarray(before.length), [cut - before.length]),
              ],
              { max },
            ),
          ).toEqual(ref);
        }
      });

      it('does not let a run swallow the event after it, whatever its bytes', () => {
        // Events that share the template's prefix and differ only after the text.
        const tails = [
          tok('a').replace('"obfuscation":"x"}', '"obfuscation":"x"} '),
          tok('a').replace('"obfuscation":"x"}', '"obfuscation":"x","usage":{"prompt_tokens":1}}'),
          tok('a').replace('"obfuscation":"x"}', '"obfuscation":"x"}}'),
          tok('a').replace('"x"}\n\n', '"x"}\n\n\n'),
          rawTok('"a\\"', 'x'), // an escaped closing quote: the string runs on
        ];
        for (const [i, t] of tails.entries()) {
          const stream = b(around(tok('b') + t + tok('c')));
          expectInvariant(stream, {}, 300 + i);
        }
      });

      it('commits at the first text, not at a role chunk or an empty-text chunk', () => {
        const stream = b(
          role + tok('') + tok('') + tok('a') + tok('') + tok('b') + finishEv() + DONE,
        );
        const ref = expectInvariant(stream);
        expect(ref.beforeText).toEqual(['lifecycle', 'lifecycle', 'lifecycle', 'content']);
        expect(ref.commits).toBe(1);
      });
      it('agrees on random streams of mixed events at random splits (fixed seed)', () => {
        const next = rng(20261204);
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
        const texts = [
          'a',
          'Hello',
          ' ',
          '\\',
          '\\"',
          '"',
          'caf\u00e9',
          '\u{1f600}',
          '\u2028',
          '\n',
          '',
          '}]}',
          '","finish_reason":"stop',
        ];
        const rawTexts = ['"\\u00e9"', '"\\ud83d\\ude00"', '"\\\\"', '"x\\\\\\""', '"\\/"'];
        const two = (e: string) => e.replace('"index":0', '"index":1');
        const makers: (() => string)[] = [
          () => tok(pick(texts) + pick(texts), 'o'.repeat(Math.floor(next() * 5))),
          () => tok(pick(texts)),
          () => rawTok(pick(rawTexts)),
          () => two(tok(pick(texts))),
          () => rawTok('"f"', 'x', '"stop"'),
          () => finishEv(pick(['stop', 'length'])),
          () => two(finishEv()),
          () => usageEv,
          () => tok('u').replace('"usage":null', '"usage": null'),
          () => `: ping ${Math.floor(next() * 100)}\n\n`,
          () => `event: message\n${tok('e')}`,
          () => `data: {"id":"c","choices":[],"prompt_filter_results":[]}\n\n`,
          () => `data: {"id":"c","choices":[{"index":0,"finish_reason":null}]}\n\n`,
          () =>
            tok('t').replace(
              '{"content":"t"}',
              '{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}',
            ),
          () => tok('m').replace('"delta":', '"delta":\ndata: '),
          () => `data: {"error":{"message":"boom","type":"server_error"}}\n\n`,
        ];
        let checked = 0;
        let withRuns = 0;
        for (let s = 0; s < 150; s++) {
          let body = role + (next() < 0.5 ? two(role) : '');
          const count = 3 + Math.floor(next() * 25);
          for (let i = 0; i < count; i++) body += next() < 0.55 ? tok(pick(texts)) : pick(makers)();
          if (next() < 0.5) body += DONE;
          if (next() < 0.2) body = body.slice(0, body.length - 1 - Math.floor(next() * 20));
          const stream = b(body);
          const opts = { choices: body.includes('"index":1') ? 2 : 1 };
          const ref = eventByEvent(stream, opts);
          const whole = new OpenAIStreamDecoder(cctx, undefined, scan).push(stream);
          if (whole.some((i) => i.kind === 'frames')) withRuns++;
          for (let k = 0; k < 12; k++) {
            const cuts = Array.from({ length: Math.floor(next() * 8) }, () =>
              Math.floor(next() * stream.length),
            );
            const reads = k === 0 ? [stream] : splitAt(stream, cuts);
            const got = fast(reads, opts);
            expect(got, `stream ${s}, reads ${reads.map((r) => r.length).join(',')}`).toEqual(ref);
            checked++;
          }
        }
        expect(checked).toBe(1800);
        // The fast path must really have been taken, in most streams.
        expect(withRuns).toBeGreaterThan(100);
      });
    });

    describe('the template fast path on events that only look like template chunks', () => {
      // A backslash before a line feed is no JSON escape: a string that seems to continue onto
      // the event's next line ends the run, and the event is read line by line. Here the
      // second line is a comment, so the data is cut short and is not JSON.
      const continued = (line2: string) =>
        `data: ${HEAD}{"content":"a\\\n${line2}"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"x"}\n\n`;

      it('does not forward a two-line event (backslash, LF, comment) that the parser rejects', () => {
        const stream = b(around(tok('b') + continued(': comment') + tok('c')));
        const ref = eventByEvent(stream);
        // Event by event: the event's data is the first line alone, not JSON -> a stream error.
        expect(ref.failure).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
        expect(semantic(stream).failure).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
        expect(fast([stream])).toEqual(ref);
      });

      it('does not forward a two-line event continued from the obfuscation string either', () => {
        const ev = `data: ${HEAD}{"content":"a"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"x\\\n: comment"}\n\n`;
        const stream = b(around(tok('b') + ev + tok('c')));
        // Event by event: the data is the first line alone (the comment line is dropped),
        // which ends inside the obfuscation string: not JSON, so a stream error.
        const ref = eventByEvent(stream);
        expect(ref.failure).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
        expect(ref.body).not.toContain(': comment');
        expect(fast([stream])).toEqual(ref);
      });

      it('does not forward a two-line event whose second line is an event: field', () => {
        const stream = b(around(tok('b') + continued('event: error') + tok('c')));
        expect(eventByEvent(stream).failure).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
        expect(fast([stream])).toEqual(eventByEvent(stream));
      });

      it('refuses a two-line event joined across a backslash (data:x), on both paths', () => {
        // The parser joins the two data lines with a line feed, right after the backslash:
        // not JSON, so a stream error, never a run forwarded as `data:x...`.
        const stream = b(around(tok('b') + continued('data:x') + tok('c')));
        const ref = eventByEvent(stream);
        expect(ref.failure).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
        expect(fast([stream])).toEqual(ref);
      });

      it.each([['ff'], ['80'], ['c080'], ['eda080'], ['fe41']])(
        'forwards invalid UTF-8 (%s) the way the relay does (U+FFFD), not as raw bytes',
        (hex) => {
          // Lone invalid bytes decode to one U+FFFD each, so the read's text is as long as its
          // bytes: length alone must not pass it for ASCII and forward the raw bytes.
          const [pre, post] = rawTok('"c#"').split('#');
          const stream = Buffer.concat([
            b(around(tok('b'), '') + pre),
            Buffer.from(hex, 'hex'),
            b(post + tok('d') + finishEv() + DONE),
          ]);
          const ref = eventByEvent(stream);
          expect(ref.body).toContain('c\u00ef\u00bf\u00bd'); // EF BF BD, latin1-rendered
          expect(ref.body).not.toContain(Buffer.from(hex, 'hex').toString('latin1') + '"');
          expect(fast([stream])).toEqual(ref);
        },
      );

      it('learns no template from a multi-line event whose fixed text then spans a non-data line', () => {
        // Data the parser joined with '\n' teaches no template: its fixed text would hold a
        // line feed, and a later event whose second line is not a data: line (an unknown field
        // the parser ignores) would match it.
        const learnFrom =
          `data: ${HEAD}{"content":"a"},\n` +
          `data: "logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"x"}\n\n`;
        const later = (t: string) =>
          `data: ${HEAD}{"content":"${t}"},\n` +
          `"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"x"}\n\n`;
        // The parser takes the read after the multi-line event up to its first blank line;
        // the read after that starts at a boundary and takes the fast path.
        const reads = [
          b(role + learnFrom),
          b(tok('x')),
          b(later('b') + later('c') + finishEv() + DONE),
        ];
        const stream = Buffer.concat(reads);
        const ref = eventByEvent(stream);
        // Event by event: `later`'s data is its first line only, not JSON -> a stream error.
        expect(ref.failure).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
        expect(fast(reads)).toEqual(ref);
      });
    });

    describe('the decoder around the fast path against the references', () => {
      it('counts an event against maxEventBytes in bytes, at any split', () => {
        // 120 characters of é: 120 characters, 240 bytes. The limit is in bytes on every path,
        // whether the event is read whole or split.
        const big = tok('\u00e9'.repeat(120));
        const chars = big.length - 2;
        const bytes = Buffer.byteLength(big) - 2;
        const max = chars + 10;
        expect(bytes).toBeGreaterThan(max);
        const reads = [b(around(tok('b'), '')), b(big + tok('c') + finishEv() + DONE)];
        const stream = Buffer.concat(reads);
        const ref = eventByEvent(stream, { max });
        expect(ref.errorDetail).toBe('event_too_large');
        expect(run(new ReferenceDecoder(max), reads, { max })).toEqual(ref);
        expect(fast(reads, { max })).toEqual(ref);
      });

      it('hands the parser the right byte offset after events holding invalid UTF-8', () => {
        // Where the parser takes over is found in decoded text; each U+FFFD there stood for one
        // invalid byte but re-encodes to three, so converting the offset back would start the
        // parser 2 bytes late per invalid byte (here inside the finish event). No template is
        // involved: the bad event is the stream's first text.
        const [pre, post] = rawTok('"x#"').split('#');
        const stream = Buffer.concat([
          b(role + pre),
          Buffer.from('ffffff', 'hex'),
          b(post + ': c\n\n' + finishEv()),
        ]);
        const ref = eventByEvent(stream);
        expect(semantic(stream)).toEqual(ref);
        expect(ref.errorDetail).toBe('eof_before_usage'); // the finish was seen
        expect(fast([stream])).toEqual(ref);
      });

      it('does not strip a U+FEFF mid-stream when the SSE parser is made late', () => {
        // Only the stream's first bytes may hold a BOM; a line starting with U+FEFF later is an
        // unknown field, even for a parser made on first need, mid-stream.
        const stream = b(role + tok('a') + '\ufeff' + finishEv());
        const ref = eventByEvent(stream);
        expect(ref.errorDetail).toBe('eof_without_finish');
        expect(semantic(stream).errorDetail).toBe('eof_without_finish');
        expect(fast([stream])).toEqual(ref);
      });

      it('hands over the items decoded before an oversized event in the same read', () => {
        // The items a read completed before an oversized event (here the first text) go out
        // first, so the relay fails after its commit point, as event by event, not before it.
        const big = tok('y'.repeat(400));
        const stream = b(role + tok('a') + big + DONE);
        const ref = eventByEvent(stream, { max: 300 });
        expect(ref.started).toBe(true);
        expect(ref.errorDetail).toBe('event_too_large');
        expect(fast([stream], { max: 300 })).toEqual(ref);
      });
    });

    describe('event-by-event decoding against JSON.parse', () => {
      it('records the finish of a second choice in the same chunk (n=2, no [DONE])', () => {
        const both =
          `data: {"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null},` +
          `{"index":1,"delta":{},"finish_reason":"stop"}]}\n\n`;
        const stream = b(
          role + role.replace('"index":0', '"index":1') + both + finishEv('stop', 0),
        );
        const ref = semantic(stream, { choices: 2 });
        expect(ref.errorDetail).toBe('eof_before_usage'); // both finishes seen
        expect(eventByEvent(stream, { choices: 2 })).toEqual(ref);
      });

      it('reads a duplicated finish_reason the way JSON.parse does (the last wins)', () => {
        const dup = tok('z').replace(
          '"finish_reason":null',
          '"finish_reason":null,"finish_reason":"stop"',
        );
        const stream = b(role + tok('a') + dup);
        const ref = semantic(stream);
        expect(ref.errorDetail).toBe('eof_before_usage'); // the finish was seen
        expect(eventByEvent(stream)).toEqual(ref);
      });

      it('bills a duplicated usage key the way JSON.parse does (the last wins)', () => {
        const dup = tok('a').replace(
          '"usage":null',
          '"usage":null,"usage":{"prompt_tokens":9,"completion_tokens":1}',
        );
        const stream = b(role + tok('a') + dup + finishEv() + DONE);
        const ref = semantic(stream);
        expect(ref.usage).toEqual({ promptTokens: 9, completionTokens: 1, totalTokens: 10 });
        expect(eventByEvent(stream)).toEqual(ref);
      });

      it('refuses a text chunk that is not JSON (a raw tab inside the string)', () => {
        const stream = b(role + tok('a') + rawTok('"a\tb"') + finishEv() + DONE);
        const ref = semantic(stream);
        expect(ref.failure).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
        expect(eventByEvent(stream)).toEqual(ref);
      });

      it('does not commit on a role chunk whose "content" text sits in another field', () => {
        const odd = `data: {"id":"c","choices":[{"index":0,"message":{"content":"m"},"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n`;
        const stream = b(odd + tok('a') + finishEv() + DONE);
        const ref = semantic(stream);
        expect(ref.beforeText).toEqual(['lifecycle', 'content']);
        expect(eventByEvent(stream)).toEqual(ref);
      });
    });
  });
}
