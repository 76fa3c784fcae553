import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  TEST_AWS,
  awsEnv,
  bedrockPolicy,
  converseStream,
  startBedrockSidecar,
  startMockBedrock,
  type MockBedrock,
} from '../support/mock-bedrock.js';
import { itConforms, recordConformance, recordEachConformance } from '../support/conformance.js';
import { chunksOf, postSse } from '../support/sse-client.js';
import type { TestSidecar } from '../support/sidecar.js';

// The translation matrix for Bedrock: each OpenAI request feature, sent streamed and not,
// against the exact Converse body the strict mock received and the exact answer the client
// got back.

const PNG_1PX =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const PARAMS = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather', parameters: PARAMS },
};
const SPEC = {
  toolSpec: { name: 'get_weather', description: 'Weather', inputSchema: { json: PARAMS } },
};
const HI = [{ role: 'user', content: 'hi' }];
const HI_OUT = [{ role: 'user', content: [{ text: 'hi' }] }];
const SCHEMA = {
  type: 'object',
  properties: { a: { type: 'string' } },
  required: ['a'],
  additionalProperties: false,
};

const TOOL_TURNS = [
  { role: 'user', content: 'Weather in Oslo and Rome?' },
  {
    role: 'assistant',
    content: 'Checking.',
    tool_calls: [
      {
        id: 'call_o',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
      },
      {
        id: 'call_r',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
      },
    ],
  },
  { role: 'tool', tool_call_id: 'call_o', content: '3C' },
  { role: 'tool', tool_call_id: 'call_r', content: '21C' },
];
const TOOL_TURNS_OUT = [
  { role: 'user', content: [{ text: 'Weather in Oslo and Rome?' }] },
  {
    role: 'assistant',
    content: [
      { text: 'Checking.' },
      { toolUse: { toolUseId: 'call_o', name: 'get_weather', input: { city: 'Oslo' } } },
      { toolUse: { toolUseId: 'call_r', name: 'get_weather', input: { city: 'Rome' } } },
    ],
  },
  {
    role: 'user',
    content: [
      { toolResult: { toolUseId: 'call_o', content: [{ text: '3C' }] } },
      { toolResult: { toolUseId: 'call_r', content: [{ text: '21C' }] } },
    ],
  },
];

type Row = [feature: string, request: Record<string, unknown>, converse: Record<string, unknown>];

const ROWS: Row[] = [
  ['plain user message', { messages: HI }, { messages: HI_OUT }],
  [
    'system and developer messages',
    {
      messages: [
        { role: 'system', content: 'S1' },
        { role: 'developer', content: [{ type: 'text', text: 'D1' }] },
        ...HI,
      ],
    },
    { system: [{ text: 'S1' }, { text: 'D1' }], messages: HI_OUT },
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
    { messages: [{ role: 'user', content: [{ text: 'one' }, { text: 'two' }] }] },
  ],
  [
    'image as a data: URI',
    {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'see' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_1PX}` } },
          ],
        },
      ],
    },
    {
      messages: [
        {
          role: 'user',
          content: [{ text: 'see' }, { image: { format: 'png', source: { bytes: PNG_1PX } } }],
        },
      ],
    },
  ],
  ['tools', { messages: HI, tools: [TOOL] }, { messages: HI_OUT, toolConfig: { tools: [SPEC] } }],
  [
    'tool_choice auto',
    { messages: HI, tools: [TOOL], tool_choice: 'auto' },
    { messages: HI_OUT, toolConfig: { tools: [SPEC] } },
  ],
  [
    'tool_choice required',
    { messages: HI, tools: [TOOL], tool_choice: 'required' },
    { messages: HI_OUT, toolConfig: { tools: [SPEC], toolChoice: { any: {} } } },
  ],
  ['tool_choice none', { messages: HI, tools: [TOOL], tool_choice: 'none' }, { messages: HI_OUT }],
  [
    'tool_choice naming a function',
    {
      messages: HI,
      tools: [TOOL],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    },
    {
      messages: HI_OUT,
      toolConfig: { tools: [SPEC], toolChoice: { tool: { name: 'get_weather' } } },
    },
  ],
  [
    'parallel_tool_calls false (no Converse equivalent: not forwarded)',
    { messages: HI, tools: [TOOL], parallel_tool_calls: false },
    { messages: HI_OUT, toolConfig: { tools: [SPEC] } },
  ],
  [
    'tool results over two turns',
    { messages: TOOL_TURNS, tools: [TOOL] },
    { messages: TOOL_TURNS_OUT, toolConfig: { tools: [SPEC] } },
  ],
  [
    'response_format json_schema',
    {
      messages: HI,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'out', strict: true, schema: SCHEMA },
      },
    },
    {
      messages: HI_OUT,
      outputConfig: {
        textFormat: {
          type: 'json_schema',
          structure: { jsonSchema: { schema: JSON.stringify(SCHEMA), name: 'out' } },
        },
      },
    },
  ],
  [
    'stop as a string',
    { messages: HI, stop: 'END' },
    { messages: HI_OUT, inferenceConfig: { stopSequences: ['END'] } },
  ],
  [
    'stop as a list',
    { messages: HI, stop: ['END', '\n\n'] },
    { messages: HI_OUT, inferenceConfig: { stopSequences: ['END', '\n\n'] } },
  ],
  [
    'max_tokens',
    { messages: HI, max_tokens: 99 },
    { messages: HI_OUT, inferenceConfig: { maxTokens: 99 } },
  ],
  [
    'max_completion_tokens over max_tokens',
    { messages: HI, max_tokens: 99, max_completion_tokens: 42 },
    { messages: HI_OUT, inferenceConfig: { maxTokens: 42 } },
  ],
  [
    'temperature and top_p',
    { messages: HI, temperature: 0.3, top_p: 0.8 },
    { messages: HI_OUT, inferenceConfig: { temperature: 0.3, topP: 0.8 } },
  ],
  [
    'seed (no Converse equivalent: not forwarded)',
    { messages: HI, seed: 1234 },
    { messages: HI_OUT },
  ],
  ['n = 1', { messages: HI, n: 1 }, { messages: HI_OUT }],
];

const REFUSED: [feature: string, request: Record<string, unknown>, param: string][] = [
  [
    'image by https URL',
    {
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'https://example.com/x.png' } }],
        },
      ],
    },
    'messages[0].content[0].image_url.url',
  ],
  ['n = 2', { messages: HI, n: 2 }, 'n'],
  [
    'response_format json_object',
    { messages: HI, response_format: { type: 'json_object' } },
    'response_format.type',
  ],
  ['logprobs', { messages: HI, logprobs: true }, 'logprobs'],
];

const HEAD = { id: 'chatcmpl-ID', object: 'chat.completion.chunk', created: 0, model: '' };
const delta = (d: object, finish: string | null = null) => ({
  ...HEAD,
  choices: [{ index: 0, delta: d, logprobs: null, finish_reason: finish }],
});
const DEFAULT_CHUNKS = [
  delta({ role: 'assistant', content: '' }),
  delta({ content: 'Hello' }),
  delta({ content: ' from' }),
  delta({ content: ' Bedrock.' }),
  delta({}, 'stop'),
];
const USAGE = {
  prompt_tokens: 12,
  completion_tokens: 6,
  total_tokens: 18,
  prompt_tokens_details: { cached_tokens: 0 },
};

/** One id and one creation time across the answer; replaced by fixed values for comparison. */
function normalise<T extends { id?: unknown; created?: unknown }>(items: T[]): T[] {
  const ids = new Set(items.map((c) => c.id));
  expect(ids.size).toBe(1);
  expect([...ids][0]).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
  for (const c of items) expect(Math.abs(Number(c.created) - Date.now() / 1000)).toBeLessThan(60);
  return items.map((c) => ({ ...c, id: 'chatcmpl-ID', created: 0 }));
}

describe('Bedrock translation matrix', () => {
  let mock: MockBedrock;
  let sidecar: TestSidecar;
  const url = () => `${sidecar.url}/v1/chat/completions`;

  beforeAll(async () => {
    mock = await startMockBedrock({ credentials: TEST_AWS });
    sidecar = await startBedrockSidecar(bedrockPolicy({ upstream: mock.url }), awsEnv(TEST_AWS));
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  beforeEach(() => expect(mock.pending()).toBe(0));

  describe.each(ROWS)('%s', (_feature, request, converse) => {
    itConforms('non-streamed: exact Converse body, exact completion', async () => {
      const res = await fetch(url(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'bedrock-claude', ...request }),
      });
      const body = await res.json();
      expect(res.status).toBe(200);
      const sent = mock.requests.at(-1)!;
      expect(sent.rejected).toBeUndefined();
      expect(sent.operation).toBe('converse');
      expect(sent.json).toEqual(converse);
      expect(normalise([body])[0]).toEqual({
        id: 'chatcmpl-ID',
        object: 'chat.completion',
        created: 0,
        model: '',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Hello from Bedrock.', refusal: null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: USAGE,
      });
      recordConformance('CreateChatCompletionResponse', body);
    });

    itConforms('streamed with include_usage: exact Converse body, exact chunks', async () => {
      const res = await postSse(url(), {
        model: 'bedrock-claude',
        ...request,
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(res.status).toBe(200);
      const sent = mock.requests.at(-1)!;
      expect(sent.rejected).toBeUndefined();
      expect(sent.operation).toBe('converse-stream');
      expect(sent.json).toEqual(converse);
      expect(res.done).toBe(true);
      const chunks = chunksOf(res) as { id: string; created: number }[];
      expect(normalise(chunks)).toEqual([
        ...DEFAULT_CHUNKS,
        { ...HEAD, choices: [], usage: USAGE },
      ]);
      recordEachConformance('CreateChatCompletionStreamResponse', chunks);
    });
  });

  describe.each(REFUSED)('%s', (_feature, request, param) => {
    it.each([false, true])(
      'is refused with a 400 naming it, before any upstream call (stream=%s)',
      async (stream) => {
        const before = mock.requests.length;
        const res = await fetch(url(), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'bedrock-claude', ...request, stream }),
        });
        expect(res.status).toBe(400);
        const { error } = await res.json();
        expect([error.code, error.param]).toEqual(['GW_ERR_REQ_UNSUPPORTED_PARAM', param]);
        expect(mock.requests.length).toBe(before);
      },
    );
  });

  it('streams tool calls as exact OpenAI fragments, without the usage chunk when not asked', async () => {
    mock.script({
      frames: converseStream({
        tools: [
          { id: 'tooluse_1', name: 'get_weather', input: ['{"city":', '"Oslo"}'] },
          { id: 'tooluse_2', name: 'get_weather', input: ['{"city":"Rome"}'] },
        ],
      }),
    });
    const res = await postSse(url(), {
      model: 'bedrock-claude',
      messages: HI,
      tools: [TOOL],
      stream: true,
    });
    const call = (index: number, id: string) => ({
      tool_calls: [
        { index, id, type: 'function', function: { name: 'get_weather', arguments: '' } },
      ],
    });
    const args = (index: number, text: string) => ({
      tool_calls: [{ index, function: { arguments: text } }],
    });
    expect(normalise(chunksOf(res) as { id: string }[])).toEqual([
      delta({ role: 'assistant', content: '' }),
      delta(call(0, 'tooluse_1')),
      delta(args(0, '{"city":')),
      delta(args(0, '"Oslo"}')),
      delta(call(1, 'tooluse_2')),
      delta(args(1, '{"city":"Rome"}')),
      delta({}, 'tool_calls'),
    ]);
    expect(res.done).toBe(true);
  });
});
