import { describe, expect, it } from 'vitest';
import { anthropicToOpenAI } from '../../../sidecar/api/anthropic/anthropic-to-openai.js';
import { GatewayError } from '../../../sidecar/errors.js';

const translate = (body: object) => anthropicToOpenAI(Buffer.from(JSON.stringify(body)));
const base = { model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };

function refusal(body: object | string): GatewayError {
  try {
    anthropicToOpenAI(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('anthropicToOpenAI', () => {
  it('maps the top-level fields and asks for usage on every stream (G10)', () => {
    const out = translate({
      ...base,
      system: 'Be terse.',
      stream: true,
      temperature: 0.5,
      top_p: 0.8,
      top_k: 5,
      stop_sequences: ['END'],
      metadata: { user_id: 'u1' },
    });
    expect(out.stream).toBe(true);
    expect(out.stopSequences).toEqual(['END']);
    expect(out.body).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'hi' },
      ],
      max_tokens: 100,
      temperature: 0.5,
      top_p: 0.8,
      stop: ['END'],
      user: 'u1',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('turns a user turn with tool results into tool messages, then the rest', () => {
    const { body } = translate({
      ...base,
      messages: [
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Need both.', signature: 'sig_abc' },
            { type: 'tool_use', id: 'toolu_1', name: 'a', input: { x: 1 } },
            { type: 'tool_use', id: 'toolu_2', name: 'b', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'one' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              is_error: true,
              content: [
                { type: 'text', text: 'no such file' },
                { type: 'image', source: { type: 'url', url: 'https://x/y.png' } },
              ],
            },
            { type: 'text', text: 'Go on.' },
          ],
        },
      ],
    });
    expect(body.messages).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'a', arguments: '{"x":1}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'b', arguments: '{}' } },
        ],
        thinking_blocks: [{ type: 'thinking', thinking: 'Need both.', signature: 'sig_abc' }],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'one' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: no such file' },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'https://x/y.png' } },
          { type: 'text', text: 'Go on.' },
        ],
      },
    ]);
  });

  it('keeps redacted thinking and several text blocks of an assistant turn', () => {
    const { body } = translate({
      ...base,
      messages: [
        {
          role: 'assistant',
          content: [
            { type: 'redacted_thinking', data: 'EmwK' },
            { type: 'text', text: 'A' },
            { type: 'text', text: 'B' },
          ],
        },
      ],
    });
    expect(body.messages).toEqual([
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'A' },
          { type: 'text', text: 'B' },
        ],
        thinking_blocks: [{ type: 'redacted_thinking', data: 'EmwK' }],
      },
    ]);
  });

  it('sends a base64 PDF as a file part and a text document as text', () => {
    const { body } = translate({
      ...base,
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'document',
              title: 'q3.pdf',
              source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' },
            },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' } },
          ],
        },
      ],
    });
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          {
            type: 'file',
            file: { filename: 'q3.pdf', file_data: 'data:application/pdf;base64,JVBER' },
          },
          { type: 'text', text: 'notes' },
        ],
      },
    ]);
  });

  it.each([
    [{ type: 'auto' }, { tool_choice: 'auto' }],
    [{ type: 'any' }, { tool_choice: 'required' }],
    [{ type: 'none' }, { tool_choice: 'none' }],
    [
      { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
      {
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        parallel_tool_calls: false,
      },
    ],
  ])('maps tool_choice %j', (choice, expected) => {
    const { body } = translate({
      ...base,
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      tool_choice: choice,
    });
    expect(body.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
    ]);
    const { tool_choice, parallel_tool_calls } = body;
    expect({ tool_choice, parallel_tool_calls }).toEqual({
      parallel_tool_calls: undefined,
      ...expected,
    });
  });

  it('asks for reasoning when thinking is on, at about the budget asked for', () => {
    const effort = (budget: number) =>
      translate({
        ...base,
        max_tokens: 40000,
        thinking: { type: 'enabled', budget_tokens: budget },
      }).body.reasoning_effort;
    expect([effort(1024), effort(8192), effort(16384)]).toEqual(['low', 'medium', 'high']);
    expect(translate({ ...base, thinking: { type: 'disabled' } }).body).not.toHaveProperty(
      'reasoning_effort',
    );
  });

  it('refuses a body that is not UTF-8 as invalid JSON, as the OpenAI route does', () => {
    const raw = Buffer.concat([
      Buffer.from('{"model":"m/'),
      Buffer.from([0xff]),
      Buffer.from('ok","max_tokens":1,"messages":[{"role":"user","content":"hi"}]}'),
    ]);
    expect(() => anthropicToOpenAI(raw)).toThrow(
      expect.objectContaining({
        code: 'GW_ERR_REQ_INVALID_JSON',
        message: 'The request body is not valid UTF-8, which JSON must be (RFC 8259).',
      }),
    );
  });

  it.each([
    ['user', { type: 'tool_use', id: 't', name: 'f', input: {} }, /assistant turn/],
    ['assistant', { type: 'tool_result', tool_use_id: 't', content: 'x' }, /user turn/],
    ['assistant', { type: 'image', source: { type: 'url', url: 'https://x/y.png' } }, /user turn/],
  ])(
    'says where a block misplaced in a %s turn belongs, not that the gateway lacks it',
    (role, block, where) => {
      const turns = [
        { role: 'user', content: 'hi' },
        { role, content: [block] },
      ];
      const err = refusal({ ...base, messages: role === 'user' ? turns.slice(1) : turns });

      expect(err.code).toBe('GW_ERR_REQ_INVALID_FIELD');
      expect(err.message).toMatch(where);
      expect(err.message).not.toMatch(/cannot be sent through this gateway/);
    },
  );

  it.each([
    ['{"model":', 'GW_ERR_REQ_INVALID_JSON', null],
    [{ ...base, max_tokens: undefined }, 'GW_ERR_REQ_MISSING_FIELD', 'max_tokens'],
    [{ ...base, max_tokens: 0 }, 'GW_ERR_REQ_INVALID_FIELD', 'max_tokens'],
    [{ ...base, model: '' }, 'GW_ERR_REQ_INVALID_FIELD', 'model'],
    [{ ...base, messages: [] }, 'GW_ERR_REQ_INVALID_FIELD', 'messages'],
    [
      { ...base, messages: [{ role: 'system', content: 'x' }] },
      'GW_ERR_REQ_INVALID_FIELD',
      'messages[0].role',
    ],
    [{ ...base, temperature: 1.5 }, 'GW_ERR_REQ_INVALID_FIELD', 'temperature'],
    [
      { ...base, stop_sequences: ['a', 'b', 'c', 'd', 'e'] },
      'GW_ERR_REQ_INVALID_FIELD',
      'stop_sequences',
    ],
    [
      {
        ...base,
        messages: [
          { role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] },
        ],
      },
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      'messages[0].content[0].source.type',
    ],
    [
      { ...base, messages: [{ role: 'user', content: [{ type: 'tool_result' }] }] },
      'GW_ERR_REQ_MISSING_FIELD',
      'messages[0].content[0].tool_use_id',
    ],
    [
      { ...base, tools: [{ type: 'web_search_20250305', name: 'web_search' }] },
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      'tools[0].type',
    ],
    [{ ...base, tools: [{ name: 'x' }] }, 'GW_ERR_REQ_MISSING_FIELD', 'tools[0].input_schema'],
    [
      { ...base, max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 4000 } },
      'GW_ERR_REQ_INVALID_FIELD',
      'thinking.budget_tokens',
    ],
  ])('refuses %j with %s naming %s', (body, code, param) => {
    const err = refusal(body);
    expect(err.code).toBe(code);
    expect(err.param).toBe(param);
    expect(err.status).toBe(400);
  });
});
