import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicySchema, Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { composeHandler } from '../../sidecar/compose.js';
import type { HttpReply } from '../../sidecar/http/types.js';
import { memoryLogger } from '../../sidecar/observe/logger.js';
import {
  anthropicMessage,
  startMockAnthropic,
  type MockAnthropic,
} from '../support/mock-anthropic.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import {
  geminiEvent,
  geminiPolicy,
  geminiResponse,
  startMockGemini,
  type MockGemini,
} from '../support/mock-gemini.js';
import { chunksOf, postSse } from '../support/sse-client.js';
import { itConforms, recordConformance } from '../support/conformance.js';
import {
  PROVIDER_SECRET,
  eventually,
  startTestSidecar,
  type TestSidecar,
} from '../support/sidecar.js';

// A provider's 200 whose body is JSON of the right outline but not what its protocol
// documents inside (here an Anthropic message whose content holds a null block) cannot be
// translated. That is the provider's bad response: a 502 the next endpoint of a chain may
// answer, not a 500 "bug in the sidecar". And whatever an attempt ends in, the endpoint's
// circuit must not be left holding a probe that never finishes: the endpoint would never be
// tried again until the sidecar restarts.

const COOLDOWN_MS = 60;

describe('a 200 answer the translator cannot read, on the first endpoint of a chain', () => {
  let claude: MockAnthropic;
  let backup: MockOpenAI;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    claude = await startMockAnthropic({ apiKey: PROVIDER_SECRET });
    backup = await startMockOpenAI();
    sidecar = await startTestSidecar(
      create(PolicySchema, {
        listen: { host: '127.0.0.1', port: 0 },
        providers: [
          {
            id: 'claude',
            protocol: Protocol.ANTHROPIC,
            baseUrl: claude.url,
            apiKeyEnv: 'TEST_PROVIDER_KEY',
          },
          {
            id: 'backup',
            protocol: Protocol.OPENAI,
            baseUrl: backup.url,
            apiKeyEnv: 'TEST_PROVIDER_KEY',
          },
        ],
        models: [{ name: 'smart', class: 'smart' }],
        classes: [
          {
            name: 'smart',
            chain: [
              { provider: 'claude', target: 'claude-sonnet-4-5' },
              { provider: 'backup', target: 'gpt-4o-mini' },
            ],
            ordered: true,
          },
        ],
        // One failure opens a circuit, for a short while: the next request is its probe.
        routing: { breakerFailures: 1, breakerCooldownMs: COOLDOWN_MS },
      }),
    );
  });
  afterAll(async () => {
    await sidecar.stop();
    await claude.close();
    await backup.close();
  });

  async function ask(): Promise<{ status: number; endpoint: string | null; json: any }> {
    const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const json = await res.json();
    recordConformance(res.ok ? 'CreateChatCompletionResponse' : 'ErrorResponse', json);
    return { status: res.status, endpoint: res.headers.get('x-modelgate-endpoint'), json };
  }

  const unreadable = {
    status: 200,
    json: { ...anthropicMessage({ model: 'claude-sonnet-4-5', blocks: [] }), content: [null] },
  };
  const rest = () => new Promise((r) => setTimeout(r, COOLDOWN_MS + 20));

  itConforms('fails over to the next endpoint, and probes the first again later', async () => {
    // Closed circuit: the unreadable answer is a bad response, and the backup answers.
    claude.script(unreadable);
    const first = await ask();
    expect(first.status).toBe(200);
    expect(first.endpoint).toBe('backup/gpt-4o-mini');
    await rest();

    // Half-open: this request is claude's probe, and gets the same answer.
    claude.script(unreadable);
    const probe = await ask();
    expect(probe.status).toBe(200);
    expect(probe.endpoint).toBe('backup/gpt-4o-mini');
    await rest();

    // The probe finished, as a failure: the next request probes claude again, which is well.
    const healed = await ask();
    expect(healed.status).toBe(200);
    expect(healed.endpoint).toBe('claude/claude-sonnet-4-5');
    expect(claude.requests).toHaveLength(3);

    const lines = sidecar.requestLogs();
    expect(lines.filter((l) => l.outcome === 'internal_error')).toEqual([]);
    expect(JSON.stringify(lines[0].failovers)).toContain('untranslatable_body');
  });
});

describe('an attempt that throws while it is its endpoint’s half-open probe', () => {
  it('leaves the circuit able to probe again (the endpoint is not lost)', async () => {
    const mock = await startMockOpenAI();
    const backup = await startMockOpenAI();
    try {
      const { handler } = await composeHandler({
        policy: create(PolicySchema, {
          listen: { host: '127.0.0.1', port: 0 },
          providers: [
            { id: 'a', protocol: Protocol.OPENAI, baseUrl: mock.url },
            { id: 'b', protocol: Protocol.OPENAI, baseUrl: backup.url },
          ],
          models: [{ name: 'smart', class: 'smart' }],
          classes: [
            {
              name: 'smart',
              chain: [
                { provider: 'a', target: 'm' },
                { provider: 'b', target: 'm' },
              ],
              ordered: true,
            },
          ],
          routing: { breakerFailures: 1, breakerCooldownMs: COOLDOWN_MS },
        }),
        logger: memoryLogger('debug'),
        env: {},
        isDraining: () => false,
      });
      const served: string[] = [];
      const reply = (broken: boolean): HttpReply => ({
        aborted: false,
        onAbort: () => {},
        send: (_status, headers) => {
          // A reply that breaks as it is written: the attempt throws (a bug's stand-in).
          if (broken) throw new Error('the reply broke');
          served.push(String(headers.find(([n]) => n === 'x-modelgate-endpoint')?.[1]));
        },
        startStream: () => {},
        write: () => {},
        end: () => {},
        close: () => {},
      });
      const chat = () => ({
        method: 'POST',
        path: '/v1/chat/completions',
        query: '',
        headers: new Map<string, string>(),
        body: Buffer.from(
          JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] }),
        ),
      });
      const rest = () => new Promise((r) => setTimeout(r, COOLDOWN_MS + 20));

      mock.script({ status: 500, json: { error: { message: 'down', type: 'server_error' } } });
      await handler(chat(), reply(false)); // a fails, its circuit opens; b answers
      await rest();
      await handler(chat(), reply(true)); // a's probe: answered, but the attempt threw
      await rest();
      await handler(chat(), reply(false)); // a may be probed again
      expect(served).toEqual(['b/m', 'a/m']);
      expect(mock.requests).toHaveLength(3);
    } finally {
      await mock.close();
      await backup.close();
    }
  });
});

describe('a stream event the translator cannot read', () => {
  let gemini: MockGemini;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    gemini = await startMockGemini({ apiKey: PROVIDER_SECRET });
    sidecar = await startTestSidecar(geminiPolicy(gemini.origin));
  });
  afterAll(async () => {
    await sidecar.stop();
    await gemini.close();
  });

  const text = geminiEvent(geminiResponse({ candidates: [{ parts: [{ text: 'Hello' }] }] }));
  const unreadable = geminiEvent({ candidates: [null], modelVersion: 'gemini-2.5-flash' });
  const ask = () =>
    postSse(`${sidecar.url}/v1/chat/completions`, {
      model: 'gemini-2.5-flash',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });

  itConforms('is a bad response, not a stream that broke off, before the first token', async () => {
    gemini.script({ sse: [unreadable] });
    const res = await ask();
    expect(res.status).toBe(502);
    const body = JSON.parse(res.raw);
    recordConformance('ErrorResponse', body);
    expect(body.error).toMatchObject({
      code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
      message: 'Provider "gem" answered with a stream event the sidecar could not translate.',
    });
  });

  itConforms('ends the stream with a bad-response error event after it', async () => {
    gemini.script({ sse: [text, unreadable] });
    const res = await ask();
    expect(res.status).toBe(200);
    const chunks = chunksOf(res) as Record<string, any>[];
    const last = chunks.at(-1)!;
    for (const chunk of chunks.slice(0, -1)) {
      recordConformance('CreateChatCompletionStreamResponse', chunk);
    }
    recordConformance('ErrorResponse', last);
    expect(chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('')).toBe('Hello');
    expect(last.error.code).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
    expect(res.done).toBe(false);
    await eventually(() => sidecar.requestLogs().length === 2);
    expect(sidecar.requestLogs()[1]).toMatchObject({
      outcome: 'stream_error',
      error_detail: 'untranslatable_event',
    });
  });
});
