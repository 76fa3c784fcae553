import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { reassembleChat } from '../support/sse-client.js';
import { startHarness, type Harness } from '../providers/anthropic/harness.js';
import { itConforms } from '../support/conformance.js';

// The request-translation cases of shared/cases/failure-cases.md against a strict Anthropic
// mock, which answers Anthropic's own 400 to whatever a wrong translation would send. Each
// runs streamed and not: the body differs only by `stream: true`.

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const anthropicWeather = {
  name: 'get_weather',
  input_schema: weather.function.parameters,
};

describe.each([false, true])('Anthropic request cases (stream %s)', (stream) => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());
  afterEach(() => expect(h.mock.pending()).toBe(0));

  /** Sends the request, expects success, and returns the body Anthropic received. */
  async function upstreamBodyFor(body: object): Promise<Record<string, any>> {
    if (stream) {
      const res = await h.stream(body);
      expect(res.status).toBe(200);
      expect(reassembleChat(res.chunks).content).toBe('Hello from the mock.');
    } else {
      const res = await h.post(body);
      expect(res.status).toBe(200);
      expect(res.json.choices[0].message.content).toBe('Hello from the mock.');
    }
    const sent = h.sent();
    expect(sent.stream).toBe(stream ? true : undefined);
    return sent;
  }

  itConforms('G12: every system and developer message reaches `system`, in order', async () => {
    const sent = await upstreamBodyFor({
      model: 'claude-x',
      max_tokens: 100,
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'developer', content: 'Answer in French.' },
        { role: 'user', content: 'Capital of Japan?' },
        { role: 'assistant', content: 'Tokyo.' },
        { role: 'system', content: 'From now on reply in JSON.' },
        { role: 'user', content: 'And of Italy?' },
      ],
    });
    expect(sent.system).toEqual([
      { type: 'text', text: 'Be terse.' },
      { type: 'text', text: 'Answer in French.' },
      { type: 'text', text: 'From now on reply in JSON.' },
    ]);
    expect(sent.messages).toEqual([
      { role: 'user', content: 'Capital of Japan?' },
      { role: 'assistant', content: 'Tokyo.' },
      { role: 'user', content: 'And of Italy?' },
    ]);
  });

  itConforms('G14 (B): max_completion_tokens wins over max_tokens', async () => {
    const sent = await upstreamBodyFor({
      model: 'claude-x',
      max_tokens: 100,
      max_completion_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(sent.max_tokens).toBe(50);
    expect(sent).not.toHaveProperty('max_completion_tokens');
  });

  itConforms('G14 (D): max_completion_tokens alone becomes the required max_tokens', async () => {
    const sent = await upstreamBodyFor({
      model: 'claude-x',
      max_completion_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(sent.max_tokens).toBe(50);
  });

  itConforms(
    'G14: without either, max_tokens gets the 4096 default Anthropic requires',
    async () => {
      const sent = await upstreamBodyFor({
        model: 'claude-x',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(sent.max_tokens).toBe(4096);
    },
  );

  itConforms.each([
    [['\n'], undefined],
    ['\n\n', undefined],
    [['', 'END'], ['END']],
    [[' \t'], undefined],
    [
      ['END', '\n', 'STOP'],
      ['END', 'STOP'],
    ],
  ])('G15: stop %j reaches Anthropic as %j', async (stop, expected) => {
    const sent = await upstreamBodyFor({
      model: 'claude-haiku',
      max_tokens: 150,
      temperature: 0.7,
      stop,
      messages: [{ role: 'user', content: 'List three fruits' }],
    });
    expect(sent.stop_sequences).toEqual(expected);
    expect(sent).not.toHaveProperty('stop');
  });

  itConforms('G17: parallel tool results go back as one user turn, in order', async () => {
    const sent = await upstreamBodyFor({
      model: 'claude-x',
      tools: [weather],
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
    });
    expect(sent.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Tokyo?' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Tokyo' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
          { type: 'tool_result', tool_use_id: 'call_2', content: '25C' },
        ],
      },
    ]);
  });

  itConforms.each([
    ['"auto"', { tool_choice: 'auto' }, { type: 'auto' }],
    ['"required"', { tool_choice: 'required' }, { type: 'any' }],
    ['"none"', { tool_choice: 'none' }, { type: 'none' }],
    [
      'a named function',
      { tool_choice: { type: 'function', function: { name: 'get_weather' } } },
      { type: 'tool', name: 'get_weather' },
    ],
    [
      'parallel_tool_calls false (no tool_choice)',
      { parallel_tool_calls: false },
      { type: 'auto', disable_parallel_tool_use: true },
    ],
    [
      'required with parallel_tool_calls false',
      { tool_choice: 'required', parallel_tool_calls: false },
      { type: 'any', disable_parallel_tool_use: true },
    ],
    ['no tool_choice', {}, undefined],
  ])('G19: tool_choice %s maps to %j', async (_, extra, expected) => {
    const sent = await upstreamBodyFor({
      model: 'claude-x',
      tools: [weather],
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      ...extra,
    });
    expect(sent.tools).toEqual([anthropicWeather]);
    expect(sent.tool_choice).toEqual(expected);
    expect(sent).not.toHaveProperty('parallel_tool_calls');
  });
});
