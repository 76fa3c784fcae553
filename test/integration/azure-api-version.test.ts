import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { itConforms, recordConformance, recordEachConformance } from '../support/conformance.js';
import {
  PROVIDER_SECRET,
  eventually,
  startTestSidecar,
  testPolicy,
  type TestSidecar,
} from '../support/sidecar.js';

// Azure OpenAI deployments pinned to an api-version from before 2024-09-01 (2024-02-01 and
// 2024-06-01 are GA versions many LiteLLM configs still name) refuse `stream_options` as an
// unknown argument. The sidecar asks every stream for usage, so it must not ask these: a
// client that never sent stream_options would otherwise get a 400 naming it on every stream.

describe.each([
  ['2024-06-01', false],
  ['2024-02-15-preview', false],
  ['2024-10-21', true],
] as const)('Azure OpenAI at api-version %s', (apiVersion, takesStreamOptions) => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;
  let client: OpenAI;

  beforeAll(async () => {
    mock = await startMockOpenAI({ azure: { apiVersion, apiKey: PROVIDER_SECRET } });
    sidecar = await startTestSidecar(
      testPolicy({ upstream: mock.origin, protocol: Protocol.AZURE_OPENAI, apiVersion }),
    );
    client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  itConforms('streams a chat the client sent without stream_options', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    recordEachConformance('CreateChatCompletionStreamResponse', chunks);

    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(
      'Hello from the mock.',
    );
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('stop');
    const sent = mock.requests.at(-1)!.json as Record<string, unknown>;
    if (takesStreamOptions) {
      expect(sent.stream_options).toEqual({ include_usage: true });
    } else {
      expect(sent).not.toHaveProperty('stream_options');
    }
    await eventually(() => sidecar.requestLogs().length > 0);
    const line = sidecar.requestLogs().at(-1)!;
    expect(line.outcome).toBe('ok');
    if (takesStreamOptions) expect(line.completion_tokens).toBe(4);
    else expect(line.error_detail).toBe('done_without_usage');
  });

  itConforms('passes a client’s own stream_options on as the client wrote it', async () => {
    const result = await client.chat.completions
      .create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        stream_options: { include_usage: true },
      })
      .then(
        async (stream) => {
          const chunks = [];
          for await (const chunk of stream) chunks.push(chunk);
          return chunks;
        },
        (err: unknown) => err,
      );
    const sent = mock.requests.at(-1)!.json as Record<string, unknown>;
    expect(sent.stream_options).toEqual({ include_usage: true });
    if (takesStreamOptions) {
      const chunks = result as OpenAI.Chat.Completions.ChatCompletionChunk[];
      recordEachConformance('CreateChatCompletionStreamResponse', chunks);
      expect(chunks.at(-1)!.usage?.completion_tokens).toBe(4);
    } else {
      // Azure's own refusal, as the client would have had it from Azure directly.
      expect(result).toBeInstanceOf(OpenAI.BadRequestError);
      const error = (result as InstanceType<typeof OpenAI.BadRequestError>).error;
      recordConformance('ErrorResponse', { error });
      expect(error).toMatchObject({ code: 'GW_ERR_UPSTREAM_BAD_REQUEST' });
      expect((error as { message: string }).message).toContain(
        'Unrecognized request argument supplied: stream_options',
      );
    }
  });
});
