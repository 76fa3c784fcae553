import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../sidecar/errors.js';
import type { JsonObject } from '../../../sidecar/providers/adapter.js';
import { toGeminiRequest } from '../../../sidecar/providers/gemini/openai-to-gemini.js';
import { geminiRefusal } from '../../support/mock-gemini.js';

const PNG_1PX =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};

function translate(body: JsonObject, model = 'gemini-2.5-flash'): JsonObject {
  const out = toGeminiRequest(body);
  // Whatever the translator produces must pass the strict mock's Gemini rules.
  expect(geminiRefusal(out, model)).toBeUndefined();
  return out;
}

function refusal(body: JsonObject): GatewayError {
  try {
    toGeminiRequest(body);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}

describe('toGeminiRequest', () => {
  it('G12: puts every system and developer message, in order, into systemInstruction', () => {
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
      systemInstruction: {
        parts: [
          { text: 'Be terse.' },
          { text: 'Answer in French.' },
          { text: 'From now on reply in JSON.' },
        ],
      },
      contents: [
        { role: 'user', parts: [{ text: 'Capital of Japan?' }] },
        { role: 'model', parts: [{ text: 'Tokyo.' }] },
        { role: 'user', parts: [{ text: 'And of Italy?' }] },
      ],
    });
  });

  it('G14 A: max_completion_tokens becomes maxOutputTokens', () => {
    const out = translate({
      messages: [{ role: 'user', content: 'hi' }],
      max_completion_tokens: 50,
    });
    expect(out.generationConfig).toEqual({ maxOutputTokens: 50 });
  });

  it('G14 B: max_completion_tokens wins over max_tokens', () => {
    const out = translate({
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 100,
      max_completion_tokens: 50,
    });
    expect(out.generationConfig).toEqual({ maxOutputTokens: 50 });
    const only = translate({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 });
    expect(only.generationConfig).toEqual({ maxOutputTokens: 100 });
  });

  it('G15: refuses 6 stop sequences with a 400 before any call; keeps up to 5, drops empty ones', () => {
    const err = refusal({
      messages: [{ role: 'user', content: 'hi' }],
      stop: ['a', 'b', 'c', 'd', 'e', 'f'],
    });
    expect(err.code).toBe('GW_ERR_REQ_UNSUPPORTED_PARAM');
    expect(err.status).toBe(400);
    expect(err.param).toBe('stop');
    expect(err.message).toBe("'stop' has 6 sequences; Gemini takes at most 5.");

    const five = translate({
      messages: [{ role: 'user', content: 'hi' }],
      stop: ['1', '2', '3', '4', '5'],
    });
    expect(five.generationConfig).toEqual({ stopSequences: ['1', '2', '3', '4', '5'] });
    const single = translate({ messages: [{ role: 'user', content: 'hi' }], stop: '\n\n' });
    expect(single.generationConfig).toEqual({ stopSequences: ['\n\n'] });
    const empty = translate({ messages: [{ role: 'user', content: 'hi' }], stop: ['', 'END'] });
    expect(empty.generationConfig).toEqual({ stopSequences: ['END'] });
  });

  it('maps the sampling parameters, n, json_schema and reasoning_effort', () => {
    const out = translate({
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0.2,
      top_p: 0.9,
      seed: 42,
      n: 2,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      reasoning_effort: 'low',
      parallel_tool_calls: false,
      user: 'u-1',
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'capital',
          strict: true,
          schema: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
            additionalProperties: false,
          },
        },
      },
    });
    expect(out.generationConfig).toEqual({
      temperature: 0.2,
      topP: 0.9,
      seed: 42,
      candidateCount: 2,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
      responseMimeType: 'application/json',
      responseSchema: {
        type: 'OBJECT',
        properties: { city: { type: 'STRING' } },
        required: ['city'],
      },
      thinkingConfig: { thinkingBudget: 1024 },
    });
    const object = translate({
      messages: [{ role: 'user', content: 'hi' }],
      response_format: { type: 'json_object' },
    });
    expect(object.generationConfig).toEqual({ responseMimeType: 'application/json' });
  });

  it('maps tools and every tool_choice form', () => {
    const base = { messages: [{ role: 'user', content: 'Weather?' }], tools: [weather] };
    const declaration = {
      name: 'get_weather',
      description: 'Current weather',
      parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] },
    };
    expect(translate(base).tools).toEqual([{ functionDeclarations: [declaration] }]);
    expect(translate(base).toolConfig).toBeUndefined();

    const rows: [unknown, unknown][] = [
      ['auto', { mode: 'AUTO' }],
      ['none', { mode: 'NONE' }],
      ['required', { mode: 'ANY' }],
      [
        { type: 'function', function: { name: 'get_weather' } },
        { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
      ],
    ];
    for (const [choice, config] of rows) {
      expect(translate({ ...base, tool_choice: choice }).toolConfig).toEqual({
        functionCallingConfig: config,
      });
    }
  });

  it('declares a function without arguments with no parameters', () => {
    const out = translate({
      messages: [{ role: 'user', content: 'now?' }],
      tools: [
        {
          type: 'function',
          function: { name: 'now', parameters: { type: 'object', properties: {} } },
        },
      ],
    });
    expect(out.tools).toEqual([{ functionDeclarations: [{ name: 'now' }] }]);
  });

  it('sends tool calls and their results over two turns, results grouped in one user turn', () => {
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
              extra_content: { google: { thought_signature: 'c2lnMQ==' } },
            },
            {
              id: 'call_2',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'tool', tool_call_id: 'call_2', content: '{"temp":25}' },
        { role: 'user', content: 'Thanks. Which is warmer?' },
      ],
      tools: [weather],
    });
    expect(out.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Tokyo?' }] },
      {
        role: 'model',
        parts: [
          {
            functionCall: { name: 'get_weather', args: { city: 'Paris' } },
            thoughtSignature: 'c2lnMQ==',
          },
          { functionCall: { name: 'get_weather', args: { city: 'Tokyo' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { output: '18C' } } },
          { functionResponse: { name: 'get_weather', response: { temp: 25 } } },
          { text: 'Thanks. Which is warmer?' },
        ],
      },
    ]);
  });

  it('gives a call turn without a kept signature the documented skip value (Gemini 3 needs one)', () => {
    const out = translate(
      {
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            tool_calls: [
              { id: 'c', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'c', content: 'sunny' },
        ],
      },
      'gemini-3-pro-preview',
    );
    expect((out.contents as JsonObject[])[1]).toEqual({
      role: 'model',
      parts: [
        {
          functionCall: { name: 'get_weather', args: {} },
          thoughtSignature: 'skip_thought_signature_validator',
        },
      ],
    });
  });

  it('sends multi-part text, data-URI images typed by their bytes, and URL images as fileData', () => {
    const out = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in' },
            { type: 'text', text: 'these images?' },
            // Labelled JPEG, but the bytes are a PNG: the bytes win.
            { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${PNG_1PX}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.webp?size=large' } },
            { type: 'image_url', image_url: { url: 'https://example.com/photo' } },
          ],
        },
      ],
    });
    expect(out.contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'What is in' },
          { text: 'these images?' },
          { inlineData: { mimeType: 'image/png', data: PNG_1PX } },
          {
            fileData: {
              mimeType: 'image/webp',
              fileUri: 'https://example.com/cat.webp?size=large',
            },
          },
          { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photo' } },
        ],
      },
    ]);
    // With the client's label, Gemini would have failed to decode the image.
    const mislabelled = {
      contents: [
        { role: 'user', parts: [{ inlineData: { mimeType: 'image/jpeg', data: PNG_1PX } }] },
      ],
    };
    expect(geminiRefusal(mislabelled, 'gemini-2.5-flash')).toMatch(/Unable to process input image/);
  });

  it('refuses what Gemini cannot take with a 400 naming the field', () => {
    const cases: [JsonObject, string, string][] = [
      [
        { messages: [{ role: 'user', content: 'x' }], logprobs: true },
        'GW_ERR_REQ_UNSUPPORTED_PARAM',
        'logprobs',
      ],
      [
        { messages: [{ role: 'system', content: 'only rules' }] },
        'GW_ERR_REQ_INVALID_FIELD',
        'messages',
      ],
      [
        {
          messages: [
            { role: 'user', content: 'x' },
            { role: 'tool', tool_call_id: 'nope', content: 'r' },
          ],
        },
        'GW_ERR_REQ_INVALID_FIELD',
        'messages[1].tool_call_id',
      ],
      [
        {
          messages: [
            {
              role: 'user',
              content: [{ type: 'image_url', image_url: { url: 'ftp://host/x.png' } }],
            },
          ],
        },
        'GW_ERR_REQ_INVALID_FIELD',
        'messages[0].content[0].image_url.url',
      ],
      [
        {
          messages: [
            { role: 'user', content: 'x' },
            {
              role: 'assistant',
              tool_calls: [
                { id: 'a', type: 'function', function: { name: 'f', arguments: '[1]' } },
              ],
            },
          ],
        },
        'GW_ERR_REQ_INVALID_FIELD',
        'messages[1].tool_calls[0].function.arguments',
      ],
      [
        {
          messages: [{ role: 'user', content: 'x' }],
          tools: [{ type: 'custom', custom: { name: 'c' } }],
        },
        'GW_ERR_REQ_UNSUPPORTED_PARAM',
        'tools[0].type',
      ],
      [
        { messages: [{ role: 'user', content: 'x' }], logit_bias: { '50256': -100 } },
        'GW_ERR_REQ_UNSUPPORTED_PARAM',
        'logit_bias',
      ],
    ];
    for (const [body, code, param] of cases) {
      const err = refusal(body);
      expect({ code: err.code, param: err.param, status: err.status }).toEqual({
        code,
        param,
        status: 400,
      });
    }
  });
});
