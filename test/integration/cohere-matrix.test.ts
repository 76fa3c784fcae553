// The translation matrix for Cohere: each OpenAI request feature, sent through the real
// sidecar, must reach the strict Cohere mock as exactly the body below, and the client must
// receive exactly the chunks below. Features Cohere cannot honour get a 400 and no upstream call.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  coherePolicy,
  cohereStream,
  startMockCohere,
  type MockCohere,
} from '../support/mock-cohere.js';
import { itConforms, recordConformance } from '../support/conformance.js';
import { chunksOf, postSse } from '../support/sse-client.js';
import { startTestSidecar, type TestSidecar } from '../support/sidecar.js';

const TARGET = 'command-a-03-2025';
const hi = { role: 'user', content: 'hi' };
const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const cohereWeather = { type: 'function', function: weather.function };
const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
const twoCalls = [
  { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
  { id: 'c2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' } },
];

/** [feature, OpenAI request fields, Cohere body fields besides model and stream]. */
const ROWS: [string, Record<string, unknown>, Record<string, unknown>][] = [
  ['a plain user message', { messages: [hi] }, { messages: [hi] }],
  [
    'system and developer messages, one mid-conversation (G12)',
    {
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'developer', content: 'Answer in French.' },
        { role: 'user', content: 'Capital of Japan?' },
        { role: 'assistant', content: 'Tokyo.' },
        { role: 'system', content: 'From now on reply in JSON.' },
        { role: 'user', content: 'And of Italy?' },
      ],
    },
    {
      messages: [
        {
          role: 'system',
          content: 'Be terse.\n\nAnswer in French.\n\nFrom now on reply in JSON.',
        },
        { role: 'user', content: 'Capital of Japan?' },
        { role: 'assistant', content: 'Tokyo.' },
        { role: 'user', content: 'And of Italy?' },
      ],
    },
  ],
  [
    'multi-part text',
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'one' },
            { type: 'text', text: 'two' },
          ],
        },
      ],
    },
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'one' },
            { type: 'text', text: 'two' },
          ],
        },
      ],
    },
  ],
  [
    'an image as a data URI and as a URL',
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
            { type: 'image_url', image_url: { url: 'https://example.com/x.png', detail: 'low' } },
          ],
        },
      ],
    },
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
            { type: 'image_url', image_url: { url: 'https://example.com/x.png', detail: 'low' } },
          ],
        },
      ],
    },
  ],
  [
    'tools with tool_choice auto',
    { messages: [hi], tools: [weather], tool_choice: 'auto' },
    { messages: [hi], tools: [cohereWeather] },
  ],
  [
    'tool_choice none',
    { messages: [hi], tools: [weather], tool_choice: 'none' },
    { messages: [hi], tools: [cohereWeather], tool_choice: 'NONE' },
  ],
  [
    'tool_choice required',
    { messages: [hi], tools: [weather], tool_choice: 'required' },
    { messages: [hi], tools: [cohereWeather], tool_choice: 'REQUIRED' },
  ],
  [
    'a named tool_choice',
    {
      messages: [hi],
      tools: [
        { type: 'function', function: { name: 'other', parameters: { type: 'object' } } },
        weather,
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    },
    { messages: [hi], tools: [cohereWeather], tool_choice: 'REQUIRED' },
  ],
  [
    'parallel_tool_calls true',
    { messages: [hi], tools: [weather], parallel_tool_calls: true },
    { messages: [hi], tools: [cohereWeather] },
  ],
  [
    'tool results over two turns',
    {
      tools: [weather],
      messages: [
        { role: 'user', content: 'Paris and Tokyo?' },
        { role: 'assistant', content: null, tool_calls: twoCalls },
        { role: 'tool', tool_call_id: 'c1', content: '18C' },
        { role: 'tool', tool_call_id: 'c2', content: '25C' },
      ],
    },
    {
      tools: [cohereWeather],
      messages: [
        { role: 'user', content: 'Paris and Tokyo?' },
        { role: 'assistant', tool_calls: twoCalls },
        { role: 'tool', tool_call_id: 'c1', content: '18C' },
        { role: 'tool', tool_call_id: 'c2', content: '25C' },
      ],
    },
  ],
  [
    'response_format json_schema',
    {
      messages: [hi],
      response_format: { type: 'json_schema', json_schema: { name: 'out', strict: true, schema } },
    },
    { messages: [hi], response_format: { type: 'json_object', json_schema: schema } },
  ],
  [
    'response_format json_object',
    { messages: [hi], response_format: { type: 'json_object' } },
    { messages: [hi], response_format: { type: 'json_object' } },
  ],
  [
    'stop as a string',
    { messages: [hi], stop: 'END' },
    { messages: [hi], stop_sequences: ['END'] },
  ],
  [
    'stop as a list',
    { messages: [hi], stop: ['END', '###'] },
    { messages: [hi], stop_sequences: ['END', '###'] },
  ],
  ['max_tokens', { messages: [hi], max_tokens: 100 }, { messages: [hi], max_tokens: 100 }],
  [
    'max_completion_tokens beside max_tokens (G14)',
    { messages: [hi], max_tokens: 100, max_completion_tokens: 50 },
    { messages: [hi], max_tokens: 50 },
  ],
  [
    'temperature and top_p',
    { messages: [hi], temperature: 0.7, top_p: 0.9 },
    { messages: [hi], temperature: 0.7, p: 0.9 },
  ],
  ['seed', { messages: [hi], seed: 42 }, { messages: [hi], seed: 42 }],
  ['n of 1', { messages: [hi], n: 1 }, { messages: [hi] }],
];

/** [feature, OpenAI request fields, the param the 400 names]. */
const REFUSED: [string, Record<string, unknown>, string][] = [
  ['n above 1', { n: 2 }, 'n'],
  [
    'parallel_tool_calls false',
    { tools: [weather], parallel_tool_calls: false },
    'parallel_tool_calls',
  ],
  ['temperature above 1', { temperature: 1.2 }, 'temperature'],
  ['a negative seed', { seed: -5 }, 'seed'],
  ['logprobs', { logprobs: true, top_logprobs: 2 }, 'logprobs'],
  [
    'an audio part',
    {
      messages: [
        {
          role: 'user',
          content: [{ type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } }],
        },
      ],
    },
    'messages[0].content[0].type',
  ],
];

/** What the client must receive for the scripted stream below, `created` and `model` aside. */
function expectedChunks(id: string) {
  const head = { id, object: 'chat.completion.chunk' };
  const choice = (delta: object, finish: string | null = null) => [
    { index: 0, delta, logprobs: null, finish_reason: finish },
  ];
  return [
    { ...head, choices: choice({ role: 'assistant', content: '' }) },
    { ...head, choices: choice({ content: 'Hi' }) },
    { ...head, choices: choice({ content: '!' }) },
    { ...head, choices: choice({}, 'stop') },
    { ...head, choices: [], usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } },
  ];
}

describe('OpenAI request features translated to Cohere chat v2', () => {
  let mock: MockCohere;
  let sidecar: TestSidecar;
  const url = () => `${sidecar.url}/v1/chat/completions`;

  beforeAll(async () => {
    mock = await startMockCohere();
    sidecar = await startTestSidecar(coherePolicy(mock.url));
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  afterEach(() => expect(mock.pending()).toBe(0));

  itConforms.each(ROWS)(
    '%s: exact Cohere body upstream, exact chunks back',
    async (_, fields, body) => {
      mock.script({
        sse: cohereStream({
          id: 'msg-m',
          pieces: ['Hi', '!'],
          usage: { tokens: { input: 10, output: 2 } },
        }),
      });
      const res = await postSse(url(), {
        model: 'command-fast',
        stream: true,
        stream_options: { include_usage: true },
        ...fields,
      });

      expect(res.status).toBe(200);
      expect(mock.requests.at(-1)!.json).toEqual({ model: TARGET, ...body, stream: true });

      const chunks = chunksOf(res) as Record<string, unknown>[];
      const now = Math.floor(Date.now() / 1000);
      for (const chunk of chunks) {
        expect(Math.abs((chunk.created as number) - now)).toBeLessThan(60);
        // Cohere's events name no model: the provider's name for it comes from the call.
        expect(chunk.model).toBe(TARGET);
        recordConformance('CreateChatCompletionStreamResponse', chunk);
      }
      const bare = chunks.map(({ created: _c, model: _m, ...rest }) => rest);
      expect(bare).toEqual(expectedChunks('msg-m'));
      expect(res.done).toBe(true);
    },
  );

  itConforms.each(ROWS)(
    '%s: the same body unstreamed, with stream false',
    async (_, fields, body) => {
      const res = await fetch(url(), {
        method: 'POST',
        body: JSON.stringify({ model: 'command-fast', ...fields }),
      });
      expect(res.status).toBe(200);
      expect(mock.requests.at(-1)!.json).toEqual({ model: TARGET, ...body, stream: false });
      const completion = await res.json();
      expect(completion.model).toBe(TARGET);
      expect(completion.choices[0].message.content).toBe('Hello from the mock.');
      recordConformance('CreateChatCompletionResponse', completion);
    },
  );

  it.each(REFUSED)(
    '%s: 400 naming the parameter, and no upstream call',
    async (_, fields, param) => {
      const before = mock.requests.length;
      const res = await fetch(url(), {
        method: 'POST',
        body: JSON.stringify({ model: 'command-fast', messages: [hi], ...fields }),
      });
      expect(res.status).toBe(400);
      const { error } = await res.json();
      expect(error).toMatchObject({ code: 'GW_ERR_REQ_UNSUPPORTED_PARAM', param });
      expect(mock.requests.length).toBe(before);
    },
  );
});
