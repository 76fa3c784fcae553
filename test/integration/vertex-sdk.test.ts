import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { geminiErrors, geminiEvent, geminiResponse } from '../support/mock-gemini.js';
import {
  makeServiceAccount,
  startMockVertex,
  startVertexSidecar,
  vertexPolicy,
  type MockVertex,
  type ServiceAccountFile,
} from '../support/mock-vertex.js';
import { itConforms, recordConformance, recordEachConformance } from '../support/conformance.js';
import type { TestSidecar } from '../support/sidecar.js';

// The official openai SDK drives the real sidecar against a mock of Vertex AI: the sidecar
// mints its own OAuth token from a throwaway service account (the mock verifies the RS256
// assertion with the public key) and speaks Gemini on the Vertex model routes.

const PNG_1PX =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const ROUTE = '/v1/projects/test-project/locations/us-central1/publishers/google/models';

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};

async function startVertex(
  http: 'uws' | 'node' | 'auto' = 'auto',
  opts: { tokenDelayMs?: number } = {},
) {
  const mock = await startMockVertex({
    strict: true,
    project: 'test-project',
    location: 'us-central1',
    ...opts,
  });
  const account = makeServiceAccount(mock.tokenUri);
  mock.trust(account);
  const sidecar = await startVertexSidecar(
    vertexPolicy(mock.origin),
    { GOOGLE_APPLICATION_CREDENTIALS: account.path },
    http,
  );
  const client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
  return { mock, account, sidecar, client };
}

describe.each(['uws', 'node'] as const)('the openai SDK through Vertex AI (%s front)', (http) => {
  let mock: MockVertex;
  let account: ServiceAccountFile;
  let sidecar: TestSidecar;
  let client: OpenAI;

  beforeAll(async () => ({ mock, account, sidecar, client } = await startVertex(http)));
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  itConforms('answers a plain chat with a token it minted from the service account', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    expect(completion.choices[0].message.content).toBe('Hello from the Gemini mock.');
    recordConformance('CreateChatCompletionResponse', completion);

    const sent = mock.requests.at(-1)!;
    expect(sent.url).toBe(`${ROUTE}/gemini-2.5-flash:generateContent`);
    expect(mock.tokenRequests).toHaveLength(1);
    const { claims, issued } = mock.tokenRequests[0];
    expect(sent.headers.authorization).toBe(`Bearer ${issued}`);
    expect(sent.headers['x-goog-api-key']).toBeUndefined();
    expect(claims).toMatchObject({
      iss: account.clientEmail,
      aud: mock.tokenUri,
      scope: 'https://www.googleapis.com/auth/cloud-platform',
    });
    expect(Number(claims.exp) - Number(claims.iat)).toBeLessThanOrEqual(3600);
    expect(sent.json).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }] });
  });

  itConforms('streams with include_usage, reusing the cached token', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Say hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(
      'Hello from the Gemini mock.',
    );
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage?.total_tokens).toBe(12);
    recordEachConformance('CreateChatCompletionStreamResponse', chunks);
    expect(mock.requests.at(-1)!.url).toBe(
      `${ROUTE}/gemini-2.5-flash:streamGenerateContent?alt=sse`,
    );
    expect(mock.tokenRequests).toHaveLength(1);
  });

  it('runs parallel tool calls and their results over two turns', async () => {
    mock.script({
      sse: [
        geminiEvent(
          geminiResponse({
            candidates: [
              {
                parts: [
                  { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
                  { functionCall: { name: 'get_weather', args: { city: 'Tokyo' } } },
                ],
                finishReason: 'STOP',
              },
            ],
          }),
        ),
      ],
    });
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Weather in Paris and Tokyo?' },
    ];
    const first = await client.chat.completions
      .stream({
        model: 'gemini-2.5-flash',
        messages,
        tools: [weatherTool],
        parallel_tool_calls: true,
      })
      .finalChatCompletion();
    const calls = first.choices[0].message.tool_calls ?? [];
    expect(calls).toHaveLength(2);

    messages.push(
      first.choices[0].message,
      { role: 'tool', tool_call_id: calls[0].id, content: '18C' },
      { role: 'tool', tool_call_id: calls[1].id, content: '25C' },
    );
    const second = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages,
      tools: [weatherTool],
    });
    expect(second.choices[0].message.content).toBe('Hello from the Gemini mock.');
    expect((mock.requests.at(-1)!.json as { contents: unknown[] }).contents.at(-1)).toEqual({
      role: 'user',
      parts: [
        { functionResponse: { name: 'get_weather', response: { output: '18C' } } },
        { functionResponse: { name: 'get_weather', response: { output: '25C' } } },
      ],
    });
  });

  it('sends images and json_schema in Gemini form', async () => {
    mock.script({
      status: 200,
      json: geminiResponse({
        candidates: [{ parts: [{ text: '{"n":1}' }], finishReason: 'STOP' }],
      }),
    });
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Count' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_1PX}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/b.webp' } },
          ],
        },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'count',
          schema: { type: 'object', properties: { n: { type: 'integer' } } },
        },
      },
    });
    expect(JSON.parse(completion.choices[0].message.content!)).toEqual({ n: 1 });
    expect(mock.requests.at(-1)!.json).toEqual({
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Count' },
            { inlineData: { mimeType: 'image/png', data: PNG_1PX } },
            { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/b.webp' } },
          ],
        },
      ],
      generationConfig: {
        responseMimeType: 'application/json',
        responseSchema: { type: 'OBJECT', properties: { n: { type: 'INTEGER' } } },
      },
    });
  });

  it('drops a token Vertex refuses (401) and mints a new one for the next request', async () => {
    const stale = mock.tokenRequests.at(-1)!.issued!;
    mock.revoke(stale);
    const refused = await client.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((refused as InstanceType<typeof OpenAI.APIError>).code).toBe('GW_ERR_UPSTREAM_AUTH');

    const tokensBefore = mock.tokenRequests.length;
    const ok = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(ok.choices[0].message.content).toBe('Hello from the Gemini mock.');
    expect(mock.tokenRequests.length).toBe(tokensBefore + 1);
    expect(mock.requests.at(-1)!.headers.authorization).not.toBe(`Bearer ${stale}`);
  });

  it('maps Vertex errors: context length, and quota in the array-wrapped streaming form', async () => {
    mock.script({ status: 400, json: geminiErrors.contextTooLong().json });
    const tooLong = await client.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect((tooLong as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect((tooLong as InstanceType<typeof OpenAI.APIError>).code).toBe(
      'GW_ERR_UPSTREAM_CONTEXT_LENGTH',
    );

    // Retry-After 0 keeps the endpoint open for the tests after this one.
    mock.script({
      status: 429,
      headers: { 'retry-after': '0' },
      json: [geminiErrors.rateLimited().json],
    });
    const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-2.5-flash',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(res.status).toBe(429);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'GW_ERR_UPSTREAM_RATE_LIMITED',
    );
  });

  it('never logs the access token or the private key', () => {
    const logs = JSON.stringify(sidecar.logs);
    for (const t of mock.tokenRequests) expect(logs).not.toContain(t.issued);
    expect(logs).not.toContain('PRIVATE KEY');
    expect(logs).not.toContain('ya29.');
  });
});

describe('Vertex AI token minting under load and misconfiguration', () => {
  it('coalesces the token exchange of concurrent first requests into one', async () => {
    const { mock, sidecar, client } = await startVertex('auto', { tokenDelayMs: 150 });
    try {
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          client.chat.completions.create({
            model: 'gemini-2.5-flash',
            messages: [{ role: 'user', content: 'hi' }],
          }),
        ),
      );
      expect(
        answers.every((a) => a.choices[0].message.content === 'Hello from the Gemini mock.'),
      ).toBe(true);
      expect(mock.tokenRequests).toHaveLength(1);
      expect(new Set(mock.requests.map((r) => r.headers.authorization)).size).toBe(1);
    } finally {
      await sidecar.stop();
      await mock.close();
    }
  });

  it('answers 502 GW_ERR_UPSTREAM_AUTH when the token endpoint refuses the account', async () => {
    const mock = await startMockVertex({
      strict: true,
      project: 'test-project',
      location: 'us-central1',
    });
    const trusted = makeServiceAccount(mock.tokenUri);
    const other = makeServiceAccount(mock.tokenUri);
    mock.trust(trusted);
    const sidecar = await startVertexSidecar(vertexPolicy(mock.origin), {
      GOOGLE_APPLICATION_CREDENTIALS: other.path,
    });
    try {
      const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gemini-2.5-flash',
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: unknown }).error).toMatchObject({
        code: 'GW_ERR_UPSTREAM_AUTH',
        message:
          'Provider "vtx": could not obtain a Google access token: the token endpoint refused ' +
          'the service account (invalid_grant).',
      });
      expect(mock.requests).toHaveLength(0);
    } finally {
      await sidecar.stop();
      await mock.close();
    }
  });

  it('reads the key file from the variable credentials_env names, and refuses to start without it', async () => {
    const mock = await startMockVertex({ project: 'test-project', location: 'us-central1' });
    const account = makeServiceAccount(mock.tokenUri);
    mock.trust(account);
    try {
      await expect(
        startVertexSidecar(vertexPolicy(mock.origin, { credentialsEnv: 'VTX_KEY' }), {}),
      ).rejects.toThrow('provider "vtx": VTX_KEY must name a service-account key file');
      await expect(
        startVertexSidecar(vertexPolicy(mock.origin, { project: '' }), {
          GOOGLE_APPLICATION_CREDENTIALS: account.path,
        }),
      ).rejects.toThrow('the vertex protocol needs `project`');

      const sidecar = await startVertexSidecar(
        vertexPolicy(mock.origin, { credentialsEnv: 'VTX_KEY' }),
        {
          VTX_KEY: account.path,
        },
      );
      try {
        const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'gemini-2.5-flash',
            messages: [{ role: 'user', content: 'hi' }],
          }),
        });
        expect(res.status).toBe(200);
      } finally {
        await sidecar.stop();
      }
    } finally {
      await mock.close();
    }
  });
});
