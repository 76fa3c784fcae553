import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../sidecar/errors.js';
import { cohereBody } from '../../../sidecar/providers/cohere/openai-to-cohere.js';
import { rejectChatBody } from '../../support/mock-cohere.js';

const user = (content: unknown) => ({ role: 'user', content });
const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

function translate(body: Record<string, unknown>, stream = false) {
  const out = cohereBody({ model: 'alias', ...body }, 'command-a-03-2025', stream);
  // Every body the translator builds must pass the strict mock's Cohere rules.
  expect(rejectChatBody(Buffer.from(JSON.stringify(out)))).toBeUndefined();
  return out;
}

function refusal(body: Record<string, unknown>): GatewayError {
  try {
    cohereBody({ model: 'alias', messages: [user('hi')], ...body }, 'command-a-03-2025', false);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}

describe('cohereBody', () => {
  it('sends the provider model, the messages and an explicit stream flag', () => {
    expect(translate({ messages: [user('hi')] })).toEqual({
      model: 'command-a-03-2025',
      messages: [{ role: 'user', content: 'hi' }],
      stream: false,
    });
    expect(translate({ messages: [user('hi')] }, true).stream).toBe(true);
  });

  it('merges every system and developer message, in order, into one leading system turn', () => {
    const out = translate({
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        user('Capital of Japan?'),
        { role: 'assistant', content: 'Tokyo.' },
        { role: 'system', content: 'From now on reply in JSON.' },
        user('And of Italy?'),
      ],
    });
    expect(out.messages).toEqual([
      {
        role: 'system',
        content: 'Be terse.\n\nAnswer in French.\n\nFrom now on reply in JSON.',
      },
      { role: 'user', content: 'Capital of Japan?' },
      { role: 'assistant', content: 'Tokyo.' },
      { role: 'user', content: 'And of Italy?' },
    ]);
  });

  it('passes text and image parts (URL and data URI, with detail) through as Cohere parts', () => {
    const out = translate({
      messages: [
        user([
          { type: 'text', text: 'Compare' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
          {
            type: 'image_url',
            image_url: { url: 'data:image/png;base64,iVBORw0K', detail: 'low' },
          },
        ]),
      ],
    });
    expect(out.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
          {
            type: 'image_url',
            image_url: { url: 'data:image/png;base64,iVBORw0K', detail: 'low' },
          },
        ],
      },
    ]);
  });

  it('maps tools, dropping OpenAI-only fields, and tool results over two turns', () => {
    const out = translate({
      tools: [weather],
      messages: [
        user('Weather in Paris and Tokyo?'),
        {
          role: 'assistant',
          content: 'I will look both up.',
          tool_calls: [
            {
              id: 'c1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            {
              id: 'c2',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'c1', content: '18C' },
        { role: 'tool', tool_call_id: 'c2', content: [{ type: 'text', text: '25C' }] },
      ],
    });
    expect(out.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather',
          parameters: weather.function.parameters,
        },
      },
    ]);
    expect(out.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Tokyo?' },
      {
        role: 'assistant',
        tool_plan: 'I will look both up.',
        tool_calls: [
          {
            id: 'c1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          {
            id: 'c2',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: '18C' },
      { role: 'tool', tool_call_id: 'c2', content: [{ type: 'text', text: '25C' }] },
    ]);
  });

  it('gives a function without parameters an empty object schema, which Cohere requires', () => {
    const out = translate({
      messages: [user('ping')],
      tools: [{ type: 'function', function: { name: 'ping' } }],
    });
    expect(out.tools).toEqual([
      {
        type: 'function',
        function: { name: 'ping', parameters: { type: 'object', properties: {} } },
      },
    ]);
  });

  it.each([
    ['auto', undefined],
    ['none', 'NONE'],
    ['required', 'REQUIRED'],
  ])('maps tool_choice %s to %s', (choice, expected) => {
    const out = translate({ messages: [user('x')], tools: [weather], tool_choice: choice });
    expect(out.tool_choice).toBe(expected);
  });

  it('maps a named tool_choice to REQUIRED over a tool list holding only that tool', () => {
    const other = {
      type: 'function',
      function: { name: 'get_time', parameters: { type: 'object' } },
    };
    const out = translate({
      messages: [user('x')],
      tools: [other, weather],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    expect(out.tool_choice).toBe('REQUIRED');
    expect((out.tools as { function: { name: string } }[]).map((t) => t.function.name)).toEqual([
      'get_weather',
    ]);
  });

  it('refuses a named tool_choice that is not among the tools', () => {
    const err = refusal({
      tools: [weather],
      tool_choice: { type: 'function', function: { name: 'nope' } },
    });
    expect([err.code, err.param]).toEqual(['GW_ERR_REQ_INVALID_FIELD', 'tool_choice']);
  });

  it('turns strict_tools on only when every tool is strict', () => {
    const strict = { ...weather, function: { ...weather.function, strict: true } };
    expect(translate({ messages: [user('x')], tools: [strict] }).strict_tools).toBe(true);
    expect(translate({ messages: [user('x')], tools: [strict, weather] }).strict_tools).toBe(
      undefined,
    );
  });

  it('accepts parallel_tool_calls true and refuses false, which Cohere cannot honour', () => {
    expect(
      translate({ messages: [user('x')], tools: [weather], parallel_tool_calls: true }),
    ).not.toHaveProperty('parallel_tool_calls');
    const err = refusal({ tools: [weather], parallel_tool_calls: false });
    expect([err.code, err.param]).toEqual(['GW_ERR_REQ_UNSUPPORTED_PARAM', 'parallel_tool_calls']);
  });

  it('maps response_format json_schema to json_object with the schema, json_object as is', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    expect(
      translate({
        messages: [user('x')],
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'out', strict: true, schema },
        },
      }).response_format,
    ).toEqual({ type: 'json_object', json_schema: schema });
    expect(
      translate({ messages: [user('x')], response_format: { type: 'json_object' } })
        .response_format,
    ).toEqual({ type: 'json_object' });
    expect(
      translate({ messages: [user('x')], response_format: { type: 'text' } }),
    ).not.toHaveProperty('response_format');
  });

  it('lets max_completion_tokens win over max_tokens (G14 B, Cohere form)', () => {
    expect(
      translate({ messages: [user('x')], max_tokens: 100, max_completion_tokens: 50 }).max_tokens,
    ).toBe(50);
    expect(translate({ messages: [user('x')], max_tokens: 100 }).max_tokens).toBe(100);
  });

  it('maps stop to stop_sequences, a single string included', () => {
    expect(translate({ messages: [user('x')], stop: 'END' }).stop_sequences).toEqual(['END']);
    expect(translate({ messages: [user('x')], stop: ['a', 'b'] }).stop_sequences).toEqual([
      'a',
      'b',
    ]);
  });

  it('maps temperature, seed and penalties as they are and top_p into Cohere p range', () => {
    const out = translate({
      messages: [user('x')],
      temperature: 0.5,
      seed: 7,
      top_p: 1,
      frequency_penalty: 0.2,
      presence_penalty: 0,
    });
    expect(out).toMatchObject({
      temperature: 0.5,
      seed: 7,
      p: 0.99,
      frequency_penalty: 0.2,
      presence_penalty: 0,
    });
    expect(translate({ messages: [user('x')], top_p: 0 }).p).toBe(0.01);
    expect(translate({ messages: [user('x')], top_p: 0.3 }).p).toBe(0.3);
  });

  it.each([
    [{ temperature: 1.5 }, 'temperature'],
    [{ seed: -1 }, 'seed'],
    [{ frequency_penalty: -0.5 }, 'frequency_penalty'],
    [{ presence_penalty: 1.5 }, 'presence_penalty'],
    [{ n: 2 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
    [
      { messages: [user([{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }])] },
      'messages[0].content[0].type',
    ],
    [{ messages: [{ role: 'function', name: 'f', content: 'x' }] }, 'messages[0].role'],
  ])('refuses %j with 400 naming %s, before any upstream call', (body, param) => {
    const err = refusal(body);
    expect(err.code).toBe('GW_ERR_REQ_UNSUPPORTED_PARAM');
    expect(err.param).toBe(param);
    expect(err.status).toBe(400);
  });

  it('carries reasoning back as a thinking part and maps reasoning_effort to thinking', () => {
    const out = translate({
      reasoning_effort: 'none',
      messages: [
        user('x'),
        { role: 'assistant', content: 'y', reasoning_content: 'because' },
        user('z'),
      ],
    });
    expect(out.thinking).toEqual({ type: 'disabled' });
    expect((out.messages as unknown[])[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'because' },
        { type: 'text', text: 'y' },
      ],
    });
    expect(translate({ messages: [user('x')], reasoning_effort: 'high' }).thinking).toEqual({
      type: 'enabled',
    });
  });

  it('ignores fields that do not change the answer (user, store, metadata, stream_options)', () => {
    const out = translate(
      {
        messages: [user('x')],
        user: 'u-1',
        store: false,
        metadata: { a: 'b' },
        stream_options: { include_usage: true },
        parallel_tool_calls: true,
      },
      true,
    );
    expect(Object.keys(out).sort()).toEqual(['messages', 'model', 'stream']);
  });
});
