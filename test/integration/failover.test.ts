// Issue 4: failover chains. Three mock providers; the class "smart" walks p1 -> p2 -> p3.

import { create, type MessageInitShape } from '@bufbuild/protobuf';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ModelClassSchema,
  PolicySchema,
  Protocol,
  type Policy,
} from '../../proto/gen/modelgate/v1/policy_pb.js';
import {
  chatStream,
  openaiErrors,
  sseEvent,
  startMockOpenAI,
  type MockOpenAI,
} from '../support/mock-openai.js';
import { itConforms, recordConformance } from '../support/conformance.js';
import { chunksOf, postSse, reassembleChat, type SseResponse } from '../support/sse-client.js';
import { eventually, startTestSidecar, type TestSidecar } from '../support/sidecar.js';

type ClassInit = Omit<MessageInitShape<typeof ModelClassSchema>, 'name' | 'chain' | '$typeName'>;

function chainPolicy(mocks: MockOpenAI[], cls: ClassInit = {}, windows?: number[]): Policy {
  return create(PolicySchema, {
    listen: { host: '127.0.0.1', port: 0 },
    providers: mocks.map((m, i) => ({
      id: `p${i + 1}`,
      protocol: Protocol.OPENAI,
      baseUrl: m.url,
      apiKeyEnv: 'TEST_PROVIDER_KEY',
    })),
    models: [{ name: 'smart', class: 'smart' }],
    classes: [
      {
        name: 'smart',
        chain: mocks.map((_, i) => ({
          provider: `p${i + 1}`,
          target: `model-${i + 1}`,
          contextWindow: windows?.[i] ?? 0,
        })),
        // These tests are about the failover rules, so the walk follows the configured order;
        // health ordering has its own tests.
        ordered: true,
        ...cls,
      },
    ],
    routing: { breakerFailures: 1_000_000, breakerCooldownMs: 1 },
  });
}

const ask = (extra: object = {}) => ({
  model: 'smart',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

/**
 * A chat through the sidecar. Its answer, a completion or an error, is recorded for the
 * conformance check of the running test, which must be declared with itConforms.
 */
async function post(sidecar: TestSidecar, body: object) {
  const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  const json = await res.json();
  recordConformance(res.ok ? 'CreateChatCompletionResponse' : 'ErrorResponse', json);
  return { res, json };
}

/** A streamed chat; its chunks, its error event or its error body are recorded like post()'s. */
async function stream(sidecar: TestSidecar, body: object): Promise<SseResponse> {
  const res = await postSse(`${sidecar.url}/v1/chat/completions`, body);
  if (res.status !== 200) {
    recordConformance('ErrorResponse', JSON.parse(res.raw));
    return res;
  }
  for (const chunk of chunksOf(res)) {
    const failed = (chunk as { error?: unknown }).error !== undefined;
    recordConformance(failed ? 'ErrorResponse' : 'CreateChatCompletionStreamResponse', chunk);
  }
  return res;
}

describe('failover along a chain', () => {
  let mocks: MockOpenAI[];
  let sidecar: TestSidecar;
  const calls = () => mocks.map((m) => m.requests.length);
  let before: number[];

  beforeAll(async () => {
    mocks = await Promise.all([startMockOpenAI(), startMockOpenAI(), startMockOpenAI()]);
    sidecar = await startTestSidecar(
      chainPolicy(mocks, { timeouts: { firstByteMs: 400, firstTokenMs: 400, idleMs: 400 } }),
    );
  });
  afterAll(async () => {
    await sidecar.stop();
    await Promise.all(mocks.map((m) => m.close()));
  });
  beforeEach(() => {
    before = calls();
  });
  afterEach(() => expect(mocks.map((m) => m.pending())).toEqual([0, 0, 0]));
  const delta = () => calls().map((n, i) => n - before[i]);

  itConforms.each([
    ['a 503', openaiErrors.overloaded()],
    ['a 500', openaiErrors.serverError()],
    ['a 429', openaiErrors.rateLimited('model-1', 0)],
    ['a connection reset before headers', { destroyBeforeHeaders: true as const }],
    ['a refused credential (401)', openaiErrors.invalidApiKey('sk-provider-SECRET-abcdef123456')],
    ['a redirect (307)', { status: 307, headers: { location: 'http://127.0.0.1:9/' }, json: {} }],
  ])('moves to the next endpoint after %s, non-streamed', async (_what, step) => {
    mocks[0].script(step);
    const { res, json } = await post(sidecar, ask());
    expect(res.status).toBe(200);
    expect(json.choices[0].message.content).toBe('Hello from the mock.');
    expect(res.headers.get('x-modelgate-endpoint')).toBe('p2/model-2');
    expect(res.headers.get('x-modelgate-attempts')).toBe('2');
    expect(delta()).toEqual([1, 1, 0]);
    expect(mocks[1].requests.at(-1)!.json).toMatchObject({ model: 'model-2' });
  });

  itConforms.each([
    ['a 503', openaiErrors.overloaded()],
    ['a connection reset before headers', { destroyBeforeHeaders: true as const }],
    ['an upstream that closes before any data', { sse: [], ending: 'destroy' as const }],
  ])('moves to the next endpoint after %s, streamed, with one clean stream', async (_w, step) => {
    mocks[0].script(step);
    const res = await stream(sidecar, ask({ stream: true }));
    const chat = reassembleChat(chunksOf(res));
    expect(res.status).toBe(200);
    expect(chat.content).toBe('Hello from the mock.');
    expect(chat.roleChunks).toBe(1);
    expect(res.done).toBe(true);
    expect(res.headers['x-modelgate-endpoint']).toBe('p2/model-2');
    expect(delta()).toEqual([1, 1, 0]);
  });

  itConforms('gives up on a hang before the first byte at first_byte_ms and moves on', async () => {
    mocks[0].script({ hangBeforeHeaders: true });
    const started = Date.now();
    const { res } = await post(sidecar, ask());
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(delta()).toEqual([1, 1, 0]);
  });

  itConforms(
    'walks the whole chain, then returns the last failure with the attempt count',
    async () => {
      mocks[0].script(openaiErrors.overloaded());
      mocks[1].script(openaiErrors.serverError());
      mocks[2].script(openaiErrors.overloaded());
      const { res, json } = await post(sidecar, ask());
      expect(res.status).toBe(503);
      expect(json.error.code).toBe('GW_ERR_UPSTREAM_OVERLOADED');
      expect(res.headers.get('x-modelgate-attempts')).toBe('3');
      expect(delta()).toEqual([1, 1, 1]);
    },
  );

  itConforms('returns an invalid request at once, without trying another endpoint', async () => {
    mocks[0].script({
      status: 400,
      json: {
        error: {
          message: "Invalid value for 'temperature'",
          type: 'invalid_request_error',
          param: 'temperature',
          code: null,
        },
      },
    });
    const { res, json } = await post(sidecar, ask());
    expect(res.status).toBe(400);
    expect(json.error).toMatchObject({ code: 'GW_ERR_UPSTREAM_BAD_REQUEST', param: 'temperature' });
    expect(delta()).toEqual([1, 0, 0]);
  });

  itConforms(
    'G26: an error after a role-only chunk still fails over, and the client sees one role chunk',
    async () => {
      mocks[0].script({
        sse: [
          sseEvent({
            id: 'c',
            object: 'chat.completion.chunk',
            created: 1,
            model: 'model-1',
            choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
          }),
          sseEvent({
            error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' },
          }),
        ],
      });
      const res = await stream(sidecar, ask({ stream: true }));
      const chat = reassembleChat(chunksOf(res));
      expect(delta()).toEqual([1, 1, 0]);
      expect(chat.roleChunks).toBe(1);
      expect(chat.content).toBe('Hello from the mock.');
      expect(res.done).toBe(true);
    },
  );

  itConforms('G22: an error event before the first token fails over', async () => {
    mocks[0].script({
      sse: [
        sseEvent({ error: { message: 'overloaded', type: 'server_error', code: 'server_error' } }),
      ],
    });
    const res = await stream(sidecar, ask({ stream: true }));
    expect(reassembleChat(chunksOf(res)).content).toBe('Hello from the mock.');
    expect(delta()).toEqual([1, 1, 0]);
  });

  itConforms(
    'G25/G27: death after three tokens ends with an error event; no other endpoint speaks',
    async () => {
      const pieces = ['one ', 'two ', 'three ', 'four'];
      mocks[0].script({
        sse: chatStream({ model: 'model-1', pieces }).slice(0, 4),
        ending: 'destroy',
        delayMs: 5,
      });
      const res = await stream(sidecar, ask({ stream: true }));
      const chunks = chunksOf(res).filter((c) => !(c as { error?: unknown }).error);
      expect(reassembleChat(chunks).content).toBe('one two three ');
      expect(JSON.parse(res.events.at(-1)!.data).error.code).toBe('GW_ERR_STREAM_INTERRUPTED');
      expect(res.done).toBe(false);
      expect(delta()).toEqual([1, 0, 0]);
      await eventually(() => sidecar.requestLogs().at(-1)?.outcome === 'stream_interrupted');
    },
  );

  itConforms('lets a slow drip under the idle timeout finish on the first endpoint', async () => {
    mocks[0].script({
      sse: chatStream({ model: 'model-1', pieces: ['a', 'b', 'c', 'd'] }),
      delayMs: 150,
    });
    const res = await stream(sidecar, ask({ stream: true }));
    expect(reassembleChat(chunksOf(res)).content).toBe('abcd');
    expect(res.done).toBe(true);
    expect(delta()).toEqual([1, 0, 0]);
  });

  itConforms(
    'G24a/b: cuts a slow first token at first_token_ms and falls back, headers or not',
    async () => {
      for (const step of [
        { delayBeforeHeadersMs: 3000 },
        { sse: chatStream({ model: 'model-1', pieces: ['late'] }), firstWriteDelayMs: 3000 },
        // Headers and a role chunk at once, the first content only much later.
        {
          sse: chatStream({ model: 'model-1', pieces: ['late'] }).slice(0, 1),
          ending: 'hang' as const,
        },
      ]) {
        before = calls();
        mocks[0].script(step);
        const started = Date.now();
        const res = await stream(sidecar, ask({ stream: true }));
        const waited = Date.now() - started;
        expect(reassembleChat(chunksOf(res)).content).toBe('Hello from the mock.');
        expect(reassembleChat(chunksOf(res)).roleChunks).toBe(1);
        expect(waited).toBeGreaterThanOrEqual(350);
        expect(waited).toBeLessThan(2000);
        expect(delta()).toEqual([1, 1, 0]);
      }
    },
  );

  itConforms(
    'G24c: a stream that stalls after its first chunk ends with an error event at the idle limit',
    async () => {
      mocks[0].script({
        sse: chatStream({ model: 'model-1', pieces: ['first', 'never'] }).slice(0, 2),
        ending: 'hang',
      });
      const logged = sidecar.logs.length;
      const started = Date.now();
      const res = await stream(sidecar, ask({ stream: true }));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(res.done).toBe(false);
      expect(JSON.parse(res.events.at(-1)!.data).error.code).toBe('GW_ERR_UPSTREAM_TIMEOUT');
      expect(reassembleChat(chunksOf(res).slice(0, -1)).finishReason).toBeNull();
      expect(delta()).toEqual([1, 0, 0]);
      await expect
        .poll(() => sidecar.logs.slice(logged).find((l) => l.error_detail !== undefined))
        .toMatchObject({ error_detail: 'IDLE_TIMEOUT' });
    },
  );

  itConforms('works through the openai SDK, streamed and not', async () => {
    const client = new OpenAI({ apiKey: 'x', baseURL: `${sidecar.url}/v1`, maxRetries: 0 });
    mocks[0].script(openaiErrors.overloaded());
    const messages = [{ role: 'user' as const, content: 'hi' }];
    const done = await client.chat.completions.create({ model: 'smart', messages });
    expect(done.choices[0].message.content).toBe('Hello from the mock.');
    recordConformance('CreateChatCompletionResponse', done);
    mocks[0].script(openaiErrors.overloaded());
    const stream = await client.chat.completions.create({ model: 'smart', messages, stream: true });
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      recordConformance('CreateChatCompletionStreamResponse', chunk);
    }
    expect(text).toBe('Hello from the mock.');
  });
});

describe('G21: context-length failover', () => {
  itConforms(
    'skips endpoints whose window is not larger, and returns 400 when none is',
    async () => {
      const mocks = await Promise.all([startMockOpenAI(), startMockOpenAI(), startMockOpenAI()]);
      const sidecar = await startTestSidecar(chainPolicy(mocks, {}, [8192, 8192, 131072]));
      try {
        mocks[0].script(openaiErrors.sglangContextLength(8192, 9000));
        const { res } = await post(sidecar, ask());
        expect(res.status).toBe(200);
        expect(res.headers.get('x-modelgate-endpoint')).toBe('p3/model-3');
        expect(mocks.map((m) => m.requests.length)).toEqual([1, 0, 1]);

        mocks[0].script(openaiErrors.contextLengthExceeded(8192, 200000));
        mocks[2].script(openaiErrors.contextLengthExceeded(131072, 200000));
        const { res: tooBig, json } = await post(sidecar, ask());
        expect(tooBig.status).toBe(400);
        expect(json.error.code).toBe('GW_ERR_UPSTREAM_CONTEXT_LENGTH');
        expect(mocks.map((m) => m.requests.length)).toEqual([2, 0, 2]);
      } finally {
        await sidecar.stop();
        await Promise.all(mocks.map((m) => m.close()));
      }
    },
  );
});

describe('G29: failover_on_status', () => {
  itConforms(
    'moves on for a listed status (401) and returns an unlisted one (403) at once',
    async () => {
      const mocks = await Promise.all([startMockOpenAI(), startMockOpenAI()]);
      const sidecar = await startTestSidecar(
        chainPolicy(mocks, { failoverOnStatus: [429, 401, 400] }),
      );
      try {
        mocks[0].script(openaiErrors.invalidApiKey('BAD-key-0123456789'));
        const ok = await post(sidecar, ask());
        expect(ok.res.status).toBe(200);
        expect(mocks.map((m) => m.requests.length)).toEqual([1, 1]);

        mocks[0].script({
          status: 403,
          json: {
            error: { message: 'Forbidden', type: 'invalid_request_error', param: null, code: null },
          },
        });
        const denied = await post(sidecar, ask());
        expect(denied.res.status).toBe(403);
        expect(mocks.map((m) => m.requests.length)).toEqual([2, 1]);
      } finally {
        await sidecar.stop();
        await Promise.all(mocks.map((m) => m.close()));
      }
    },
  );
});

describe('no retry storms', () => {
  itConforms('honours Retry-After: the resting endpoint is skipped until then', async () => {
    const mocks = await Promise.all([startMockOpenAI(), startMockOpenAI()]);
    const policy = chainPolicy(mocks);
    policy.routing = create(PolicySchema, { routing: {} }).routing;
    const sidecar = await startTestSidecar(policy);
    try {
      mocks[0].script(openaiErrors.rateLimited('model-1', 30));
      expect((await post(sidecar, ask())).res.status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await post(sidecar, ask())).res.status).toBe(200);
      expect(mocks.map((m) => m.requests.length)).toEqual([1, 4]);
    } finally {
      await sidecar.stop();
      await Promise.all(mocks.map((m) => m.close()));
    }
  });

  itConforms(
    'opens the circuit after repeated failures and answers a fast 503 when all are down',
    async () => {
      const mocks = await Promise.all([startMockOpenAI(), startMockOpenAI()]);
      const policy = chainPolicy(mocks);
      policy.routing = create(PolicySchema, {
        routing: { breakerFailures: 2, breakerCooldownMs: 60_000 },
      }).routing;
      const sidecar = await startTestSidecar(policy);
      try {
        for (let i = 0; i < 2; i++) {
          mocks[0].script(openaiErrors.serverError());
          mocks[1].script(openaiErrors.serverError());
          expect((await post(sidecar, ask())).res.status).toBe(502);
        }
        const started = Date.now();
        const { res, json } = await post(sidecar, ask());
        expect(res.status).toBe(503);
        expect(json.error.code).toBe('GW_ERR_ROUTE_ALL_DOWN');
        expect(json.error.message).toContain('p1/model-1 (retry in');
        expect(json.error.message).toContain('p2/model-2 (retry in');
        expect(Date.now() - started).toBeLessThan(100);
        expect(mocks.map((m) => m.requests.length)).toEqual([2, 2]);
      } finally {
        await sidecar.stop();
        await Promise.all(mocks.map((m) => m.close()));
      }
    },
  );

  itConforms('spends at most max_attempts attempts on one request', async () => {
    const mocks = await Promise.all([startMockOpenAI(), startMockOpenAI(), startMockOpenAI()]);
    const sidecar = await startTestSidecar(chainPolicy(mocks, { maxAttempts: 2 }));
    try {
      mocks[0].script(openaiErrors.overloaded());
      mocks[1].script(openaiErrors.overloaded());
      const { res } = await post(sidecar, ask());
      expect(res.status).toBe(503);
      expect(res.headers.get('x-modelgate-attempts')).toBe('2');
      expect(mocks.map((m) => m.requests.length)).toEqual([1, 1, 0]);
    } finally {
      await sidecar.stop();
      await Promise.all(mocks.map((m) => m.close()));
    }
  });

  itConforms('logs each failover with its reason', async () => {
    const mocks = await Promise.all([startMockOpenAI(), startMockOpenAI()]);
    const sidecar = await startTestSidecar(chainPolicy(mocks));
    try {
      mocks[0].script(openaiErrors.overloaded());
      await post(sidecar, ask());
      await eventually(() => sidecar.requestLogs().length > 0);
      expect(sidecar.requestLogs().at(-1)).toMatchObject({
        endpoint: 'p2/model-2',
        attempts: 2,
        failovers: [{ endpoint: 'p1/model-1', result: 'http_503', decision: 'next' }],
      });
    } finally {
      await sidecar.stop();
      await Promise.all(mocks.map((m) => m.close()));
    }
  });
});
