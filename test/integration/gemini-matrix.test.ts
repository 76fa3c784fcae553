import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { geminiPolicy, startMockGemini, type RecordedRequest } from '../support/mock-gemini.js';
import {
  makeServiceAccount,
  startMockVertex,
  startVertexSidecar,
  vertexPolicy,
} from '../support/mock-vertex.js';
import { itConforms, recordConformance, recordEachConformance } from '../support/conformance.js';
import { PROVIDER_SECRET, startTestSidecar, type TestSidecar } from '../support/sidecar.js';
import { chunksOf, postSse } from '../support/sse-client.js';

// The translation matrix: each OpenAI request feature, sent through the real sidecar to a
// strict Gemini mock (Google AI Studio) and to a strict Vertex AI mock (same bodies, own
// routes and OAuth token), non-streamed and streamed. Asserted: the exact body the mock
// received, and the exact chunks the client received (`created` aside).

const PNG_1PX =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const JPEG_HEAD = '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgH';

const user = (content: unknown) => ({ role: 'user', content });
const hi = [user('hi')];
const hiContents = [{ role: 'user', parts: [{ text: 'hi' }] }];

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather now',
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { city: { type: 'string', default: 'Paris' }, unit: { enum: ['c', 'f'] } },
      required: ['city'],
      additionalProperties: false,
    },
  },
};
const weatherDeclaration = {
  name: 'get_weather',
  description: 'Weather now',
  parameters: {
    type: 'OBJECT',
    properties: { city: { type: 'STRING' }, unit: { type: 'STRING', enum: ['c', 'f'] } },
    required: ['city'],
  },
};
const withTools = (toolConfig?: unknown) => ({
  contents: [{ role: 'user', parts: [{ text: 'Weather?' }] }],
  tools: [{ functionDeclarations: [weatherDeclaration] }],
  ...(toolConfig ? { toolConfig: { functionCallingConfig: toolConfig } } : {}),
});

interface Row {
  feature: string;
  request: Record<string, unknown>;
  upstream: Record<string, unknown>;
  /** Candidates the default answer holds (n). */
  n?: number;
}

const rows: Row[] = [
  {
    feature: 'system and developer messages (G12)',
    request: {
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        user('Capital of Japan?'),
      ],
    },
    upstream: {
      systemInstruction: { parts: [{ text: 'Be terse.' }, { text: 'Answer in French.' }] },
      contents: [{ role: 'user', parts: [{ text: 'Capital of Japan?' }] }],
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
    upstream: { contents: [{ role: 'user', parts: [{ text: 'one' }, { text: 'two' }] }] },
  },
  {
    feature: 'images: data URI (typed by its bytes) and URL',
    request: {
      messages: [
        user([
          { type: 'text', text: 'Describe' },
          {
            type: 'image_url',
            image_url: { url: `data:image/png;base64,${JPEG_HEAD}`, detail: 'low' },
          },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_1PX}` } },
          { type: 'image_url', image_url: { url: 'https://example.com/x.jpeg' } },
        ]),
      ],
    },
    upstream: {
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Describe' },
            { inlineData: { mimeType: 'image/jpeg', data: JPEG_HEAD } },
            { inlineData: { mimeType: 'image/png', data: PNG_1PX } },
            { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/x.jpeg' } },
          ],
        },
      ],
    },
  },
  {
    feature: 'tools',
    request: { messages: [user('Weather?')], tools: [weather] },
    upstream: withTools(),
  },
  {
    feature: 'tool_choice auto',
    request: { messages: [user('Weather?')], tools: [weather], tool_choice: 'auto' },
    upstream: withTools({ mode: 'AUTO' }),
  },
  {
    feature: 'tool_choice none',
    request: { messages: [user('Weather?')], tools: [weather], tool_choice: 'none' },
    upstream: withTools({ mode: 'NONE' }),
  },
  {
    feature: 'tool_choice required',
    request: { messages: [user('Weather?')], tools: [weather], tool_choice: 'required' },
    upstream: withTools({ mode: 'ANY' }),
  },
  {
    feature: 'tool_choice naming a function',
    request: {
      messages: [user('Weather?')],
      tools: [weather],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    },
    upstream: withTools({ mode: 'ANY', allowedFunctionNames: ['get_weather'] }),
  },
  {
    feature: 'parallel_tool_calls (no Gemini equivalent: dropped)',
    request: { messages: [user('Weather?')], tools: [weather], parallel_tool_calls: false },
    upstream: withTools(),
  },
  {
    feature: 'tool results over two turns',
    request: {
      messages: [
        user('Weather in Paris and Tokyo?'),
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            {
              id: 'call_2',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Tokyo"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '25C' }] },
      ],
      tools: [weather],
    },
    upstream: {
      contents: [
        { role: 'user', parts: [{ text: 'Weather in Paris and Tokyo?' }] },
        {
          role: 'model',
          parts: [
            { text: 'Checking.' },
            {
              functionCall: { name: 'get_weather', args: { city: 'Paris' } },
              thoughtSignature: 'skip_thought_signature_validator',
            },
            { functionCall: { name: 'get_weather', args: { city: 'Tokyo' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_weather', response: { output: '18C' } } },
            { functionResponse: { name: 'get_weather', response: { output: '25C' } } },
          ],
        },
      ],
      tools: [{ functionDeclarations: [weatherDeclaration] }],
    },
  },
  {
    feature: 'response_format json_schema',
    request: {
      messages: hi,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'answer',
          strict: true,
          schema: {
            type: 'object',
            properties: { a: { type: ['string', 'null'] }, b: { $ref: '#/$defs/B' } },
            required: ['a', 'b'],
            additionalProperties: false,
            $defs: { B: { type: 'array', items: { type: 'integer' } } },
          },
        },
      },
    },
    upstream: {
      contents: hiContents,
      generationConfig: {
        responseMimeType: 'application/json',
        responseSchema: {
          type: 'OBJECT',
          properties: {
            a: { type: 'STRING', nullable: true },
            b: { type: 'ARRAY', items: { type: 'INTEGER' } },
          },
          required: ['a', 'b'],
        },
      },
    },
  },
  {
    feature: 'response_format json_object',
    request: { messages: hi, response_format: { type: 'json_object' } },
    upstream: { contents: hiContents, generationConfig: { responseMimeType: 'application/json' } },
  },
  {
    feature: 'stop',
    request: { messages: hi, stop: ['END', '\n\n'] },
    upstream: { contents: hiContents, generationConfig: { stopSequences: ['END', '\n\n'] } },
  },
  {
    feature: 'max_tokens',
    request: { messages: hi, max_tokens: 100 },
    upstream: { contents: hiContents, generationConfig: { maxOutputTokens: 100 } },
  },
  {
    feature: 'max_completion_tokens (wins over max_tokens, G14)',
    request: { messages: hi, max_tokens: 100, max_completion_tokens: 50 },
    upstream: { contents: hiContents, generationConfig: { maxOutputTokens: 50 } },
  },
  {
    feature: 'temperature and top_p',
    request: { messages: hi, temperature: 0.3, top_p: 0.8 },
    upstream: { contents: hiContents, generationConfig: { temperature: 0.3, topP: 0.8 } },
  },
  {
    feature: 'seed',
    request: { messages: hi, seed: 1234 },
    upstream: { contents: hiContents, generationConfig: { seed: 1234 } },
  },
  {
    feature: 'n (candidateCount)',
    request: { messages: hi, n: 2 },
    upstream: { contents: hiContents, generationConfig: { candidateCount: 2 } },
    n: 2,
  },
];

const PIECES = ['Hello', ' from', ' the', ' Gemini', ' mock.'];
const MODEL = 'gemini-2.5-flash';

/** The chunks the mock's default stream must become, in order. */
function expectedChunks(n: number, includeUsage: boolean): unknown[] {
  const head = {
    id: 'chatcmpl-mockResp0001',
    object: 'chat.completion.chunk',
    created: 0,
    model: MODEL,
  };
  const chunk = (index: number, delta: object, finish: string | null = null) => ({
    ...head,
    choices: [{ index, delta, logprobs: null, finish_reason: finish }],
  });
  const out: unknown[] = [];
  PIECES.forEach((piece, e) => {
    for (let i = 0; i < n; i++) {
      if (e === 0) out.push(chunk(i, { role: 'assistant', content: '' }));
      out.push(chunk(i, { content: piece }));
      if (e === PIECES.length - 1) out.push(chunk(i, {}, 'stop'));
    }
  });
  if (includeUsage) {
    out.push({
      ...head,
      choices: [],
      usage: {
        prompt_tokens: 7,
        completion_tokens: 5 * n,
        total_tokens: 7 + 5 * n,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
  }
  return out;
}

interface Target {
  protocol: string;
  start(): Promise<{
    sidecar: TestSidecar;
    requests: () => RecordedRequest[];
    close(): Promise<void>;
  }>;
  url(stream: boolean): string;
}

const targets: Target[] = [
  {
    protocol: 'Gemini (AI Studio)',
    async start() {
      const mock = await startMockGemini({ strict: true, apiKey: PROVIDER_SECRET });
      const sidecar = await startTestSidecar(geminiPolicy(mock.origin));
      return { sidecar, requests: () => mock.requests, close: () => mock.close() };
    },
    url: (stream) =>
      `/v1beta/models/${MODEL}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
  },
  {
    protocol: 'Vertex AI',
    async start() {
      const mock = await startMockVertex({ strict: true, project: 'p1', location: 'europe-west4' });
      const account = makeServiceAccount(mock.tokenUri);
      mock.trust(account);
      const sidecar = await startVertexSidecar(
        vertexPolicy(mock.origin, { project: 'p1', location: 'europe-west4' }),
        { GOOGLE_APPLICATION_CREDENTIALS: account.path },
      );
      return { sidecar, requests: () => mock.requests, close: () => mock.close() };
    },
    url: (stream) =>
      `/v1/projects/p1/locations/europe-west4/publishers/google/models/${MODEL}:` +
      (stream ? 'streamGenerateContent?alt=sse' : 'generateContent'),
  },
];

describe.each(targets)('translation matrix: OpenAI request features x $protocol', (target) => {
  let sidecar: TestSidecar;
  let requests: () => RecordedRequest[];
  let close: () => Promise<void>;

  beforeAll(async () => ({ sidecar, requests, close } = await target.start()));
  afterAll(async () => {
    await sidecar.stop();
    await close();
  });

  itConforms.each(rows)('$feature', async ({ request, upstream, n = 1 }) => {
    const body = { model: MODEL, ...request };

    const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const completion = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(res.status, JSON.stringify(completion)).toBe(200);
    expect(requests().at(-1)!.url).toBe(target.url(false));
    expect(requests().at(-1)!.json).toEqual(upstream);
    expect(completion.choices.map((c) => c.message.content)).toEqual(
      Array(n).fill('Hello from the Gemini mock.'),
    );
    recordConformance('CreateChatCompletionResponse', completion);

    const streamed = await postSse(`${sidecar.url}/v1/chat/completions`, {
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(streamed.status).toBe(200);
    expect(requests().at(-1)!.url).toBe(target.url(true));
    expect(requests().at(-1)!.json).toEqual(upstream);
    const chunks = chunksOf(streamed).map((c) => ({ ...(c as object), created: 0 }));
    expect(chunks).toEqual(expectedChunks(n, true));
    expect(streamed.events.at(-1)!.data).toBe('[DONE]');
    recordEachConformance('CreateChatCompletionStreamResponse', chunksOf(streamed));
  });

  it('without include_usage the same chunks arrive, minus the usage chunk', async () => {
    const streamed = await postSse(`${sidecar.url}/v1/chat/completions`, {
      model: MODEL,
      messages: hi,
      stream: true,
    });
    const chunks = chunksOf(streamed).map((c) => ({ ...(c as object), created: 0 }));
    expect(chunks).toEqual(expectedChunks(1, false));
  });
});
