import { describe, expect, it } from 'vitest';
import { createOpenAIAdapter } from '../../../sidecar/providers/openai/adapter.js';
import { chatCompletion } from '../../support/mock-openai.js';

const adapter = createOpenAIAdapter({ providerId: 'p', baseUrl: 'http://127.0.0.1:1/v1' });

describe('the OpenAI adapter reading a completion', () => {
  it('reads usage without a full parse and returns the very same bytes', () => {
    const completion = chatCompletion({
      model: 'm',
      content: 'a } tricky "usage":{ answer',
      usage: { prompt_tokens: 12, completion_tokens: 5, cached_tokens: 4 },
    });
    const body = Buffer.from(JSON.stringify(completion));
    const parsed = adapter.parseChat(body);
    expect('code' in parsed).toBe(false);
    if ('code' in parsed) return;
    expect(parsed.bytes).toBe(body);
    expect(parsed.usage).toMatchObject({
      promptTokens: 12,
      completionTokens: 5,
      totalTokens: 17,
      cachedTokens: 4,
    });
  });

  it('reads usage the same way when the answer is pretty-printed', () => {
    const completion = chatCompletion({
      model: 'm',
      content: 'x',
      usage: { prompt_tokens: 3, completion_tokens: 2 },
    });
    const parsed = adapter.parseChat(Buffer.from(JSON.stringify(completion, null, 2)));
    expect('code' in parsed ? undefined : parsed.usage).toMatchObject({
      promptTokens: 3,
      completionTokens: 2,
    });
  });

  it('treats a 200 carrying an error body as a failure, not an answer', () => {
    const parsed = adapter.parseChat(
      Buffer.from('{"error":{"message":"boom","type":"server_error","code":500}}'),
    );
    expect(parsed).toMatchObject({ code: 'GW_ERR_UPSTREAM_ERROR', status: 502 });
  });

  it('refuses a body without choices', () => {
    expect(adapter.parseChat(Buffer.from('{"id":"x"}'))).toMatchObject({
      code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    });
  });
});
