import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../sidecar/errors.js';
import type { JsonObject } from '../../../sidecar/providers/adapter.js';
import { openaiToAnthropic } from '../../../sidecar/providers/anthropic/openai-to-anthropic.js';
import { bodyProblem } from '../../support/mock-anthropic.js';

const user = (content: unknown) => ({ role: 'user', content });
const build = (body: JsonObject, stream = false) =>
  openaiToAnthropic({ model: 'public', ...body }, 'claude-target', { stream });

function refusal(body: JsonObject): GatewayError {
  try {
    build(body);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error('expected a GatewayError');
}

describe('openaiToAnthropic', () => {
  it('names the provider model and defaults max_tokens', () => {
    expect(build({ messages: [user('hi')] })).toEqual({
      model: 'claude-target',
      max_tokens: 4096,
      messages: [user('hi')],
    });
  });

  it('keeps text parts of system messages and drops empty ones', () => {
    const body = build({
      messages: [
        {
          role: 'system',
          content: [
            { type: 'text', text: 'A' },
            { type: 'text', text: '' },
          ],
        },
        { role: 'system', content: '' },
        user('hi'),
      ],
    });
    expect(body.system).toEqual([{ type: 'text', text: 'A' }]);
  });

  it('passes cache_control set on content parts', () => {
    const cache = { type: 'ephemeral', ttl: '1h' };
    const body = build({
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'long', cache_control: cache }] },
        user([{ type: 'text', text: 'q', cache_control: cache }]),
      ],
    });
    expect(body.system).toEqual([{ type: 'text', text: 'long', cache_control: cache }]);
    expect(body.messages).toEqual([user([{ type: 'text', text: 'q', cache_control: cache }])]);
  });

  it('drops an assistant turn with nothing in it and merges the user turns around it', () => {
    const body = build({ messages: [user('a'), { role: 'assistant', content: '' }, user('b')] });
    expect(body.messages).toEqual([
      user([
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
      ]),
    ]);
  });

  it('puts returned thinking blocks first in the assistant turn, unmodified', () => {
    const thinking = [
      { type: 'thinking', thinking: 't', signature: 's' },
      { type: 'redacted_thinking', data: 'd' },
      { type: 'unknown', x: 1 },
    ];
    const body = build({
      messages: [
        user('q'),
        {
          role: 'assistant',
          content: 'Looking.',
          reasoning_content: 't',
          thinking_blocks: thinking,
          tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '' },
      ],
    });
    expect(body.messages).toEqual([
      user('q'),
      {
        role: 'assistant',
        content: [
          thinking[0],
          thinking[1],
          { type: 'text', text: 'Looking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }] },
    ]);
  });

  it('shrinks the thinking budget to fit the client cap', () => {
    const body = build({ messages: [user('q')], reasoning_effort: 'high', max_tokens: 5000 });
    expect(body).toMatchObject({
      max_tokens: 5000,
      thinking: { type: 'enabled', budget_tokens: 4999 },
    });
  });

  it('takes an Anthropic thinking object as given, and reasoning_effort none as off', () => {
    const own = { type: 'enabled', budget_tokens: 3000 };
    expect(build({ messages: [user('q')], thinking: own })).toMatchObject({
      max_tokens: 4096 + 3000,
      thinking: own,
    });
    expect(build({ messages: [user('q')], reasoning_effort: 'none' })).not.toHaveProperty(
      'thinking',
    );
  });

  it('adds stream: true for streams only', () => {
    expect(build({ messages: [user('q')] }, true).stream).toBe(true);
    expect(build({ messages: [user('q')] })).not.toHaveProperty('stream');
  });

  it.each<[string, JsonObject, string, string]>([
    [
      'arguments that are not a JSON object',
      {
        messages: [
          user('q'),
          {
            role: 'assistant',
            tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '[1]' } }],
          },
        ],
      },
      'GW_ERR_REQ_INVALID_FIELD',
      'messages[1].tool_calls[0].function.arguments',
    ],
    [
      'an audio part',
      { messages: [user([{ type: 'input_audio', input_audio: {} }])] },
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      'messages[0].content[0].type',
    ],
    [
      'a legacy function message',
      { messages: [user('q'), { role: 'function', name: 'f', content: 'x' }] },
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      'messages[1].role',
    ],
    [
      'a custom tool',
      { messages: [user('q')], tools: [{ type: 'custom', custom: { name: 'x' } }] },
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      'tools[0].type',
    ],
    [
      'an allowed_tools tool_choice',
      {
        messages: [user('q')],
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: { type: 'allowed_tools' },
      },
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      'tool_choice.type',
    ],
    [
      'a forced tool while reasoning',
      {
        messages: [user('q')],
        reasoning_effort: 'low',
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: 'required',
      },
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      'tool_choice',
    ],
    [
      'an unknown reasoning_effort',
      { messages: [user('q')], reasoning_effort: 'maximal' },
      'GW_ERR_REQ_INVALID_FIELD',
      'reasoning_effort',
    ],
    [
      'json_object',
      { messages: [user('q')], response_format: { type: 'json_object' } },
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      'response_format.type',
    ],
  ])('refuses %s with a 400 naming it', (_, body, code, param) => {
    expect(refusal(body)).toMatchObject({ code, param });
  });

  it('produces bodies the strict mock accepts, for a mixed conversation', () => {
    const body = build({
      messages: [
        { role: 'developer', content: 'd' },
        user('q'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
            { id: 'b', type: 'function', function: { name: 'f', arguments: '{"x":2}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'a', content: '1' },
        { role: 'tool', tool_call_id: 'b', content: [{ type: 'text', text: '2' }] },
        user('thanks'),
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
      stop: [' ', 'x'],
      parallel_tool_calls: false,
    });
    expect(bodyProblem(body, new Set())).toBeUndefined();
  });
});
