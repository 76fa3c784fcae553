// A tool call cut off by max_tokens, through the Anthropic ingress. Anthropic answers such a
// turn with 200 and stop_reason max_tokens (the last tool_use block may be incomplete); a 502
// instead would be retried by the SDKs, each retry paying for the same truncated answer.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatCompletion, startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { startTestSidecar, testPolicy, type TestSidecar } from '../support/sidecar.js';
import { postMessages } from '../api/anthropic/sdk-style-client.js';

const REQUEST = {
  model: 'gpt-backed',
  max_tokens: 16,
  tools: [{ name: 'lookup', input_schema: { type: 'object' } }],
  messages: [{ role: 'user', content: 'Look up the order.' }],
};

describe('Anthropic ingress, tool call truncated by max_tokens', () => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;
  const url = () => `${sidecar.url}/anthropic/v1/messages`;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }));
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  it('answers 200 with stop_reason max_tokens, not a 502 the SDK would retry', async () => {
    const toolCalls = [{ id: 'call_1', name: 'lookup', arguments: '{"order_id": "A1' }];
    mock.script({
      status: 200,
      json: chatCompletion({ model: 'gpt-4o-mini', toolCalls, finishReason: 'length' }),
    });

    const res = await postMessages(url(), REQUEST);

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      stop_reason: 'max_tokens',
      content: [{ type: 'tool_use', id: 'call_1', name: 'lookup', input: {} }],
    });
  });

  it('still refuses broken arguments in an answer the model finished', async () => {
    const toolCalls = [{ id: 'call_2', name: 'lookup', arguments: '{"order_id": "A1' }];
    mock.script({ status: 200, json: chatCompletion({ model: 'gpt-4o-mini', toolCalls }) });

    const res = await postMessages(url(), REQUEST);

    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });
});
