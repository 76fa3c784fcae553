// How a turn that calls tools ends, through the Anthropic ingress.
// - OpenAI answers a call forced by a named tool_choice with finish_reason "stop", and Gemini's
//   OpenAI-compatible endpoint and some local servers do so for every call; Anthropic clients
//   run their tool loop only on stop_reason "tool_use", which Claude always sends after
//   tool_use blocks.
// - A call cut off by max_tokens: Anthropic answers such a turn with 200 and stop_reason
//   max_tokens (the last tool_use block may be incomplete); a 502 instead would be retried by
//   the SDKs, each retry paying for the same truncated answer.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chatCompletion,
  chatStream,
  startMockOpenAI,
  type MockOpenAI,
} from '../support/mock-openai.js';
import { startTestSidecar, testPolicy, type TestSidecar } from '../support/sidecar.js';
import { postMessages } from '../api/anthropic/sdk-style-client.js';

const REQUEST = {
  model: 'gpt-backed',
  max_tokens: 64,
  tools: [{ name: 'lookup', input_schema: { type: 'object' } }],
  tool_choice: { type: 'tool', name: 'lookup' },
  messages: [{ role: 'user', content: 'Look up order A1.' }],
};
const TRUNCATED = { ...REQUEST, max_tokens: 16, tool_choice: undefined };
const CALL = { id: 'call_1', name: 'lookup', arguments: ['{"order_id":', '"A1"}'] };

describe('Anthropic ingress, how a turn that calls tools ends', () => {
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

  it('answers stop_reason tool_use, as Claude does', async () => {
    const toolCalls = [{ ...CALL, arguments: CALL.arguments.join('') }];
    mock.script({
      status: 200,
      json: chatCompletion({ model: 'gpt-4o-mini', toolCalls, finishReason: 'stop' }),
    });

    const res = await postMessages(url(), REQUEST);

    expect(res.status).toBe(200);
    expect(res.message).toMatchObject({
      content: [{ type: 'tool_use', name: 'lookup', input: { order_id: 'A1' } }],
      stop_reason: 'tool_use',
    });
  });

  it('streams stop_reason tool_use in message_delta', async () => {
    const sse = chatStream({
      model: 'gpt-4o-mini',
      toolCalls: [CALL],
      finishReason: 'stop',
      includeUsage: true,
    });
    mock.script({ sse });

    const res = await postMessages(url(), { ...REQUEST, stream: true });

    expect(res.stopped).toBe(true);
    expect(res.message).toMatchObject({
      content: [{ type: 'tool_use', name: 'lookup', input: { order_id: 'A1' } }],
      stop_reason: 'tool_use',
    });
  });

  it('answers 200 with stop_reason max_tokens, not a 502 the SDK would retry', async () => {
    const toolCalls = [{ id: 'call_1', name: 'lookup', arguments: '{"order_id": "A1' }];
    mock.script({
      status: 200,
      json: chatCompletion({ model: 'gpt-4o-mini', toolCalls, finishReason: 'length' }),
    });

    const res = await postMessages(url(), TRUNCATED);

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      stop_reason: 'max_tokens',
      content: [{ type: 'tool_use', id: 'call_1', name: 'lookup', input: {} }],
    });
  });

  it('still refuses broken arguments in an answer the model finished', async () => {
    const toolCalls = [{ id: 'call_2', name: 'lookup', arguments: '{"order_id": "A1' }];
    mock.script({ status: 200, json: chatCompletion({ model: 'gpt-4o-mini', toolCalls }) });

    const res = await postMessages(url(), TRUNCATED);

    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });
});
