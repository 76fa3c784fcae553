import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  TEST_AWS,
  awsEnv,
  bedrockPolicy,
  startBedrockSidecar,
  startMockBedrock,
  type MockBedrock,
} from '../support/mock-bedrock.js';
import { postSse } from '../support/sse-client.js';
import type { TestSidecar } from '../support/sidecar.js';

// A tool that ran and returned nothing is an ordinary turn of a conversation. Converse refuses
// a blank text block inside a toolResult, but takes a toolResult whose content list is empty,
// which says the same thing the client said.

const ECHO = {
  type: 'function',
  function: { name: 'clear_cache', parameters: { type: 'object', properties: {} } },
};

function conversation(toolContent: unknown) {
  return {
    model: 'bedrock-claude',
    tools: [ECHO],
    messages: [
      { role: 'user', content: 'Clear the cache.' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'clear_cache', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: toolContent },
    ],
  };
}

describe('Bedrock: a tool result with no content', () => {
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

  const lastToolResult = () => {
    const sent = mock.requests.at(-1)!;
    expect(sent.rejected).toBeUndefined();
    const messages = (sent.json as { messages: { content: Record<string, unknown>[] }[] }).messages;
    return messages[2].content[0].toolResult;
  };

  it.each([
    ['an empty string', ''],
    ['a whitespace-only string', ' \n\t'],
    ['an empty array of parts', []],
    ['only an empty text part', [{ type: 'text', text: '' }]],
  ])('sends %s as a toolResult with an empty content list, and Bedrock takes it', async (_, c) => {
    for (const stream of [false, true]) {
      const body = { ...conversation(c), stream };
      const res = stream
        ? await postSse(url(), body)
        : await fetch(url(), { method: 'POST', body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      expect(lastToolResult()).toEqual({ toolUseId: 'call_1', content: [] });
    }
  });

  it('keeps the text of a result that has some, blank parts aside', async () => {
    const parts = [
      { type: 'text', text: '' },
      { type: 'text', text: 'cleared' },
    ];
    const res = await fetch(url(), { method: 'POST', body: JSON.stringify(conversation(parts)) });
    expect(res.status).toBe(200);
    expect(lastToolResult()).toEqual({ toolUseId: 'call_1', content: [{ text: 'cleared' }] });
  });

  it('sends a string result with its surrounding whitespace, unchanged', async () => {
    const res = await fetch(url(), {
      method: 'POST',
      body: JSON.stringify(conversation('  done\n')),
    });
    expect(res.status).toBe(200);
    expect(lastToolResult()).toEqual({ toolUseId: 'call_1', content: [{ text: '  done\n' }] });
  });
});
