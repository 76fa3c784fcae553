import { describe, expect, it } from 'vitest';
import { parseChatRequest } from '../../sidecar/api/chat-request.js';
import { GatewayError } from '../../sidecar/errors.js';

const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

function rejection(body: unknown): { code: string; param: string | null; status: number } {
  const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  try {
    parseChatRequest(raw);
  } catch (err) {
    if (err instanceof GatewayError)
      return { code: err.code, param: err.param, status: err.status };
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('parseChatRequest', () => {
  it('accepts every field a client may send', () => {
    const full = {
      ...base,
      stream: true,
      stream_options: { include_usage: true },
      n: 2,
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: {} } },
      messages: [
        { role: 'developer', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
        { role: 'assistant', content: null, tool_calls: [] },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
      ],
      stop: ['END'],
      seed: 7,
      logprobs: true,
      top_logprobs: 3,
      user: 'u-1',
      max_tokens: 100,
      max_completion_tokens: 50,
      some_future_field: { kept: true },
    };
    const parsed = parseChatRequest(Buffer.from(JSON.stringify(full)));
    expect(parsed).toMatchObject({ model: 'm', stream: true, includeUsage: true, n: 2 });
    expect(parsed.body.some_future_field).toEqual({ kept: true });
  });

  it.each([
    ['{"model": "m", "messages": [', 'GW_ERR_REQ_INVALID_JSON', null],
    [[1, 2], 'GW_ERR_REQ_INVALID_FIELD', null],
    [{ messages: base.messages }, 'GW_ERR_REQ_MISSING_FIELD', 'model'],
    [{ ...base, model: 42 }, 'GW_ERR_REQ_INVALID_FIELD', 'model'],
    [{ model: 'm' }, 'GW_ERR_REQ_MISSING_FIELD', 'messages'],
    [{ ...base, messages: [] }, 'GW_ERR_REQ_INVALID_FIELD', 'messages'],
    [
      { ...base, messages: [{ role: 'robot', content: 'x' }] },
      'GW_ERR_REQ_INVALID_FIELD',
      'messages[0].role',
    ],
    [{ ...base, messages: [{ role: 'user' }] }, 'GW_ERR_REQ_MISSING_FIELD', 'messages[0].content'],
    [
      { ...base, messages: [{ role: 'tool', content: 'x' }] },
      'GW_ERR_REQ_MISSING_FIELD',
      'messages[0].tool_call_id',
    ],
    [{ ...base, stream: 'yes' }, 'GW_ERR_REQ_INVALID_FIELD', 'stream'],
    [
      { ...base, stream_options: { include_usage: true } },
      'GW_ERR_REQ_INVALID_FIELD',
      'stream_options',
    ],
    [{ ...base, n: 0 }, 'GW_ERR_REQ_INVALID_FIELD', 'n'],
    [{ ...base, max_tokens: 1.5 }, 'GW_ERR_REQ_INVALID_FIELD', 'max_tokens'],
    [{ ...base, temperature: 3 }, 'GW_ERR_REQ_INVALID_FIELD', 'temperature'],
    [{ ...base, stop: ['a', 'b', 'c', 'd', 'e'] }, 'GW_ERR_REQ_INVALID_FIELD', 'stop'],
    [
      { ...base, tools: [{ type: 'function', function: { name: 'has space' } }] },
      'GW_ERR_REQ_INVALID_FIELD',
      'tools[0].function.name',
    ],
    [{ ...base, tool_choice: 'sometimes' }, 'GW_ERR_REQ_INVALID_FIELD', 'tool_choice'],
    [
      { ...base, response_format: { type: 'yaml' } },
      'GW_ERR_REQ_INVALID_FIELD',
      'response_format.type',
    ],
    [
      { ...base, response_format: { type: 'json_schema' } },
      'GW_ERR_REQ_MISSING_FIELD',
      'response_format.json_schema',
    ],
  ])('rejects %j with %s at %s', (body, code, param) => {
    const got = rejection(body);
    expect(got.code).toBe(code);
    expect(got.param).toBe(param);
    expect(got.status).toBe(400);
  });

  it('says which character of a model name is refused, without quoting it', () => {
    const raw = Buffer.from(JSON.stringify({ ...base, model: 'm\u202egpt' }));
    expect(() => parseChatRequest(raw)).toThrow(
      "'model' must be at most 256 characters of well-formed text, with no control, " +
        'line-separator or bidirectional-override characters; it has U+202E at character 2.',
    );
  });

  // Written as raw JSON: past 2^53 JSON.stringify of a number would not keep these digits.
  const withSeed = (seed: string, extra = '') =>
    Buffer.from(`{"model":"m",${extra}"seed":${seed},"messages":[{"role":"user","content":"hi"}]}`);
  const SEED_RANGE = "'seed' must be an integer from -9223372036854775808 to 9223372036854775807.";

  it.each([
    '9007199254740993',
    '9223372036854775807',
    '-9223372036854775808',
    '1e18',
    '92233720368547758070e-1',
    '-0',
  ])('accepts the int64 seed %s', (seed) => {
    expect(() => parseChatRequest(withSeed(seed))).not.toThrow();
  });

  it.each([
    '9223372036854775808',
    '-9223372036854775809',
    '18446744073709551615',
    '1e19',
    '9007199254740993.5',
    '4503599627370495.5',
    '1.5',
    '"7"',
    'true',
  ])('refuses the seed %s, stating the int64 range', (seed) => {
    expect(() => parseChatRequest(withSeed(seed))).toThrow(SEED_RANGE);
  });

  it('judges the top-level seed, not a nested or earlier one', () => {
    const nested = '"tools":[{"type":"function","function":{"name":"f","parameters":{"seed":1}}}],';
    expect(() => parseChatRequest(withSeed('9223372036854775808', nested))).toThrow(SEED_RANGE);
    const after = Buffer.from(
      '{"model":"m","seed":9223372036854775807,"messages":[{"role":"user","content":"hi"}],' +
        '"metadata":{"seed":9223372036854775808}}',
    );
    expect(() => parseChatRequest(after)).not.toThrow();
    // JSON.parse keeps the last of two keys, escaped or not; so does the check.
    const last = (first: string, second: string) =>
      Buffer.from(
        `{"model":"m","messages":[{"role":"user","content":"hi"}],` +
          `"seed":${first},"se\\u0065d":${second}}`,
      );
    expect(() => parseChatRequest(last('1', '9223372036854775808'))).toThrow(SEED_RANGE);
    expect(() =>
      parseChatRequest(last('9223372036854775808', '9223372036854775807')),
    ).not.toThrow();
  });

  it.each([
    [
      'max_tokens',
      '9007199254740993',
      "'max_tokens' must be an integer from 1 to 9007199254740991.",
    ],
    [
      'max_completion_tokens',
      '1e300',
      "'max_completion_tokens' must be an integer from 1 to 9007199254740991.",
    ],
    ['n', '9007199254740993', "'n' must be an integer from 1 to 128."],
    ['top_logprobs', '21', "'top_logprobs' must be an integer from 0 to 20."],
  ])('states the range of %s when %s is out of it', (key, value, message) => {
    const raw = Buffer.from(
      `{"model":"m","${key}":${value},"messages":[{"role":"user","content":"hi"}]}`,
    );
    expect(() => parseChatRequest(raw)).toThrow(message);
  });
});
