// The Anthropic ingress in front of a Claude model: Anthropic in, the canonical OpenAI form in
// the middle, Anthropic out again through the Anthropic adapter, against the strict mock.
// Whatever the two translations lose (signatures, cache counts), the mock or the asserts see.

import { create } from '@bufbuild/protobuf';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PolicySchema, Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import {
  anthropicMessage,
  anthropicStream,
  startMockAnthropic,
  type MockAnthropic,
} from '../support/mock-anthropic.js';
import { PROVIDER_SECRET, startTestSidecar, type TestSidecar } from '../support/sidecar.js';
import { postMessages } from '../api/anthropic/sdk-style-client.js';

const weather = {
  name: 'get_weather',
  description: 'Current weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('Anthropic ingress before a Claude model', () => {
  let mock: MockAnthropic;
  let sidecar: TestSidecar;
  const url = () => `${sidecar.url}/anthropic/v1/messages`;
  const sent = () => mock.requests.at(-1)!.json as Record<string, unknown>;

  beforeAll(async () => {
    mock = await startMockAnthropic({ apiKey: PROVIDER_SECRET });
    const policy = create(PolicySchema, {
      listen: { host: '127.0.0.1', port: 0 },
      routing: { breakerFailures: 1_000_000, breakerCooldownMs: 1 },
      providers: [
        {
          id: 'anthropic',
          protocol: Protocol.ANTHROPIC,
          baseUrl: mock.url,
          apiKeyEnv: 'TEST_PROVIDER_KEY',
        },
      ],
      models: [{ name: 'claude-x', provider: 'anthropic', target: 'claude-sonnet-4-5' }],
    });
    sidecar = await startTestSidecar(policy);
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  afterEach(() => expect(mock.pending()).toBe(0));

  it('G11: returns signed thinking, and takes it back unmodified on the tool-result turn', async () => {
    mock.script({
      sse: anthropicStream({
        model: 'claude-sonnet-4-5-20250929',
        blocks: [
          { type: 'thinking', thinking: ['Paris is', ' a city.'], signature: 'sig_abc' },
          { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: ['{"city":', '"Paris"}'] },
        ],
        usage: { input_tokens: 30, output_tokens: 25, cache_read_input_tokens: 2000 },
      }),
    });
    const question = { role: 'user', content: 'Weather in Paris?' };
    const ask = {
      model: 'claude-x',
      max_tokens: 20000,
      thinking: { type: 'enabled', budget_tokens: 8192 },
      tools: [weather],
      stream: true,
    };
    const turn1 = await postMessages(url(), { ...ask, messages: [question] });

    expect(sent().thinking).toEqual({ type: 'enabled', budget_tokens: 8192 });
    expect(turn1.stopped).toBe(true);
    expect(turn1.message?.content).toEqual([
      { type: 'thinking', thinking: 'Paris is a city.', signature: 'sig_abc' },
      { type: 'tool_use', id: 'toolu_A', name: 'get_weather', input: { city: 'Paris' } },
    ]);
    expect(turn1.message?.stop_reason).toBe('tool_use');
    // Anthropic's own counts survive the round trip through OpenAI's prompt_tokens.
    expect(turn1.message?.usage).toMatchObject({
      input_tokens: 30,
      output_tokens: 25,
      cache_read_input_tokens: 2000,
      cache_creation_input_tokens: 0,
    });

    mock.script({
      status: 200,
      json: anthropicMessage({
        model: 'claude-sonnet-4-5-20250929',
        blocks: [{ type: 'text', text: 'It is 18C in Paris.' }],
      }),
    });
    const turn2 = await postMessages(url(), {
      ...ask,
      stream: false,
      messages: [
        question,
        { role: 'assistant', content: turn1.message!.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_A', content: '18C' }],
        },
      ],
    });

    expect(turn2.status).toBe(200);
    const history = sent().messages as { content: { type: string }[] }[];
    expect(history[1].content[0]).toEqual({
      type: 'thinking',
      thinking: 'Paris is a city.',
      signature: 'sig_abc',
    });
    expect(turn2.body).toMatchObject({
      content: [{ type: 'text', text: 'It is 18C in Paris.' }],
      stop_reason: 'end_turn',
    });
  });
});
