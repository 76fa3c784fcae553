import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { anthropicPolicy } from '../providers/anthropic/harness.js';
import { itConforms, recordConformance } from '../support/conformance.js';
import {
  PROVIDER_SECRET,
  startTestSidecar,
  testPolicy,
  type TestSidecar,
} from '../support/sidecar.js';

// Messages whose parts or tool calls are malformed in ways the official SDK's types forbid but
// a JavaScript or Python caller can still send. OpenAI refuses each with a 400 naming the
// field; the sidecar must too, before any upstream call, whatever protocol serves the model:
// a translator must never see them (one wrote a missing text as the string "undefined", and
// a null tool call made every translator throw, a 500).

const CASES: [what: string, messages: unknown[], param: string, code: string][] = [
  [
    'a text part without text',
    [{ role: 'user', content: [{ type: 'text' }] }],
    'messages[0].content[0].text',
    'GW_ERR_REQ_MISSING_FIELD',
  ],
  [
    'a text part whose text is a number',
    [{ role: 'user', content: [{ type: 'text', text: 5 }] }],
    'messages[0].content[0].text',
    'GW_ERR_REQ_INVALID_FIELD',
  ],
  [
    'a refusal part whose refusal is an object',
    [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: [{ type: 'refusal', refusal: { text: 'no' } }] },
      { role: 'user', content: 'why?' },
    ],
    'messages[1].content[0].refusal',
    'GW_ERR_REQ_INVALID_FIELD',
  ],
  [
    'an image part whose url is not a string',
    [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 5 } }] }],
    'messages[0].content[0].image_url.url',
    'GW_ERR_REQ_INVALID_FIELD',
  ],
  [
    'a null tool call',
    [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: null, tool_calls: [null] },
      { role: 'user', content: 'and?' },
    ],
    'messages[1].tool_calls[0]',
    'GW_ERR_REQ_INVALID_FIELD',
  ],
  [
    'a tool call without an id',
    [
      { role: 'user', content: 'hi' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'user', content: 'and?' },
    ],
    'messages[1].tool_calls[0].id',
    'GW_ERR_REQ_MISSING_FIELD',
  ],
  [
    'a function tool call without a name',
    [
      { role: 'user', content: 'hi' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { arguments: '{}' } }],
      },
      { role: 'user', content: 'and?' },
    ],
    'messages[1].tool_calls[0].function.name',
    'GW_ERR_REQ_MISSING_FIELD',
  ],
];

function expectRefusal(err: unknown, param: string, code: string): void {
  expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  const error = (err as InstanceType<typeof OpenAI.BadRequestError>).error as Record<
    string,
    unknown
  >;
  expect(error).toMatchObject({ type: 'invalid_request_error', param, code });
  expect(error.message).toContain(`'${param}'`);
  recordConformance('ErrorResponse', { error });
}

describe('malformed message parts and tool calls, before an Anthropic model', () => {
  let mock: MockAnthropic;
  let sidecar: TestSidecar;
  let client: OpenAI;

  beforeAll(async () => {
    mock = await startMockAnthropic({ apiKey: PROVIDER_SECRET });
    sidecar = await startTestSidecar(anthropicPolicy(mock.url));
    client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  itConforms.each(CASES)(
    'refuses %s with a 400 naming the field, and calls nobody',
    async (_what, messages, param, code) => {
      const before = mock.requests.length;
      for (const stream of [false, true]) {
        const err = await client.chat.completions
          .create({ model: 'claude-sonnet-4-5', messages: messages as never, stream })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expectRefusal(err, param, code);
      }
      expect(mock.requests.length).toBe(before);
      // The sidecar is still healthy: no request ended as an internal error.
      expect(sidecar.requestLogs().filter((l) => l.outcome === 'internal_error')).toEqual([]);
    },
  );
});

describe('malformed message parts and tool calls, before an OpenAI-protocol model', () => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;
  let client: OpenAI;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }));
    client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  itConforms.each(CASES)(
    'refuses %s with a 400 naming the field, and calls nobody',
    async (_what, messages, param, code) => {
      const before = mock.requests.length;
      const err = await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages: messages as never })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expectRefusal(err, param, code);
      expect(mock.requests.length).toBe(before);
    },
  );

  itConforms('leaves tool-call arguments sent as an object to the provider', async () => {
    // Ollama and others take them so; OpenAI itself refuses them, in its own words.
    const args = { city: 'Paris' };
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'f', arguments: args as never } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
    });
    recordConformance('CreateChatCompletionResponse', completion);
    const sent = mock.requests.at(-1)!.json as { messages: { tool_calls?: unknown[] }[] };
    expect(sent.messages[1].tool_calls).toEqual([
      { id: 'call_1', type: 'function', function: { name: 'f', arguments: args } },
    ]);
  });
});
