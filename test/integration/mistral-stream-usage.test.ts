import { create } from '@bufbuild/protobuf';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PolicySchema, Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { startMockMistral, type MockMistral } from '../support/mock-mistral.js';
import { postMessages } from '../api/anthropic/sdk-style-client.js';
import { eventually, startTestSidecar, type TestSidecar } from '../support/sidecar.js';

// Mistral refuses `stream_options` (422, extra_forbidden) and reports a stream's usage in its
// last chunk unasked. The sidecar asks every other OpenAI-protocol stream for usage; asking
// Mistral would fail every stream, and is not needed to meter it.

describe('Mistral streams', () => {
  let mock: MockMistral;
  let sidecar: TestSidecar;
  let client: OpenAI;

  beforeAll(async () => {
    mock = await startMockMistral({ usage: { prompt_tokens: 11, completion_tokens: 4 } });
    const policy = create(PolicySchema, {
      listen: { host: '127.0.0.1', port: 0 },
      routing: { breakerFailures: 1_000_000, breakerCooldownMs: 1 },
      providers: [
        {
          id: 'mistral',
          catalog: 'mistral',
          protocol: Protocol.OPENAI,
          baseUrl: mock.url,
          apiKeyEnv: 'TEST_PROVIDER_KEY',
        },
      ],
      models: [
        {
          name: 'mistral/*',
          provider: 'mistral',
          target: '*',
          price: { inputPerMtok: 2, outputPerMtok: 6 },
        },
      ],
    });
    sidecar = await startTestSidecar(policy);
    client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  beforeEach(() => sidecar.logs.splice(0));

  const lastLog = async () => {
    await eventually(() => sidecar.requestLogs().length > 0);
    return sidecar.requestLogs().at(-1)!;
  };

  it('streams without stream_options upstream, and meters the usage Mistral sent unasked', async () => {
    const stream = await client.chat.completions.create({
      model: 'mistral/mistral-small-latest',
      messages: [{ role: 'user', content: 'Salut' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Bonjour from Mistral.');

    const sent = mock.requests.at(-1)!.json as Record<string, unknown>;
    expect(sent).not.toHaveProperty('stream_options');
    expect(sent.model).toBe('mistral-small-latest');
    const line = await lastLog();
    expect(line).toMatchObject({
      status: 200,
      outcome: 'ok',
      prompt_tokens: 11,
      completion_tokens: 4,
      cost_micro_usd: 46,
    });
    expect(line.error_detail).toBeUndefined();
  });

  it('takes a client’s own stream_options.include_usage and still gives it the usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'mistral/mistral-small-latest',
      messages: [{ role: 'user', content: 'Salut' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined | null;
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('Bonjour from Mistral.');
    expect(usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 });
    expect(mock.requests.at(-1)!.json).not.toHaveProperty('stream_options');
    expect(await lastLog()).toMatchObject({ outcome: 'ok', completion_tokens: 4 });
  });

  it('answers a stream through the Anthropic ingress, with the exact counts at the end', async () => {
    const res = await postMessages(`${sidecar.url}/anthropic/v1/messages`, {
      model: 'mistral/mistral-small-latest',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'Salut' }],
    });
    expect(res.status).toBe(200);
    expect(res.message?.content).toEqual([{ type: 'text', text: 'Bonjour from Mistral.' }]);
    expect(res.message?.usage).toMatchObject({ input_tokens: 11, output_tokens: 4 });
    expect(mock.requests.at(-1)!.json).not.toHaveProperty('stream_options');
  });

  it('leaves a non-streamed request as the client wrote it', async () => {
    const completion = await client.chat.completions.create({
      model: 'mistral/mistral-small-latest',
      messages: [{ role: 'user', content: 'Salut' }],
    });
    expect(completion.choices[0].message.content).toBe('Bonjour from Mistral.');
    expect(await lastLog()).toMatchObject({ outcome: 'ok', prompt_tokens: 11 });
  });

  it("tells the client which field Mistral refused, from its 422's validation detail", async () => {
    const refused = client.chat.completions.create({
      model: 'mistral/mistral-small-latest',
      messages: [{ role: 'user', content: 'Salut' }],
      logit_bias: { '1734': -100 },
    });
    await expect(refused).rejects.toMatchObject({
      status: 400,
      code: 'GW_ERR_UPSTREAM_BAD_REQUEST',
      param: 'logit_bias',
      message: '400 Provider "mistral": logit_bias: Extra inputs are not permitted',
    });
    expect(await lastLog()).toMatchObject({ status: 400, error_detail: 'http_422' });
  });
});

describe('the Mistral mock', () => {
  it('refuses stream_options.include_usage with the 422 Mistral sends', async () => {
    const mock = await startMockMistral();
    try {
      const res = await fetch(`${mock.url}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'mistral-small-latest',
          messages: [{ role: 'user', content: 'hi' }],
          stream: true,
          stream_options: { include_usage: true },
        }),
      });
      expect(res.status).toBe(422);
      expect(await res.json()).toEqual({
        object: 'error',
        message: {
          detail: [
            {
              type: 'extra_forbidden',
              loc: ['body', 'stream_options', 'include_usage'],
              msg: 'Extra inputs are not permitted',
              input: true,
            },
          ],
        },
        type: 'invalid_request_error',
        param: null,
        code: null,
      });
    } finally {
      await mock.close();
    }
  });
});
