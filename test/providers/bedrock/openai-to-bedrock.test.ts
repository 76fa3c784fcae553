import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../sidecar/errors.js';
import type { JsonObject } from '../../../sidecar/providers/adapter.js';
import { sniffImageFormat } from '../../../sidecar/providers/bedrock/image-block.js';
import { toConverseBody } from '../../../sidecar/providers/bedrock/openai-to-bedrock.js';
import { converseRejection } from '../../support/mock-bedrock.js';

// Image file signatures, padded so the sniffed prefix is complete.
export const PNG = Buffer.concat([
  Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
  Buffer.alloc(8),
]);
export const JPEG = Buffer.concat([Buffer.from('ffd8ffe000104a464946', 'hex'), Buffer.alloc(8)]);
export const GIF = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(10)]);
export const WEBP = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.alloc(4),
  Buffer.from('WEBPVP8 '),
  Buffer.alloc(4),
]);

const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/** Translates, then has the strict mock's rules judge the result. */
function translate(body: JsonObject): JsonObject {
  const out = toConverseBody(body);
  expect(converseRejection(out)).toBeUndefined();
  return out;
}

function refusal(body: JsonObject): GatewayError {
  try {
    toConverseBody(body);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}

describe('OpenAI to Converse: messages', () => {
  it('G12 (Bedrock): every system and developer message lands in system, in order', () => {
    const out = translate({
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'developer', content: 'Answer in French.' },
        { role: 'user', content: 'Capital of Japan?' },
        { role: 'assistant', content: 'Tokyo.' },
        { role: 'system', content: 'From now on reply in JSON.' },
        { role: 'user', content: 'And of Italy?' },
      ],
    });
    expect(out).toEqual({
      system: [
        { text: 'Be terse.' },
        { text: 'Answer in French.' },
        { text: 'From now on reply in JSON.' },
      ],
      messages: [
        { role: 'user', content: [{ text: 'Capital of Japan?' }] },
        { role: 'assistant', content: [{ text: 'Tokyo.' }] },
        { role: 'user', content: [{ text: 'And of Italy?' }] },
      ],
    });
  });

  it('G17: parallel tool results go into one user turn, in order', () => {
    const out = translate({
      messages: [
        { role: 'user', content: 'Weather in Paris and Tokyo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            {
              id: 'call_2',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'tool', tool_call_id: 'call_2', content: '25C' },
      ],
      tools: [WEATHER],
    });
    expect(out.messages).toEqual([
      { role: 'user', content: [{ text: 'Weather in Paris and Tokyo?' }] },
      {
        role: 'assistant',
        content: [
          { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Paris' } } },
          { toolUse: { toolUseId: 'call_2', name: 'get_weather', input: { city: 'Tokyo' } } },
        ],
      },
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: 'call_1', content: [{ text: '18C' }] } },
          { toolResult: { toolUseId: 'call_2', content: [{ text: '25C' }] } },
        ],
      },
    ]);
  });

  it('merges consecutive same-role turns and puts tool results ahead of a following user text', () => {
    const out = translate({
      messages: [
        { role: 'user', content: 'a' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'b' },
            { type: 'text', text: '' },
          ],
        },
        {
          role: 'assistant',
          content: 'c',
          tool_calls: [
            { id: 't1', type: 'function', function: { name: 'get_weather', arguments: '' } },
          ],
        },
        { role: 'user', content: 'never mind the weather' },
        { role: 'tool', tool_call_id: 't1', content: [{ type: 'text', text: 'sunny' }] },
        { role: 'assistant', content: '' },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot.' }] },
      ],
      tools: [WEATHER],
    });
    expect(out.messages).toEqual([
      { role: 'user', content: [{ text: 'a' }, { text: 'b' }] },
      {
        role: 'assistant',
        content: [{ text: 'c' }, { toolUse: { toolUseId: 't1', name: 'get_weather', input: {} } }],
      },
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: 't1', content: [{ text: 'sunny' }] } },
          { text: 'never mind the weather' },
        ],
      },
      { role: 'assistant', content: [{ text: 'I cannot.' }] },
    ]);
  });

  it('drops blank text, which Converse refuses, and the turns it leaves empty', () => {
    const out = translate({
      messages: [
        { role: 'system', content: '   ' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: ' \n ' },
        {
          role: 'user',
          content: [
            { type: 'text', text: '\t' },
            { type: 'text', text: 'there' },
          ],
        },
      ],
    });
    expect(out).toEqual({
      messages: [{ role: 'user', content: [{ text: 'hi' }, { text: 'there' }] }],
    });
  });

  it('sends a data: URI image as bytes, with the format read from the bytes, not the label', () => {
    const b64 = JPEG.toString('base64');
    const out = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            {
              type: 'image_url',
              image_url: { url: `data:image/png;base64,${b64}`, detail: 'low' },
            },
          ],
        },
      ],
    });
    expect((out.messages as JsonObject[])[0]).toEqual({
      role: 'user',
      content: [{ text: 'What is this?' }, { image: { format: 'jpeg', source: { bytes: b64 } } }],
    });
  });

  it('reads the four Converse image formats from their signatures', () => {
    expect([PNG, JPEG, GIF, WEBP].map(sniffImageFormat)).toEqual(['png', 'jpeg', 'gif', 'webp']);
    expect(sniffImageFormat(Buffer.from('BM6\0\0\0'))).toBeUndefined();
  });

  it('sends an s3:// image by location and refuses web URLs and non-images', () => {
    const out = translate({
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 's3://bucket/cat.PNG' } }],
        },
      ],
    });
    expect((out.messages as JsonObject[])[0].content).toEqual([
      { image: { format: 'png', source: { s3Location: { uri: 's3://bucket/cat.PNG' } } } },
    ]);

    const web = refusal({
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'https://x.test/cat.png' } }],
        },
      ],
    });
    expect([web.code, web.status, web.param]).toEqual([
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      400,
      'messages[0].content[0].image_url.url',
    ]);

    const bmp = refusal({
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'image_url',
              image_url: {
                url: `data:image/bmp;base64,${Buffer.from('BM6\0\0\0\0\0\0\0\0\0').toString('base64')}`,
              },
            },
          ],
        },
      ],
    });
    expect(bmp.code).toBe('GW_ERR_REQ_INVALID_FIELD');
    expect(
      refusal({
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,@@@@' } }],
          },
        ],
      }).message,
    ).toMatch(/base64/);
  });

  it('refuses parts and roles Converse cannot carry', () => {
    expect(
      refusal({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] })
        .param,
    ).toBe('messages[0].content[0].type');
    expect(refusal({ messages: [{ role: 'function', name: 'f', content: 'x' }] }).param).toBe(
      'messages[0].role',
    );
    expect(
      refusal({
        messages: [
          {
            role: 'assistant',
            tool_calls: [
              { id: 'a', type: 'function', function: { name: 'f', arguments: '{oops' } },
            ],
          },
        ],
        tools: [WEATHER],
      }).param,
    ).toBe('messages[0].tool_calls[0].function.arguments');
  });
});

describe('OpenAI to Converse: parameters', () => {
  const user = [{ role: 'user', content: 'hi' }];

  it('maps max_tokens, temperature, top_p and stop into inferenceConfig', () => {
    expect(
      translate({ messages: user, max_tokens: 100, temperature: 0.2, top_p: 0.9, stop: 'END' })
        .inferenceConfig,
    ).toEqual({
      maxTokens: 100,
      temperature: 0.2,
      topP: 0.9,
      stopSequences: ['END'],
    });
  });

  it('lets max_completion_tokens win over max_tokens', () => {
    expect(
      translate({ messages: user, max_tokens: 100, max_completion_tokens: 50 }).inferenceConfig,
    ).toEqual({ maxTokens: 50 });
  });

  it('drops empty stop strings, and the whole field when none is left', () => {
    expect(translate({ messages: user, stop: ['', 'END'] }).inferenceConfig).toEqual({
      stopSequences: ['END'],
    });
    expect(translate({ messages: user, stop: [''] }).inferenceConfig).toBeUndefined();
  });

  it('drops hints with no Converse meaning: seed, user, parallel_tool_calls, n=1', () => {
    expect(
      translate({
        messages: user,
        seed: 7,
        user: 'u1',
        n: 1,
        parallel_tool_calls: false,
        stream_options: { include_usage: true },
      }),
    ).toEqual({
      messages: [{ role: 'user', content: [{ text: 'hi' }] }],
    });
  });

  it.each([
    [{ n: 2 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ top_logprobs: 2 }, 'top_logprobs'],
    [{ presence_penalty: 0.5 }, 'presence_penalty'],
    [{ frequency_penalty: -1 }, 'frequency_penalty'],
    [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
    [{ modalities: ['text', 'audio'] }, 'modalities'],
    [{ functions: [{ name: 'f' }] }, 'functions'],
    [{ response_format: { type: 'json_object' } }, 'response_format.type'],
  ])('refuses %j with a 400 naming %s', (extra, param) => {
    const err = refusal({ messages: user, ...extra });
    expect([err.code, err.status, err.param]).toEqual(['GW_ERR_REQ_UNSUPPORTED_PARAM', 400, param]);
  });

  it('maps response_format json_schema to Converse structured output', () => {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    };
    const out = translate({
      messages: user,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'place', description: 'A place', schema, strict: true },
      },
    });
    expect(out.outputConfig).toEqual({
      textFormat: {
        type: 'json_schema',
        structure: {
          jsonSchema: { schema: JSON.stringify(schema), name: 'place', description: 'A place' },
        },
      },
    });
    expect(
      translate({ messages: user, response_format: { type: 'text' } }).outputConfig,
    ).toBeUndefined();
  });
});

describe('OpenAI to Converse: tools', () => {
  const user = [{ role: 'user', content: 'weather?' }];
  const spec = {
    toolSpec: {
      name: 'get_weather',
      description: 'Current weather',
      inputSchema: { json: WEATHER.function.parameters },
    },
  };

  it.each([
    [undefined, undefined],
    ['auto', undefined],
    ['required', { any: {} }],
    [{ type: 'function', function: { name: 'get_weather' } }, { tool: { name: 'get_weather' } }],
  ])('tool_choice %j becomes toolChoice %j', (choice, expected) => {
    const out = translate({ messages: user, tools: [WEATHER], tool_choice: choice });
    expect(out.toolConfig).toEqual(
      expected === undefined ? { tools: [spec] } : { tools: [spec], toolChoice: expected },
    );
  });

  it('tool_choice none sends no tools, so none can be called', () => {
    expect(
      translate({ messages: user, tools: [WEATHER], tool_choice: 'none' }).toolConfig,
    ).toBeUndefined();
  });

  it('tool_choice none keeps the tools when the conversation holds tool turns (Converse needs them)', () => {
    const out = translate({
      messages: [
        ...user,
        {
          role: 'assistant',
          tool_calls: [
            {
              id: 't',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 't', content: '3C' },
      ],
      tools: [WEATHER],
      tool_choice: 'none',
    });
    expect(out.toolConfig).toEqual({ tools: [spec] });
  });

  it('gives a parameterless function an empty object schema and keeps strict', () => {
    const out = translate({
      messages: user,
      tools: [{ type: 'function', function: { name: 'now', strict: true } }],
    });
    expect(out.toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: 'now',
            inputSchema: { json: { type: 'object', properties: {} } },
            strict: true,
          },
        },
      ],
    });
  });

  it('asks for tools when the conversation holds tool turns but none were sent', () => {
    const err = refusal({
      messages: [
        ...user,
        {
          role: 'assistant',
          tool_calls: [
            { id: 't', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 't', content: '3C' },
      ],
    });
    expect([err.code, err.param]).toEqual(['GW_ERR_REQ_MISSING_FIELD', 'tools']);
  });

  it('refuses a named tool_choice for a tool that was not given, and non-function tools', () => {
    expect(
      refusal({
        messages: user,
        tools: [WEATHER],
        tool_choice: { type: 'function', function: { name: 'nope' } },
      }).param,
    ).toBe('tool_choice.function.name');
    expect(
      refusal({ messages: user, tools: [{ type: 'custom', custom: { name: 'x' } }] }).param,
    ).toBe('tools[0].type');
    expect(refusal({ messages: user, tool_choice: 'required' }).param).toBe('tool_choice');
  });
});
