import { describe, expect, it } from 'vitest';
import {
  readOpenAIUsage,
  scanOpenAIUsage,
  UNSCANNED,
} from '../../../sidecar/providers/openai/usage.js';
import { seededRandom } from '../../support/random.js';

/** The reference: what a full parse of the same text reads. */
function parsed(text: string): unknown {
  try {
    return readOpenAIUsage(JSON.parse(text));
  } catch {
    return 'not JSON';
  }
}

function scanned(text: string): unknown {
  const bytes = Buffer.from(`xx${text}yy`);
  return scanOpenAIUsage(bytes, 2);
}

const OPENAI_USAGE =
  '{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,' +
  '"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},' +
  '"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,' +
  '"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}';

describe('reading a usage object from its bytes', () => {
  it('reads what OpenAI sends, details included', () => {
    expect(scanned(OPENAI_USAGE)).toEqual({
      promptTokens: 19,
      completionTokens: 10,
      totalTokens: 29,
      cachedTokens: 0,
      reasoningTokens: 0,
    });
    expect(scanned(OPENAI_USAGE)).toEqual(parsed(OPENAI_USAGE));
  });

  it.each([
    ['pretty-printed', JSON.stringify(JSON.parse(OPENAI_USAGE), null, 2)],
    ['no total', '{"prompt_tokens":5,"completion_tokens":7}'],
    ['completion only', '{"completion_tokens":7}'],
    ['nulls', '{"prompt_tokens":5,"completion_tokens":null,"total_tokens":null}'],
    ['empty', '{}'],
    ['no token counts', '{"foo":1}'],
    ['a duplicated key: the last wins', '{"prompt_tokens":5,"prompt_tokens":9}'],
    ['a count replaced by null', '{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens":null}'],
    ['a count replaced by an object', '{"prompt_tokens":5,"prompt_tokens":{}}'],
    [
      'details replaced by a later object',
      '{"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":4},"prompt_tokens_details":{}}',
    ],
    ['details as null', '{"prompt_tokens":1,"prompt_tokens_details":null}'],
    [
      'token keys inside another object do not count',
      '{"prompt_tokens":1,"other":{"prompt_tokens":99,"cached_tokens":3}}',
    ],
    ['cached_tokens at the top level does not count', '{"prompt_tokens":1,"cached_tokens":3}'],
    ['empty details', '{"prompt_tokens":1,"completion_tokens_details":{}}'],
    ['zero', '{"prompt_tokens":0,"completion_tokens":0}'],
    ['fifteen digits', '{"prompt_tokens":999999999999999}'],
  ])('agrees with a full parse: %s', (_name, text) => {
    const got = scanned(text);
    expect(got).not.toBe(UNSCANNED);
    expect(got).toEqual(parsed(text));
  });

  it.each([
    ['a fraction', '{"prompt_tokens":1.5}'],
    ['an exponent', '{"prompt_tokens":1e3}'],
    ['a negative number', '{"prompt_tokens":-1}'],
    ['sixteen digits', '{"prompt_tokens":1234567890123456}'],
    ['a string value', '{"prompt_tokens":"5"}'],
    ['an escaped key', '{"prompt\\u005ftokens":5}'],
    ['an array', '{"prompt_tokens":5,"x":[1]}'],
    ['objects two deep', '{"prompt_tokens":5,"x":{"y":{}}}'],
    ['true', '{"prompt_tokens":5,"x":true}'],
    ['a leading zero (not JSON)', '{"prompt_tokens":05}'],
    ['a trailing comma (not JSON)', '{"prompt_tokens":5,}'],
    ['a missing colon (not JSON)', '{"prompt_tokens" 5}'],
    ['cut short', '{"prompt_tokens":5,"completion_tokens":'],
  ])('leaves to the full parse: %s', (_name, text) => {
    expect(scanned(text)).toBe(UNSCANNED);
  });

  it('never disagrees with a full parse on 5,000 generated objects', () => {
    const random = seededRandom(20261204);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const keys = [
      'prompt_tokens',
      'completion_tokens',
      'total_tokens',
      'prompt_tokens_details',
      'completion_tokens_details',
      'cached_tokens',
      'reasoning_tokens',
      'audio_tokens',
      'x',
    ];
    const space = (): string => pick(['', '', '', ' ', '\n  ', '\t']);
    const scalar = (): string =>
      pick(['0', '7', '42', '123456', 'null', '1.5', '-3', '"9"', 'true', '[]', '1e2', '00']);
    const object = (depth: number): string => {
      const members: string[] = [];
      const count = Math.floor(random() * 5);
      for (let i = 0; i < count; i++) {
        const value = depth < 2 && random() < 0.3 ? object(depth + 1) : scalar();
        members.push(`${space()}"${pick(keys)}"${space()}:${space()}${value}${space()}`);
      }
      return `{${members.join(',')}${space()}}`;
    };
    let scannedCount = 0;
    for (let n = 0; n < 5000; n++) {
      const text = object(0);
      const got = scanned(text);
      if (got === UNSCANNED) continue;
      scannedCount++;
      expect({ text, got }).toEqual({ text, got: parsed(text) });
    }
    // The generator must exercise the scan, not only its refusals.
    expect(scannedCount).toBeGreaterThan(1000);
  });
});
