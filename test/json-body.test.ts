import { describe, expect, it } from 'vitest';
import { GatewayError } from '../sidecar/errors.js';
import {
  MAX_JSON_DEPTH,
  parseJsonBody,
  scanJsonBody,
  topLevelNumberText,
} from '../sidecar/json-body.js';
import { seededRandom } from './support/random.js';

/**
 * The reference: the top-level keys of a well-formed JSON object as (offset, token) pairs,
 * found by a recursive-descent reader that shares no code with the scanner.
 */
function topLevelKeys(text: string): { at: number; token: string }[] {
  let i = 0;
  const keys: { at: number; token: string }[] = [];
  const ws = () => {
    while (' \t\n\r'.includes(text[i]) && i < text.length) i++;
  };
  const str = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return text.slice(start, i);
  };
  const value = (depth: number): void => {
    ws();
    const c = text[i];
    if (c === '"') str();
    else if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const at = i;
        const token = str();
        if (depth === 0) keys.push({ at: Buffer.byteLength(text.slice(0, at)), token });
        ws();
        i++; // :
        value(depth + 1);
        ws();
        if (text[i++] === '}') return;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i++] === ']') return;
      }
    } else {
      while (i < text.length && !',]} \t\n\r'.includes(text[i])) i++;
    }
  };
  value(0);
  return keys;
}

function expected(text: string): number {
  const models = topLevelKeys(text).filter((k) => JSON.parse(k.token) === 'model');
  return models.length === 1 && models[0].token === '"model"' ? models[0].at : -1;
}

// "model" three times: a body with exactly one plain model key should be common.
const KEYS = [
  '"model"',
  '"model"',
  '"model"',
  '"mod\\u0065l"',
  '"\\u006dodel"',
  '"models"',
  '"mode"',
  '"messages"',
  '"x\\"model"',
  '"model\\\\"',
  '"é"',
  '"model "',
];
const STRINGS = [
  '"model"',
  '"a \\"model\\": \\"b\\""',
  '"[{"',
  '"}]"',
  '"\\\\"',
  '"é\\u00e9"',
  '""',
];

function randomValue(rand: () => number, depth: number): string {
  const r = rand();
  if (depth > 3 || r < 0.35) return STRINGS[Math.floor(rand() * STRINGS.length)];
  if (r < 0.45) return ['1', '-2.5e3', 'true', 'null'][Math.floor(rand() * 4)];
  if (r < 0.7) {
    const n = Math.floor(rand() * 3);
    return `[${Array.from({ length: n }, () => randomValue(rand, depth + 1)).join(' , ')}]`;
  }
  return randomObject(rand, depth + 1);
}

function randomObject(rand: () => number, depth: number): string {
  const n = Math.floor(rand() * 4);
  const sp = () => (rand() < 0.2 ? ' \n' : '');
  const members = Array.from({ length: n }, () => {
    const key = KEYS[Math.floor(rand() * KEYS.length)];
    return `${sp()}${key}${sp()}:${sp()}${randomValue(rand, depth)}`;
  });
  return `{${members.join(',')}${sp()}}`;
}

describe('scanJsonBody', () => {
  it('finds the one plain top-level "model" key, as a reference reader does (3,000 bodies)', () => {
    const rand = seededRandom(20261205);
    let found = 0;
    for (let n = 0; n < 3000; n++) {
      const text = randomObject(rand, 0);
      JSON.parse(text); // the generator writes only well-formed JSON
      const want = expected(text);
      if (want !== -1) found++;
      expect({ text, at: scanJsonBody(Buffer.from(text)) }).toEqual({ text, at: want });
    }
    // The generator reaches both answers often enough for the comparison to mean something.
    console.error('found', found);
    expect(found).toBeGreaterThan(300);
    expect(found).toBeLessThan(2700);
  });

  it.each([
    ['a plain key', '{"model":"a","messages":[]}', 1],
    ['a key after nested ones', '{"m":{"model":"x"},"model":"a"}', 19],
    ['two plain keys', '{"model":"a","model":"b"}', -1],
    ['an escaped spelling beside a plain one', '{"model":"a","mod\\u0065l":"b"}', -1],
    ['only an escaped spelling', '{"\\u006dodel":"a"}', -1],
    ['only a nested key', '{"m":[{"model":"x"}]}', -1],
    ['"model" as a value', '{"m":"model"}', -1],
    ['an escaped key before it', '{"\\n":1,"model":"a"}', 8],
  ])('with %s: %s', (_, text, at) => {
    expect(scanJsonBody(Buffer.from(text))).toBe(at);
  });

  it(`allows ${MAX_JSON_DEPTH} levels and refuses one more, counting no bracket in a string`, () => {
    const nest = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    expect(scanJsonBody(Buffer.from(`{"a":${nest(MAX_JSON_DEPTH - 1)}}`))).toBe(-1);
    const inString = `{"model":"${'[{'.repeat(500)}\\"${'['.repeat(200)}"}`;
    expect(scanJsonBody(Buffer.from(inString))).toBe(1);
    let error: unknown;
    try {
      scanJsonBody(Buffer.from(`{"a":${nest(MAX_JSON_DEPTH)}}`));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('GW_ERR_REQ_INVALID_FIELD');
    expect((error as GatewayError).message).toBe(
      `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`,
    );
  });
});

describe('topLevelNumberText', () => {
  const text = (json: string) => topLevelNumberText(Buffer.from(json), 'seed');

  it('reads the digits of the last top-level key as sent, past what a double holds', () => {
    expect(text('{"seed" :\t-9223372036854775809 ,"n":1}')).toBe('-9223372036854775809');
    expect(text('{"seed":1,"x":{"seed":2},"s\\u0065ed":3e2}')).toBe('3e2');
    expect(text('{"x":"\\",\"seed\":5","y":[{"seed":6}]}')).toBeUndefined();
  });

  it('gives an empty text when the value is not a number', () => {
    expect(text('{"seed":"12"}')).toBe('');
    expect(text('{"seed":null}')).toBe('');
  });
});

describe('parseJsonBody', () => {
  const body = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  const NOT_UTF8 = 'The request body is not valid UTF-8, which JSON must be (RFC 8259).';

  it.each([
    ['a stray 0xFF', [0xff]],
    ['a Latin-1 é', [0xe9]],
    ['a lone continuation byte', [0x80]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a sequence cut short', [0xe2, 0x82]],
  ])('refuses %s instead of reading it as U+FFFD', (_, bytes) => {
    const raw = body('{"model":"m/', bytes, 'ok","messages":[]}');
    let error: unknown;
    try {
      parseJsonBody(raw);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'GW_ERR_REQ_INVALID_JSON', status: 400, param: null });
    expect((error as Error).message).toBe(NOT_UTF8);
  });

  it('reads every well-formed character, U+FFFD itself among them', () => {
    const text = 'é 模型 😀 \uFFFD';
    expect(parseJsonBody(Buffer.from(JSON.stringify({ text })))).toEqual({ text });
  });

  it('refuses well-formed text that is not JSON, saying so', () => {
    expect(() => parseJsonBody(Buffer.from('{"model":'))).toThrow(
      /^The request body is not valid JSON \(/,
    );
  });
});
