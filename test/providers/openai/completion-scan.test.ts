// The kernel's reading of a non-streamed answer (scanCompletion in wasm/sse-scan.ts, through
// SseScanKernel.readCompletion) against JSON.parse. The adapter asks it about every answer up
// to 256 KiB and forwards what it accepts without parsing it, so an accepted answer must be
// one the full path would accept too, with the same usage; and what the full path refuses
// (malformed JSON anywhere in the body, an error beside the choices), the kernel must leave
// to it.

import { describe, expect, it } from 'vitest';
import { createOpenAIAdapter } from '../../../sidecar/providers/openai/adapter.js';
import { isFailure } from '../../../sidecar/providers/openai/classify-error.js';
import { loadSseScanKernel } from '../../../sidecar/providers/openai/sse-scan-kernel.js';
import { readOpenAIUsage, UNSCANNED } from '../../../sidecar/providers/openai/usage.js';
import { seededRandom } from '../../support/random.js';

const kernel = await loadSseScanKernel();
const read = (text: string) => kernel.readCompletion(Buffer.from(text));

/** What the adapter's full path makes of a body: an answer and its usage, or not one. */
function reference(text: string): { usage: unknown } | 'not an answer' | 'invalid' {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'invalid';
  }
  const answer = parsed as { choices?: unknown; error?: unknown } | null;
  if (isFailure(answer?.error) || !Array.isArray(answer?.choices)) return 'not an answer';
  return { usage: readOpenAIUsage((parsed as { usage?: unknown }).usage) };
}

const USAGES = [
  undefined,
  null,
  {},
  { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
  {
    prompt_tokens: 42,
    completion_tokens: 64,
    total_tokens: 106,
    prompt_tokens_details: { cached_tokens: 8, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 3, audio_tokens: 0 },
  },
  { prompt_tokens: 1, prompt_tokens_details: null, completion_tokens_details: 7 },
  { prompt_tokens: 1.5, completion_tokens: 2 },
  { prompt_tokens: 123456789012345678, completion_tokens: 2 },
  { prompt_tokens: '7', completion_tokens: 2 },
  { prompt_tokens: -1, completion_tokens: 2 },
  { completion_tokens: 2, extra: { deep: [1, { x: 'y' }] } },
  { 'prompt_tokens_details.cached_tokens': 9, prompt_tokens: 3 },
  // Figures the reader does not read, written any way (Groq's and OpenRouter's, say).
  { prompt_tokens: 9, completion_tokens: 4, queue_time: 0.0123, total_time: 1e-3 },
  { prompt_tokens: 9, cost: 0.5, is_byok: false, cost_details: { upstream: null }, note: 'x' },
  {
    prompt_tokens: 9,
    prompt_tokens_details: { cached_tokens: 2, audio_tokens: 0.5, x: [1, { y: true }] },
  },
  {
    prompt_tokens: 9,
    prompt_tokens_details: { cached_tokens: '2' },
    completion_tokens_details: [3],
  },
  { prompt_tokens: { value: 9 }, completion_tokens: true, total_tokens: 'x', cached_tokens: 4 },
  { prompt_tokens: 9, prompt_tokens_details: 'none', completion_tokens_details: {} },
  5,
  'usage',
  [1, 2],
  // Written as text (below): keys that come twice, where JSON.parse keeps the last.
  '§0',
  '§1',
  '§2',
];
const RAW_USAGES = [
  '{"prompt_tokens":5,"prompt_tokens":"x","completion_tokens":2,"completion_tokens":null}',
  '{"prompt_tokens":5,"prompt_tokens_details":{"cached_tokens":2},"prompt_tokens_details":{"audio_tokens":1}}',
  '{"prompt_tokens":5,"completion_tokens_details":{"reasoning_tokens":2},"completion_tokens_details":7,"prompt_tokens_details":{"cached_tokens":1,"cached_tokens":[1]}}',
];
const LONG = 'The quick brown fox jumps over the lazy dog; '.repeat(8);
const TEXTS = [
  LONG,
  `${LONG}"${LONG}\\${LONG}\n`,
  'Hello',
  '',
  'a "quoted" word',
  'back\\slash',
  'line\nbreak',
  'é ü 😀',
  '\u0000\u001f',
  '}],"usage":{"prompt_tokens":1}',
  '{"choices":[]}',
];
const CHOICES = [
  (t: string) => [
    {
      index: 0,
      message: { role: 'assistant', content: t, refusal: null },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  (t: string) => [
    { index: 0, message: { role: 'assistant', content: t }, finish_reason: 'stop' },
    {
      index: 1,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c', type: 'function', function: { name: 'f', arguments: '{"usage":{}}' } },
        ],
      },
      finish_reason: 'tool_calls',
    },
  ],
  () => [],
  () => ({ index: 0 }),
  () => null,
  () => undefined,
];

function generate(next: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const members: [string, unknown][] = [
    ['id', 'chatcmpl-' + Math.floor(next() * 1e9)],
    ['object', 'chat.completion'],
    ['created', 1733350000],
    ['model', pick(['gpt-4o-mini', 'm', 'llama/"3"'])],
    ['choices', pick(CHOICES)(pick(TEXTS))],
    ['usage', pick(USAGES)],
  ];
  if (next() < 0.3) members.push(['system_fingerprint', 'fp_1']);
  if (next() < 0.15) members.push(['error', pick([null, { message: 'x', type: 'server_error' }])]);
  // Keys the kernel must not take for the top-level ones: nested, or spelled with an escape.
  if (next() < 0.2)
    members.push(['x_groq', { id: 'req_1', usage: { prompt_tokens: 99 }, choices: [] }]);
  if (next() < 0.1) members.push(['\\u0075sage', null]);
  // Order varies; so do duplicates, whose last one JSON.parse keeps.
  for (let i = members.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [members[i], members[j]] = [members[j], members[i]];
  }
  if (next() < 0.1) members.push(['usage', pick(USAGES)]);
  if (next() < 0.1) members.push(['choices', pick(CHOICES)('dup')]);
  const pretty = next() < 0.4;
  // Any of JSON's four whitespace characters between tokens.
  const gap = () => pick(['', '', ' ', '\t', '\r\n', ' \n\t']);
  const kv = members
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const key = k.startsWith('\\') ? `"${k}"` : JSON.stringify(k);
      return pretty
        ? `  ${key}: ${JSON.stringify(v, null, 2).replaceAll('\n', '\n  ')}`
        : `${gap()}${key}${gap()}:${gap()}${JSON.stringify(v)}${gap()}`;
    });
  const text = pretty ? `{\n${kv.join(',\n')}\n}` : `{${kv.join(',')}}`;
  return text.replace(/"§(\d)"/g, (_, i: string) => RAW_USAGES[Number(i)]);
}

describe('reading a non-streamed answer in the kernel', () => {
  it('accepts only what JSON.parse reads as an answer, with the same usage (20,000 bodies)', () => {
    const next = seededRandom(5);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = generate(next);
      const want = reference(text);
      const got = read(text);
      if (got === UNSCANNED) continue;
      accepted++;
      expect(want, text).not.toBe('invalid');
      expect(want, text).not.toBe('not an answer');
      expect(got, text).toEqual((want as { usage: unknown }).usage);
    }
    // About a fifth of these bodies are answers with a usage the kernel reads (half have no
    // choices array; many usages are written in ways it leaves to the parse): it must read
    // them, or it saves nothing.
    expect(accepted).toBeGreaterThan(3_000);
  });

  it('accepts no body JSON.parse refuses: 20,000 answers with one byte changed', () => {
    const next = seededRandom(11);
    const TOKENS = [',', ':', '}', ']', '{', '[', '"', '0', '-', '.', 'e', 'x', ' ', '\\'];
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = generate(next);
      const at = Math.floor(next() * text.length);
      const token = TOKENS[Math.floor(next() * TOKENS.length)];
      const mutated =
        next() < 0.5
          ? text.slice(0, at) + text.slice(at + 1)
          : text.slice(0, at) + token + text.slice(at + (next() < 0.5 ? 0 : 1));
      const want = reference(mutated);
      if (want === 'invalid') refused++;
      const got = read(mutated);
      if (got === UNSCANNED) continue;
      expect(want, mutated).not.toBe('invalid');
      expect(want, mutated).not.toBe('not an answer');
      expect(got, mutated).toEqual((want as { usage: unknown }).usage);
    }
    // A third or more of the changes break the JSON (the rest land in strings, or make other
    // valid JSON): the kernel must have refused those, or this test proves nothing.
    expect(refused).toBeGreaterThan(5_000);
  });

  it('reads ordinary answers, pretty-printed as OpenAI sends them or compact', () => {
    const answer = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi "there"\n' },
          finish_reason: 'stop',
        },
      ],
      usage: USAGES[4],
      service_tier: 'default',
    };
    const usage = {
      promptTokens: 42,
      completionTokens: 64,
      totalTokens: 106,
      cachedTokens: 8,
      reasoningTokens: 3,
    };
    expect(read(JSON.stringify(answer))).toEqual(usage);
    expect(read(JSON.stringify(answer, null, 2))).toEqual(usage);
    expect(read(JSON.stringify({ ...answer, usage: undefined }))).toBeUndefined();
    // The last top-level usage, never one nested later in the answer.
    const nestedLater = JSON.stringify(answer).replace(/}$/, ',"x":{"usage":{"prompt_tokens":1}}}');
    expect(read(nestedLater)).toEqual(usage);
  });

  it('reads bytes as they come: UTF-8 and bytes that are not UTF-8 inside strings', () => {
    const answer = (text: Buffer) =>
      Buffer.concat([
        Buffer.from('{"choices":[{"message":{"content":"'),
        text,
        Buffer.from('"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}'),
      ]);
    const usage = { promptTokens: 3, completionTokens: 1, totalTokens: 4 };
    for (const text of [
      Buffer.from('é😀'.repeat(20)),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80]),
      Buffer.from('x'.repeat(31) + '\\"' + 'y'.repeat(17)),
    ]) {
      expect(kernel.readCompletion(answer(text))).toEqual(usage);
    }
    // A raw control character is no JSON string, wherever it falls among sixteen bytes.
    for (let at = 0; at < 40; at++) {
      const text = Buffer.from('z'.repeat(48));
      text[at] = 0x0a;
      expect(kernel.readCompletion(answer(text))).toBe(UNSCANNED);
    }
  });

  it('leaves to the parse what it cannot read with certainty, and anything malformed', () => {
    const ok = '{"choices":[{"index":0}],"usage":{"prompt_tokens":1,"completion_tokens":2}}';
    expect(read(ok)).toEqual({ promptTokens: 1, completionTokens: 2, totalTokens: 3 });
    for (let cut = 0; cut < ok.length; cut++)
      expect(read(ok.slice(0, cut)), ok.slice(0, cut)).toBe(UNSCANNED);
    for (const bad of [
      `${ok} x`,
      `${ok}}`,
      ok.replace('{"index":0}', '{"index":0]'),
      ok.replace('"usage"', '"us\\u0061ge"'),
      ok.replace('"usage":', '"usage"'),
      ok.replace('],"usage"', '] "usage"'),
      '{"choices":[],"error":{"message":"x"},}',
      '{"choices":["a\tb"]}',
      '{"choices":["\\x"]}',
      '{"choices":["\\u12G4"]}',
      '{"choices":[],"n":01}',
      '{"choices":[],"n":tru}',
      '{"error":{"message":"x"}}',
      '[{"choices":[]}]',
      // Malformed inside the choices, where the walk once only matched brackets.
      '{"choices":[{"index":0,}]}',
      '{"choices":[{"index":0},]}',
      '{"choices":[{"index" 0}]}',
      '{"choices":[{"index":0 "x":1}]}',
      '{"choices":[{"index":01}]}',
      '{"choices":[{"index":-}]}',
      '{"choices":[{"index":1.}]}',
      '{"choices":[{"ok":tru}]}',
      '{"choices":[{"ok":truex}]}',
      '{"choices":[{1:2}]}',
      '{"choices":[,]}',
      '{"choices":[1 2]}',
      // An error beside the choices is a failure the adapter must read (OpenRouter's).
      '{"choices":[{"finish_reason":"error"}],"error":{"code":502,"message":"x"}}',
    ]) {
      expect(read(bad), bad).toBe(UNSCANNED);
    }
  });

  it('reads for the adapter a pretty-printed answer, its usage among nested ones', () => {
    const adapter = createOpenAIAdapter({
      providerId: 'p',
      baseUrl: 'http://127.0.0.1:1/v1',
      sseScan: kernel,
    });
    const body = Buffer.from(
      JSON.stringify(
        {
          choices: [],
          usage: { prompt_tokens: 1, prompt_tokens_details: { cached_tokens: 1 } },
          x: { usage: {} },
        },
        null,
        2,
      ),
    );
    expect(adapter.parseChat(body, undefined as never)).toEqual({
      bytes: body,
      usage: { promptTokens: 1, completionTokens: 0, totalTokens: 1, cachedTokens: 1 },
    });
  });
});
