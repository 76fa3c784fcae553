import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicySchema, Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { itConforms, recordConformance } from '../support/conformance.js';
import { startMockAnthropic, type MockAnthropic } from '../support/mock-anthropic.js';
import { startMockGemini, type MockGemini } from '../support/mock-gemini.js';
import { chatStream, startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import {
  eventually,
  PROVIDER_SECRET,
  startTestSidecar,
  type TestSidecar,
} from '../support/sidecar.js';
import { chunksOf, parseSse } from '../support/sse-client.js';

// A caller may send its own provider credential as x-pass-<header>. When the provider refuses
// that credential the fault is the caller's: 401 naming the header (never its value), no
// failover, no open circuit. When it refuses the sidecar's own credential, it stays a 502.

const CALLER_KEY = 'sk-caller-OWN-key-0987654321qwerty';
const CALLER_GOOGLE_KEY = 'AIzaSyCALLER-own-key-000000000000000';

/** Every piece of a credential that must never appear in a reply or a log line. */
const SECRETS = [CALLER_KEY, CALLER_GOOGLE_KEY, PROVIDER_SECRET];
const fragments = (s: string): string[] => [s, s.slice(0, 12), s.slice(-10)];

function expectNoCredential(text: string): void {
  for (const secret of SECRETS) {
    for (const piece of fragments(secret)) expect(text).not.toContain(piece);
  }
}

interface Reply {
  status: number;
  headers: Headers;
  json: { error: { message: string; type: string; code: string; param: string | null } };
  text: string;
}

async function post(
  url: string,
  body: object,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const json = JSON.parse(text);
  // For the conformance check of the running test, which must be declared with itConforms.
  recordConformance(res.ok ? 'CreateChatCompletionResponse' : 'ErrorResponse', json);
  return { status: res.status, headers: res.headers, json, text };
}

/** Records each chunk of a streamed answer, and its error event, like post()'s answer. */
function recordStream(text: string): void {
  for (const chunk of chunksOf(parseSse(text))) {
    const failed = (chunk as { error?: unknown }).error !== undefined;
    recordConformance(failed ? 'ErrorResponse' : 'CreateChatCompletionStreamResponse', chunk);
  }
}

const hi = [{ role: 'user', content: 'hi' }];

describe('a provider refusing the credential the caller passed in x-pass-*', () => {
  let openai: MockOpenAI;
  let spare: MockOpenAI;
  let anthropic: MockAnthropic;
  let gemini: MockGemini;
  let sidecar: TestSidecar;

  const chat = (body: object, headers?: Record<string, string>) =>
    post(`${sidecar.url}/v1/chat/completions`, body, headers);

  beforeAll(async () => {
    [openai, spare, anthropic, gemini] = await Promise.all([
      // Each accepts only the sidecar's configured key, so the caller's own is refused.
      startMockOpenAI({ expectApiKey: PROVIDER_SECRET }),
      startMockOpenAI(),
      startMockAnthropic({ apiKey: PROVIDER_SECRET }),
      startMockGemini({ apiKey: PROVIDER_SECRET }),
    ]);
    sidecar = await startTestSidecar(
      create(PolicySchema, {
        listen: { host: '127.0.0.1', port: 0 },
        // Real breakers: one failure opens a circuit, and a refused credential holds it open.
        routing: { breakerFailures: 1, breakerCooldownMs: 60_000 },
        providers: [
          {
            id: 'up',
            protocol: Protocol.OPENAI,
            baseUrl: openai.url,
            apiKeyEnv: 'TEST_PROVIDER_KEY',
          },
          { id: 'spare', protocol: Protocol.OPENAI, baseUrl: spare.url },
          {
            id: 'anth',
            protocol: Protocol.ANTHROPIC,
            baseUrl: anthropic.url,
            apiKeyEnv: 'TEST_PROVIDER_KEY',
          },
          {
            id: 'gem',
            protocol: Protocol.GEMINI,
            baseUrl: gemini.origin,
            apiKeyEnv: 'TEST_PROVIDER_KEY',
          },
        ],
        classes: [
          {
            name: 'chain',
            ordered: true,
            chain: [
              { provider: 'up', target: 'gpt-4o-mini' },
              { provider: 'spare', target: 'gpt-4o-mini' },
            ],
          },
        ],
        models: [
          { name: 'solo', provider: 'up', target: 'gpt-4o-mini' },
          { name: 'open', provider: 'spare', target: 'gpt-4o-mini' },
          { name: 'chain', class: 'chain' },
          { name: 'claude', provider: 'anth', target: 'claude-sonnet-4-5' },
          { name: 'gem', provider: 'gem', target: 'gemini-2.5-flash' },
        ],
      }),
    );
  });
  afterAll(async () => {
    await sidecar.stop();
    await Promise.all([openai.close(), spare.close(), anthropic.close(), gemini.close()]);
  });

  itConforms('answers 401 GW_ERR_UPSTREAM_AUTH naming the header, never its value', async () => {
    const before = openai.requests.length;
    const seen = await chat(
      { model: 'solo', messages: hi },
      { 'x-pass-authorization': `Bearer ${CALLER_KEY}` },
    );

    expect(seen.status).toBe(401);
    expect(seen.json.error.code).toBe('GW_ERR_UPSTREAM_AUTH');
    // The type OpenAI gives a 401, as the Anthropic-shaped answer below has it too.
    expect(seen.json.error.type).toBe('authentication_error');
    expect(seen.json.error.message).toBe(
      'Provider "up" refused the credential passed in the x-pass-authorization header.',
    );
    expectNoCredential(seen.text);
    // The caller's key, not ours, went upstream, once: no retry, no other endpoint.
    expect(openai.requests.length - before).toBe(1);
    expect(openai.requests.at(-1)?.headers.authorization).toBe(`Bearer ${CALLER_KEY}`);
    expect(seen.headers.get('x-modelgate-attempts')).toBe('1');

    await eventually(() => sidecar.requestLogs().some((l) => l.status === 401));
    const line = sidecar.requestLogs().find((l) => l.status === 401);
    expect(line).toMatchObject({ error_code: 'GW_ERR_UPSTREAM_AUTH', outcome: 'upstream_error' });
    expectNoCredential(JSON.stringify(sidecar.logs));
  });

  itConforms('does the same for a stream, before anything was streamed', async () => {
    const seen = await chat(
      { model: 'solo', messages: hi, stream: true },
      { 'x-pass-authorization': `Bearer ${CALLER_KEY}` },
    );
    expect(seen.status).toBe(401);
    expect(seen.headers.get('content-type')).toMatch(/^application\/json/);
    expect(seen.json.error.code).toBe('GW_ERR_UPSTREAM_AUTH');
    expect(seen.json.error.message).toContain('x-pass-authorization');
    expectNoCredential(seen.text);
  });

  itConforms(
    'never quotes the caller its own key back, in an error answer or a stream error',
    async () => {
      // A key of no known vendor's shape: only knowing it was passed can mask it.
      const own = 'OWNKEY-mnbvcxzlkjhg-5647382910';
      const quoting = `Bad request for key ${own}: model not allowed`;
      spare.script({
        status: 400,
        json: {
          error: { message: quoting, type: 'invalid_request_error', param: null, code: null },
        },
      });
      const refused = await chat(
        { model: 'open', messages: hi },
        { 'x-pass-authorization': `Bearer ${own}` },
      );
      expect(refused.status).toBe(400);
      expect(refused.json.error.message).toContain('model not allowed');
      expect(refused.text).not.toContain(own);

      spare.script({
        sse: [
          ...chatStream({ model: 'm', pieces: ['Hel'], done: false }).slice(0, 2),
          `data: ${JSON.stringify({ error: { message: quoting, type: 'server_error' } })}\n\n`,
        ],
      });
      const streamed = await fetch(`${sidecar.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'x-pass-api-key': own },
        body: JSON.stringify({ model: 'open', stream: true, messages: hi }),
      });
      const text = await streamed.text();
      expect(text).toContain('model not allowed');
      expect(text).not.toContain(own);
      recordStream(text);
    },
  );

  itConforms('leaves the endpoint usable: the next request without x-pass succeeds', async () => {
    const seen = await chat({ model: 'solo', messages: hi });
    expect(seen.status).toBe(200);
    expect(openai.requests.at(-1)?.headers.authorization).toBe(`Bearer ${PROVIDER_SECRET}`);

    openai.script({
      sse: chatStream({ model: 'gpt-4o-mini', pieces: ['ok'], includeUsage: true }),
    });
    const streamed = await fetch(`${sidecar.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'solo', messages: hi, stream: true }),
    });
    expect(streamed.status).toBe(200);
    const text = await streamed.text();
    expect(text).toContain('data: [DONE]');
    recordStream(text);
  });

  itConforms('opens no circuit: a chain sharing the endpoint still goes to it first', async () => {
    // The endpoint up/gpt-4o-mini is refused with the caller's key on the single route...
    const refused = await chat(
      { model: 'solo', messages: hi },
      { 'x-pass-authorization': `Bearer ${CALLER_KEY}` },
    );
    expect(refused.status).toBe(401);

    // ...and still serves the chain that lists it first, instead of being skipped.
    const spareBefore = spare.requests.length;
    const seen = await chat({ model: 'chain', messages: hi });
    expect(seen.status).toBe(200);
    expect(seen.headers.get('x-modelgate-endpoint')).toBe('up/gpt-4o-mini');
    expect(spare.requests.length).toBe(spareBefore);
  });

  itConforms('names whichever credential header was passed (Anthropic x-api-key)', async () => {
    const seen = await chat(
      { model: 'claude', messages: hi, max_tokens: 16 },
      { 'x-pass-x-api-key': CALLER_KEY },
    );
    expect(seen.status).toBe(401);
    expect(seen.json.error.code).toBe('GW_ERR_UPSTREAM_AUTH');
    expect(seen.json.error.message).toBe(
      'Provider "anth" refused the credential passed in the x-pass-x-api-key header.',
    );
    expect(anthropic.requests.at(-1)?.headers['x-api-key']).toBe(CALLER_KEY);
    expectNoCredential(seen.text);
  });

  itConforms('covers a key refusal that Gemini sends as 400 INVALID_ARGUMENT', async () => {
    const seen = await chat(
      { model: 'gem', messages: hi },
      { 'x-pass-x-goog-api-key': CALLER_GOOGLE_KEY },
    );
    expect(seen.status).toBe(401);
    expect(seen.json.error.code).toBe('GW_ERR_UPSTREAM_AUTH');
    expect(seen.json.error.message).toContain('x-pass-x-goog-api-key header');
    expect(gemini.requests.at(-1)?.headers['x-goog-api-key']).toBe(CALLER_GOOGLE_KEY);
    expectNoCredential(seen.text);
  });

  // Anthropic's error envelope, not OpenAI's: nothing to check against OpenAI's schema.
  it('answers the Anthropic ingress route with 401 authentication_error', async () => {
    const res = await fetch(`${sidecar.url}/anthropic/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'x-pass-authorization': `Bearer ${CALLER_KEY}`,
      },
      body: JSON.stringify({ model: 'solo', max_tokens: 16, messages: hi }),
    });
    const text = await res.text();
    expect(res.status).toBe(401);
    const body = JSON.parse(text);
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('authentication_error');
    expect(body.error.message).toBe(
      'Provider "up" refused the credential passed in the x-pass-authorization header.',
    );
    expectNoCredential(text);
  });
});

describe('a provider refusing the credential configured for it', () => {
  let openai: MockOpenAI;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    openai = await startMockOpenAI({ expectApiKey: PROVIDER_SECRET });
    sidecar = await startTestSidecar(
      create(PolicySchema, {
        listen: { host: '127.0.0.1', port: 0 },
        routing: { breakerFailures: 1_000_000, breakerCooldownMs: 1 },
        providers: [
          {
            id: 'up',
            protocol: Protocol.OPENAI,
            baseUrl: openai.url,
            apiKeyEnv: 'TEST_PROVIDER_KEY',
          },
          {
            // A gateway in front of the provider, with a token of its own in a header the
            // sidecar cannot know is a credential.
            id: 'gw',
            protocol: Protocol.OPENAI,
            baseUrl: openai.url,
            headers: { 'cf-aig-authorization': 'Bearer gateway-token-EXPIRED' },
          },
        ],
        models: [
          { name: 'solo', provider: 'up', target: 'gpt-4o-mini' },
          { name: 'via-gw', provider: 'gw', target: 'gpt-4o-mini' },
        ],
      }),
      'auto',
      // The sidecar's own key is wrong this time.
      { TEST_PROVIDER_KEY: 'sk-configured-WRONG-key-1234567890' },
    );
  });
  afterAll(async () => {
    await sidecar.stop();
    await openai.close();
  });

  const configured = 'Provider "up" rejected the credential configured for it.';

  itConforms('is still a 502 gateway fault', async () => {
    const seen = await post(`${sidecar.url}/v1/chat/completions`, { model: 'solo', messages: hi });
    expect(seen.status).toBe(502);
    expect(seen.json.error).toMatchObject({ code: 'GW_ERR_UPSTREAM_AUTH', type: 'api_error' });
    expect(seen.json.error.message).toBe(configured);
    expect(seen.text).not.toContain('WRONG');
  });

  itConforms(
    'is still a 502 when the caller passed headers that are not a credential',
    async () => {
      const seen = await post(
        `${sidecar.url}/v1/chat/completions`,
        { model: 'solo', messages: hi },
        { 'x-pass-openai-organization': 'org-caller' },
      );
      expect(seen.status).toBe(502);
      expect(seen.json.error.code).toBe('GW_ERR_UPSTREAM_AUTH');
      expect(seen.json.error.message).toBe(configured);
      expect(openai.requests.at(-1)?.headers['openai-organization']).toBe('org-caller');
    },
  );

  itConforms(
    'is still a 502 when a header from the config went upstream beside the caller key',
    async () => {
      const seen = await post(
        `${sidecar.url}/v1/chat/completions`,
        { model: 'via-gw', messages: hi },
        { 'x-pass-authorization': 'Bearer sk-caller-own-key-123456' },
      );
      expect(seen.status).toBe(502);
      expect(seen.json.error.code).toBe('GW_ERR_UPSTREAM_AUTH');
      expect(seen.json.error.message).toBe(
        'Provider "gw" rejected the credential configured for it.',
      );
      const sent = openai.requests.at(-1)?.headers;
      expect(sent?.['cf-aig-authorization']).toBe('Bearer gateway-token-EXPIRED');
      expect(sent?.authorization).toBe('Bearer sk-caller-own-key-123456');
      expect(seen.text).not.toContain('EXPIRED');
      expect(seen.text).not.toContain('caller-own-key');
    },
  );
});
