import { describe, expect, it } from 'vitest';
import { ChunkTemplate } from '../../../sidecar/providers/openai/chunk-template.js';
import { loadSseScanKernel } from '../../../sidecar/providers/openai/sse-scan-kernel.js';
import { OpenAIStreamDecoder } from '../../../sidecar/providers/openai/stream-decoder.js';
import type { StreamItem } from '../../../sidecar/providers/adapter.js';
import { seededRandom as rng } from '../../support/random.js';

const kernel = await loadSseScanKernel();

const HEAD =
  '{"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1700000000,' +
  '"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":';
const TAIL = '},"logprobs":null,"finish_reason":null}]';
const chunk = (content: string, obfuscation?: string): string =>
  `${HEAD}${content}${TAIL}${obfuscation === undefined ? '' : `,"obfuscation":${obfuscation}`}}`;

// JSON string bodies, well-formed or not, all ASCII: escapes good and bad, raw controls, DEL.
const PIECES = ['a', ' word', '\\"', '\\\\', '\\n', '\\u00e9', '\\uZZ00', '\\x', '\t', '\x7f', '"'];

function stringLiteral(next: () => number): string {
  let body = '';
  const n = Math.floor(next() * 5);
  for (let i = 0; i < n; i++) body += PIECES[Math.floor(next() * PIECES.length)];
  return `"${body}"`;
}

function event(next: () => number, withObfuscation: boolean): string {
  const obfuscation = withObfuscation ? stringLiteral(next) : undefined;
  let data = chunk(stringLiteral(next), obfuscation);
  const roll = next();
  // Now and then an event that must end a run: a changed fixed byte, one LF, a finish.
  if (roll < 0.05) data = data.replace('"index":0', '"index":1');
  else if (roll < 0.08) return `data: ${data}\n`;
  else if (roll < 0.1) data = data.replace('"finish_reason":null', '"finish_reason":"stop"');
  return `data: ${data}\n\n`;
}

describe('the sse-scan kernel against ChunkTemplate.matchRun on text', () => {
  it('ends every run where the text matcher does, on random ASCII streams (fixed seed)', () => {
    let compared = 0;
    let runs = 0;
    for (const withObfuscation of [false, true]) {
      const template = ChunkTemplate.learn(chunk('"x"', withObfuscation ? '"pad"' : undefined));
      expect(template).toBeDefined();
      const bytes = template!.bytes;
      expect(bytes).toBeDefined();
      const next = rng(withObfuscation ? 7 : 3);
      for (let s = 0; s < 300; s++) {
        let text = '';
        const events = 1 + Math.floor(next() * 12);
        for (let e = 0; e < events; e++) text += event(next, withObfuscation);
        // A read may end anywhere; the matcher must never read past it.
        text = text.slice(0, text.length - Math.floor(next() * 6));
        const read = Buffer.from(text, 'latin1');
        kernel.load(read, bytes!);
        for (let at = 0; at < text.length; at = text.indexOf('data: ', at + 1)) {
          if (at === -1) break;
          for (const max of [1 << 20, 200 + Math.floor(next() * 150)]) {
            const expected = template!.matchRun(text, at, max);
            expect(kernel.matchRun(at, read.length, max), `${JSON.stringify(text)} @${at}`).toBe(
              expected,
            );
            compared++;
            if (expected > at) runs++;
          }
        }
      }
    }
    // Both outcomes must be common, or the comparison proves little.
    expect(compared).toBeGreaterThan(3000);
    expect(runs).toBeGreaterThan(500);
    expect(compared - runs).toBeGreaterThan(500);
  });

  it('takes a template with a non-ASCII fixed part as none (no ASCII event can match it)', () => {
    const template = ChunkTemplate.learn(chunk('"x"').replace('gpt-4o-mini', 'gpt-\u00e9'));
    expect(template).toBeDefined();
    expect(template!.bytes).toBeUndefined();
  });

  it('leaves a template too large for the kernel to event-by-event decoding, same bytes', () => {
    // A constant field larger than the kernel's template region.
    const big = (c: string) =>
      chunk(c).replace('"fp_1"', `"fp_${'A'.repeat(kernel.templateCapacity)}"`);
    const events = ['"Hi"', '" there"', '" you"'].map((c) => `data: ${big(c)}\n\n`);
    const read = Buffer.from(events.join('') + 'data: [DONE]\n\n');
    const bytesOf = (items: StreamItem[]) =>
      items.map((i) => (i.kind === 'frames' ? Buffer.from(i.frames).toString() : i.kind)).join('');
    const viaKernel = new OpenAIStreamDecoder({ providerId: 'p', secrets: [] }, 1 << 20, kernel);
    const items = viaKernel.push(read);

    expect(items.map((i) => i.kind)).toEqual(['chunk', 'chunk', 'chunk', 'done']);
    const onText = new OpenAIStreamDecoder({ providerId: 'p', secrets: [] }, 1 << 20).push(read);
    expect(onText.map((i) => i.kind)).toEqual(['chunk', 'frames', 'done']);
    const raw = items.map((i) => (i.kind === 'chunk' ? Buffer.from(i.raw!).toString() : ''));
    expect(raw.join('')).toBe(events.join(''));
    expect(bytesOf(onText.slice(1, 2))).toBe(events.slice(1).join(''));
  });

  it('refuses a start past the end, as a checked entry point', () => {
    const template = ChunkTemplate.learn(chunk('"x"'))!;
    kernel.load(Buffer.from(`data: ${chunk('"y"')}\n\n`), template.bytes!);
    expect(() => kernel.matchRun(5, 2, 1000)).toThrow(RangeError);
  });
});
