import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { anthropicStream, type BlockInit } from '../support/mock-anthropic.js';
import { startHarness, type Harness } from '../providers/anthropic/harness.js';
import { itConforms } from '../support/conformance.js';

// The translation matrix for Anthropic: each OpenAI request feature, and the exact body the
// strict mock received for it, streamed and not; then the exact chunks a client receives
// for each kind of Anthropic stream content.

/** A 1x1 PNG and a 1x1 GIF. */
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const GIF = 'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';
const params = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const tool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather', parameters: params },
};
const antTool = { name: 'get_weather', description: 'Weather', input_schema: params };
const user = (content: unknown) => ({ role: 'user', content });
const call = (id: string, city: string) => ({
  id,
  type: 'function',
  function: { name: 'get_weather', arguments: JSON.stringify({ city }) },
});

interface Row {
  feature: string;
  request: Record<string, unknown>;
  /** The Anthropic body, less `model` (always claude-m) and `stream`. */
  upstream: Record<string, unknown>;
}

const ROWS: Row[] = [
  {
    feature: 'system and developer messages',
    request: {
      messages: [
        { role: 'system', content: 'S1' },
        { role: 'developer', content: [{ type: 'text', text: 'D1' }] },
        user('hi'),
      ],
    },
    upstream: {
      max_tokens: 4096,
      system: [
        { type: 'text', text: 'S1' },
        { type: 'text', text: 'D1' },
      ],
      messages: [user('hi')],
    },
  },
  {
    feature: 'multi-part text',
    request: {
      messages: [
        user([
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
        ]),
      ],
    },
    upstream: {
      max_tokens: 4096,
      messages: [
        user([
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
        ]),
      ],
    },
  },
  {
    feature: 'image data URIs typed from their bytes (PNG labelled JPEG, GIF unlabelled)',
    request: {
      messages: [
        user([
          { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${PNG}` } },
          { type: 'image_url', image_url: { url: `data:;base64,${GIF}`, detail: 'high' } },
        ]),
      ],
    },
    upstream: {
      max_tokens: 4096,
      messages: [
        user([
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
          { type: 'image', source: { type: 'base64', media_type: 'image/gif', data: GIF } },
        ]),
      ],
    },
  },
  {
    feature: 'image URL',
    request: {
      messages: [user([{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }])],
    },
    upstream: {
      max_tokens: 4096,
      messages: [
        user([{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }]),
      ],
    },
  },
  {
    feature: 'tools, and a tool without parameters',
    request: {
      messages: [user('hi')],
      tools: [tool, { type: 'function', function: { name: 'now' } }],
    },
    upstream: {
      max_tokens: 4096,
      messages: [user('hi')],
      tools: [antTool, { name: 'now', input_schema: { type: 'object', properties: {} } }],
    },
  },
  {
    feature: 'tool_choice naming a function, parallel_tool_calls false',
    request: {
      messages: [user('hi')],
      tools: [tool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
    },
    upstream: {
      max_tokens: 4096,
      messages: [user('hi')],
      tools: [antTool],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
    },
  },
  {
    feature: 'tool results over two turns, with a user remark after them',
    request: {
      tools: [tool],
      messages: [
        user('Paris and Rome?'),
        {
          role: 'assistant',
          content: '',
          tool_calls: [call('toolu_1', 'Paris'), call('toolu_2', 'Rome')],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: [{ type: 'text', text: '18C' }] },
        { role: 'tool', tool_call_id: 'toolu_2', content: '21C' },
        user('Thanks'),
        { role: 'assistant', content: 'Paris 18C, Rome 21C.' },
        user('And now?'),
      ],
    },
    upstream: {
      max_tokens: 4096,
      tools: [antTool],
      messages: [
        user('Paris and Rome?'),
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        user([
          { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18C' }] },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: '21C' },
          { type: 'text', text: 'Thanks' },
        ]),
        { role: 'assistant', content: 'Paris 18C, Rome 21C.' },
        user('And now?'),
      ],
    },
  },
  {
    feature: 'response_format json_schema',
    request: {
      messages: [user('hi')],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'w', strict: true, schema: params },
      },
    },
    upstream: {
      max_tokens: 4096,
      messages: [user('hi')],
      output_config: { format: { type: 'json_schema', schema: params } },
    },
  },
  {
    feature: 'stop',
    request: { messages: [user('hi')], stop: ['END', ' '] },
    upstream: { max_tokens: 4096, messages: [user('hi')], stop_sequences: ['END'] },
  },
  {
    feature: 'max_tokens',
    request: { messages: [user('hi')], max_tokens: 77 },
    upstream: { max_tokens: 77, messages: [user('hi')] },
  },
  {
    feature: 'max_completion_tokens over max_tokens',
    request: { messages: [user('hi')], max_tokens: 77, max_completion_tokens: 33 },
    upstream: { max_tokens: 33, messages: [user('hi')] },
  },
  {
    feature: 'temperature and top_p',
    request: { messages: [user('hi')], temperature: 0.3, top_p: 0.9 },
    upstream: { max_tokens: 4096, messages: [user('hi')], temperature: 0.3, top_p: 0.9 },
  },
  {
    feature: 'seed (no Anthropic equivalent: dropped), user (as metadata.user_id)',
    request: { messages: [user('hi')], seed: 42, user: 'u-1', n: 1, store: false },
    upstream: { max_tokens: 4096, messages: [user('hi')], metadata: { user_id: 'u-1' } },
  },
  {
    feature: 'reasoning_effort within max_completion_tokens',
    request: { messages: [user('hi')], reasoning_effort: 'low', max_completion_tokens: 3000 },
    upstream: {
      max_tokens: 3000,
      messages: [user('hi')],
      thinking: { type: 'enabled', budget_tokens: 2048 },
    },
  },
  {
    feature: 'reasoning_effort high without a cap',
    request: { messages: [user('hi')], reasoning_effort: 'high' },
    upstream: {
      max_tokens: 4096 + 16384,
      messages: [user('hi')],
      thinking: { type: 'enabled', budget_tokens: 16384 },
    },
  },
];

describe('Anthropic translation matrix', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.stop());
  afterEach(() => expect(h.mock.pending()).toBe(0));

  describe.each(ROWS)('$feature', (row) => {
    const request = { model: 'claude-m', ...row.request };

    itConforms('non-streamed: the exact Anthropic body', async () => {
      const res = await h.post(request);
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      expect(h.sent()).toEqual({ model: 'claude-m', ...row.upstream });
    });

    itConforms('streamed: the exact Anthropic body', async () => {
      const res = await h.stream(request);
      expect(res.status, res.raw).toBe(200);
      expect(h.sent()).toEqual({ model: 'claude-m', ...row.upstream, stream: true });
    });
  });

  itConforms('refuses n > 1 with a 400 naming n, before any upstream call', async () => {
    const before = h.mock.requests.length;
    const res = await h.post({ model: 'claude-m', messages: [user('hi')], n: 2 });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'GW_ERR_REQ_UNSUPPORTED_PARAM', param: 'n' });
    expect(h.mock.requests.length).toBe(before);
  });

  describe('the exact chunks a client receives', () => {
    const head = { id: 'msg_fixed', object: 'chat.completion.chunk', model: 'claude-m' };
    const chunk = (delta: object, finish: string | null = null) => ({
      ...head,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
    const usage = (prompt: number, completion: number) => ({
      ...head,
      choices: [],
      usage: {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });

    async function chunksFor(blocks: BlockInit[], stopReason?: 'end_turn' | 'tool_use') {
      h.mock.script({
        sse: anthropicStream({
          id: 'msg_fixed',
          model: 'claude-m',
          blocks,
          stopReason,
          ping: true,
          usage: { input_tokens: 10, output_tokens: 5 },
        }),
      });
      const res = await h.stream({
        model: 'claude-m',
        messages: [user('hi')],
        stream_options: { include_usage: true },
      });
      expect(res.done).toBe(true);
      for (const c of res.chunks) {
        expect(Math.abs(c.created - Date.now() / 1000)).toBeLessThan(60);
        delete c.created;
      }
      return res.chunks;
    }

    itConforms('text', async () => {
      expect(await chunksFor([{ type: 'text', text: ['Hel', 'lo'] }])).toEqual([
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Hel' }),
        chunk({ content: 'lo' }),
        chunk({}, 'stop'),
        usage(10, 5),
      ]);
    });

    itConforms('text, then two tool calls (one without input)', async () => {
      const chunks = await chunksFor([
        { type: 'text', text: 'Hi' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: ['{"city":', '"Rome"}'] },
        { type: 'tool_use', id: 'toolu_2', name: 'now', input: [] },
      ]);
      const open = (index: number, id: string, name: string) =>
        chunk({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] });
      const args = (index: number, text: string) =>
        chunk({ tool_calls: [{ index, function: { arguments: text } }] });
      expect(chunks).toEqual([
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Hi' }),
        open(0, 'toolu_1', 'get_weather'),
        args(0, '{"city":'),
        args(0, '"Rome"}'),
        open(1, 'toolu_2', 'now'),
        args(1, '{}'),
        chunk({}, 'tool_calls'),
        usage(10, 5),
      ]);
    });

    itConforms('thinking, its signature, then text', async () => {
      const chunks = await chunksFor([
        { type: 'thinking', thinking: ['Let me ', 'think.'], signature: 'sig_1' },
        { type: 'text', text: 'Done.' },
      ]);
      expect(chunks).toEqual([
        chunk({ role: 'assistant', content: '' }),
        chunk({ reasoning_content: 'Let me ' }),
        chunk({ reasoning_content: 'think.' }),
        chunk({
          thinking_blocks: [{ type: 'thinking', thinking: 'Let me think.', signature: 'sig_1' }],
        }),
        chunk({ content: 'Done.' }),
        chunk({}, 'stop'),
        usage(10, 5),
      ]);
    });
  });
});
