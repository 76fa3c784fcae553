// The OpenAI-protocol cases of shared/cases/failure-cases.md, each asserting the right value.

import { connect } from 'node:net';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { chatStream, sseEvent, startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { itConforms, recordConformance, recordEachConformance } from '../support/conformance.js';
import { chunksOf, postSse, reassembleChat } from '../support/sse-client.js';
import {
  PROVIDER_SECRET,
  eventually,
  startTestSidecar,
  testPolicy,
  type TestSidecar,
} from '../support/sidecar.js';

const ask = (extra: object = {}) => ({
  model: 'gpt-4o',
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

function conforms(chunks: unknown[]): void {
  recordEachConformance('CreateChatCompletionStreamResponse', chunks);
}

describe('OpenAI-protocol failure cases', () => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;
  const url = () => `${sidecar.url}/v1/chat/completions`;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }));
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  afterEach(() => expect(mock.pending()).toBe(0));

  it('G04: ignores SSE comments, keep-alives and retry lines', async () => {
    const chunk = (content: string | undefined, finish: string | null) =>
      `data: ${JSON.stringify({
        id: 'c1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'meta-llama-3.1-8b',
        choices: [
          { index: 0, delta: content === undefined ? {} : { content }, finish_reason: finish },
        ],
      })}\n\n`;
    mock.script({
      sse: [
        chunk('Roses', null),
        ': ping - 2025-04-12 10:00:00.000000\n\n',
        chunk(' are red', null),
        ':\n\n',
        'retry: 3000\n\n',
        chunk(undefined, 'stop'),
        'data: [DONE]\n\n',
      ],
    });
    const res = await postSse(url(), ask({ model: 'meta-llama-3.1-8b', max_tokens: 1000 }));
    const chat = reassembleChat(chunksOf(res));
    expect(res.status).toBe(200);
    expect(chat.content).toBe('Roses are red');
    expect(chat.finishReason).toBe('stop');
    expect(res.raw).not.toContain('ping');
    expect(res.raw).not.toContain('retry');
    expect(res.raw.match(/data: \[DONE\]/g)).toHaveLength(1);

    // The process still serves the next request.
    const next = await postSse(url(), ask());
    expect(reassembleChat(chunksOf(next)).content).toBe('Hello from the mock.');
  });

  describe('G05: one event split across reads, inside a UTF-8 character', () => {
    const signature = 'A'.repeat(90 * 1024);
    const bigFirst = Buffer.from(
      `data: ${JSON.stringify({
        id: 'c5',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'm',
        choices: [
          { index: 0, delta: { role: 'assistant', content: 'café ok' }, finish_reason: null },
        ],
        signature,
      })}\n\n`,
    );
    const tail = Buffer.from(
      `data: ${JSON.stringify({ id: 'c5', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: '!' }, finish_reason: 'stop' }] })}\n\n` +
        `data: ${JSON.stringify({ id: 'c5', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } })}\n\n` +
        'data: [DONE]\n\n',
    );
    const stream = Buffer.concat([bigFirst, tail]);
    const eAcute = stream.indexOf(Buffer.from('é')); // the two bytes C3 A9

    async function run(splitAt: number[]) {
      mock.script({ sse: [stream], splitAt, delayMs: 1 });
      const res = await postSse(url(), ask({ stream_options: { include_usage: true } }));
      return { res, chat: reassembleChat(chunksOf(res)) };
    }

    it('reassembles the same answer whole and split, with the cut inside é', async () => {
      const whole = await run([]);
      expect(whole.chat.content).toBe('café ok!');
      for (const splitAt of [[eAcute + 1], [40, eAcute + 1, stream.length - tail.length + 3]]) {
        const { res, chat } = await run(splitAt);
        expect(chat.content).toBe('café ok!');
        expect(chat.finishReason).toBe('stop');
        expect(chat.usage).toMatchObject({
          prompt_tokens: 5,
          completion_tokens: 3,
          total_tokens: 8,
        });
        expect(res.raw.match(/data: \[DONE\]/g)).toHaveLength(1);
        expect(res.raw).not.toContain('\uFFFD');
      }
    });

    it('gives identical output at seeded random split points', async () => {
      let seed = 12345;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const whole = await run([]);
      for (let round = 0; round < 12; round++) {
        const cuts = [
          eAcute + 1,
          ...Array.from({ length: 4 }, () => 1 + Math.floor(random() * (stream.length - 1))),
        ];
        const { res } = await run([...new Set(cuts)].sort((a, b) => a - b));
        expect(res.events).toEqual(whole.res.events);
      }
    });
  });

  it('G05: split at every byte offset of a small stream gives the same events', async () => {
    const small = Buffer.from(
      chatStream({ model: 'm', pieces: ['caf', 'é', ' ok'], includeUsage: true }).join(''),
    );
    mock.script({ sse: [small] });
    const whole = await postSse(url(), ask({ stream_options: { include_usage: true } }));
    const wholeText = reassembleChat(chunksOf(whole)).content;
    expect(wholeText).toBe('café ok');
    for (let offset = 1; offset < small.length; offset += 7) {
      mock.script({ sse: [small], splitAt: [offset] });
      const res = await postSse(url(), ask({ stream_options: { include_usage: true } }));
      expect(reassembleChat(chunksOf(res)).content).toBe(wholeText);
      expect(res.done).toBe(true);
    }
  });

  itConforms(
    'G22: an error event before any content becomes a plain HTTP error the client can act on',
    async () => {
      mock.script({
        sse: [
          sseEvent({
            id: 'c',
            object: 'chat.completion.chunk',
            created: 1,
            model: 'm',
            choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
          }),
          sseEvent({
            error: {
              message: 'Rate limit reached for requests',
              type: 'requests',
              code: 'rate_limit_exceeded',
            },
          }),
        ],
      });
      const res = await postSse(url(), ask());
      expect(res.status).toBe(429);
      const body = JSON.parse(res.raw);
      expect(body.error.code).toBe('GW_ERR_UPSTREAM_RATE_LIMITED');
      recordConformance('ErrorResponse', body);
    },
  );

  it('G22: an error event after content ends the stream with an error event, no [DONE]', async () => {
    mock.script({
      sse: [
        ...chatStream({ model: 'm', pieces: ['Hel', 'lo'], done: false }).slice(0, 3),
        sseEvent({ error: { message: 'internal error', type: 'InternalServerError', code: 500 } }),
      ],
    });
    const res = await postSse(url(), ask());
    expect(res.status).toBe(200);
    expect(res.done).toBe(false);
    const last = JSON.parse(res.events.at(-1)!.data);
    expect(last.error).toMatchObject({ code: 'GW_ERR_STREAM_UPSTREAM_ERROR', type: 'api_error' });
    const chat = reassembleChat(chunksOf(res).filter((c) => !(c as { error?: unknown }).error));
    expect(chat.content).toBe('Hello');
    expect(chat.finishReason).toBeNull();
    await eventually(() => sidecar.requestLogs().some((l) => l.outcome === 'stream_error'));
  });

  describe('OpenRouter\'s error beside choices (finish_reason "error")', () => {
    // OpenRouter ends a failed stream, and answers a failed request, with a chunk that has
    // both a top-level error and choices; its error codes are HTTP statuses, as numbers.
    const failed = (content: string) => ({
      id: 'gen-1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      provider: 'OpenAI',
      error: { code: 502, message: 'Provider disconnected (key sk-proj-ABCDEFGHIJKLMNOPQRST)' },
      choices: [{ index: 0, delta: { content }, finish_reason: 'error' }],
    });

    itConforms('before any content: an HTTP error, with the key-like text masked', async () => {
      mock.script({
        sse: [chatStream({ model: 'm', pieces: [] })[0], sseEvent(failed('')), 'data: [DONE]\n\n'],
      });
      const res = await postSse(url(), ask());
      expect(res.status).toBe(502);
      const body = JSON.parse(res.raw);
      expect(body.error.code).toBe('GW_ERR_STREAM_UPSTREAM_ERROR');
      expect(body.error.message).toContain('Provider disconnected');
      expect(body.error.message).not.toContain('ABCDEFGHIJ');
      recordConformance('ErrorResponse', body);
    });

    it('after content: an error event ends the stream, no [DONE], logged as a stream error', async () => {
      mock.script({
        sse: [
          ...chatStream({ model: 'm', pieces: ['Hel'], done: false }).slice(0, 2),
          sseEvent(failed('')),
          'data: [DONE]\n\n',
        ],
      });
      const before = sidecar.requestLogs().length;
      const res = await postSse(url(), ask());
      expect(res.status).toBe(200);
      expect(res.done).toBe(false);
      const last = JSON.parse(res.events.at(-1)!.data);
      expect(last.error.code).toBe('GW_ERR_STREAM_UPSTREAM_ERROR');
      const chat = reassembleChat(chunksOf(res).filter((c) => !(c as { error?: unknown }).error));
      expect(chat.content).toBe('Hel');
      await eventually(() => sidecar.requestLogs().length > before);
      expect(sidecar.requestLogs().at(-1)!.outcome).toBe('stream_error');
    });

    it('in a non-streamed answer: an error, not a 200', async () => {
      const answer = { ...failed('partial'), object: 'chat.completion' };
      mock.script({ status: 200, json: answer });
      const res = await fetch(url(), {
        method: 'POST',
        body: JSON.stringify(ask({ stream: false })),
      });
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('GW_ERR_UPSTREAM_ERROR');
      expect(body.error.message).not.toContain('ABCDEFGHIJ');
    });
  });

  /** A compact non-streamed answer (as vLLM and the like send) billing 7 + 3 tokens. */
  const compactAnswer = (extra: object = {}) =>
    JSON.stringify({
      id: 'c',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
      ...extra,
    });

  it('a non-streamed 200 that is not JSON is a bad response, however it is laid out', async () => {
    const good = compactAnswer();
    for (const body of [
      good.slice(0, -1), // no closing brace
      `${good} trailing`,
      good.replace('"finish_reason":"stop"}', '"finish_reason":"stop",}'),
      good.replace('"index":0', '"index":01'),
    ]) {
      mock.script({ status: 200, headers: { 'content-type': 'application/json' }, body });
      const res = await fetch(url(), {
        method: 'POST',
        body: JSON.stringify(ask({ stream: false })),
      });
      expect(res.status, body).toBe(502);
      const error = ((await res.json()) as { error: { code: string } }).error;
      expect(error.code).toBe('GW_ERR_UPSTREAM_BAD_RESPONSE');
    }
  });

  it("bills a non-streamed answer's own usage, not a usage nested after it", async () => {
    const body = compactAnswer({
      x_meta: { usage: { prompt_tokens: 900000, completion_tokens: 900000 } },
    });
    mock.script({ status: 200, headers: { 'content-type': 'application/json' }, body });
    const before = sidecar.requestLogs().length;
    const res = await fetch(url(), {
      method: 'POST',
      body: JSON.stringify(ask({ stream: false })),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(body);
    await eventually(() => sidecar.requestLogs().length > before);
    const line = sidecar.requestLogs().at(-1)!;
    expect([line.prompt_tokens, line.completion_tokens, line.total_tokens]).toEqual([7, 3, 10]);
  });

  itConforms.each(['destroy', 'reset'] as const)(
    'G25/G27: a stream that dies after content (%s) ends with an error event, no finish, no [DONE]',
    async (ending) => {
      const pieces = Array.from({ length: 60 }, (_, i) => `t${i} `);
      const lines = chatStream({ model: 'm', pieces });
      mock.script({ sse: lines.slice(0, 41), ending }); // the role chunk and 40 of 60 tokens
      const before = sidecar.requestLogs().length;
      const res = await postSse(url(), ask());
      expect(res.status).toBe(200);
      expect(res.done).toBe(false);
      const error = JSON.parse(res.events.at(-1)!.data).error;
      expect(error.code).toBe('GW_ERR_STREAM_INTERRUPTED');
      const chunks = chunksOf(res).filter((c) => !(c as { error?: unknown }).error);
      const chat = reassembleChat(chunks);
      expect(chat.finishReason).toBeNull();
      // A TCP reset makes the kernel drop bytes the sidecar had not read yet, so after a
      // reset the client gets a prefix of what was sent; after a close it gets all of it.
      const sent = pieces.slice(0, 40).join('');
      if (ending === 'destroy') expect(chat.content).toBe(sent);
      else expect(sent.startsWith(chat.content) && chat.content.length > 0).toBe(true);
      expect(chat.roleChunks).toBe(1);
      conforms(chunks);
      await eventually(() => sidecar.requestLogs().length > before);
      const line = sidecar.requestLogs().at(-1)!;
      expect(line.outcome).toBe('stream_interrupted');
      expect(line.level).toBe('error');
    },
  );

  it('G25: a stream that closes before any data is a 502, not an empty success', async () => {
    mock.script({ sse: [], ending: 'destroy' });
    const res = await postSse(url(), ask());
    expect(res.status).toBe(502);
    expect(JSON.parse(res.raw).error.code).toBe('GW_ERR_STREAM_INTERRUPTED');

    mock.script({ destroyBeforeHeaders: true });
    const early = await postSse(url(), ask());
    expect(early.status).toBe(502);
    expect(JSON.parse(early.raw).error.code).toBe('GW_ERR_UPSTREAM_UNREACHABLE');
  });

  it('G09a: a tool call cut by max_tokens keeps finish_reason "length" and [DONE]', async () => {
    mock.script({
      sse: chatStream({
        model: 'm',
        toolCalls: [
          { id: 'call_1', name: 'write_file', arguments: ['{"body":"line 1\\n', 'line 2'] },
        ],
        finishReason: 'length',
      }),
    });
    const res = await postSse(url(), ask({ max_tokens: 20, tool_choice: 'auto' }));
    const chat = reassembleChat(chunksOf(res));
    expect(chat.finishReason).toBe('length');
    expect(chat.toolCalls[0].arguments).toBe('{"body":"line 1\\nline 2');
    expect(res.done).toBe(true);
  });

  it('G09b: an error frame after tool-call deltas gives an error event, no invented finish', async () => {
    const lines = chatStream({
      model: 'm',
      toolCalls: [{ id: 'call_1', name: 'write_file', arguments: ['{"body":"a', 'b'] }],
      finishReason: 'tool_calls',
      done: false,
    });
    mock.script({
      sse: [
        ...lines.slice(0, 3),
        sseEvent({ error: { message: 'internal error', type: 'InternalServerError', code: 500 } }),
      ],
      ending: 'destroy',
    });
    const res = await postSse(url(), ask());
    expect(res.done).toBe(false);
    expect(JSON.parse(res.events.at(-1)!.data).error.code).toBe('GW_ERR_STREAM_UPSTREAM_ERROR');
    const chat = reassembleChat(chunksOf(res).filter((c) => !(c as { error?: unknown }).error));
    expect(chat.finishReason).toBeNull();
  });
});

describe('G03: Azure content-filter chunks', () => {
  itConforms(
    'keeps exactly one role chunk, drops annotation chunks, keeps usage last',
    async () => {
      const mock = await startMockOpenAI({
        azure: { apiVersion: '2024-10-21', apiKey: PROVIDER_SECRET },
      });
      const sidecar = await startTestSidecar(
        testPolicy({
          upstream: mock.origin,
          protocol: Protocol.AZURE_OPENAI,
          apiVersion: '2024-10-21',
        }),
      );
      try {
        const raw = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
        mock.script({
          sse: [
            raw({
              id: '',
              object: '',
              created: 0,
              model: '',
              choices: [],
              prompt_filter_results: [
                {
                  prompt_index: 0,
                  content_filter_results: { hate: { filtered: false, severity: 'safe' } },
                },
              ],
            }),
            raw({
              id: 'chatcmpl-1',
              object: 'chat.completion.chunk',
              created: 1,
              model: 'gpt-4o',
              choices: [
                { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
              ],
              usage: null,
            }),
            raw({
              id: 'chatcmpl-1',
              object: 'chat.completion.chunk',
              created: 1,
              model: 'gpt-4o',
              choices: [{ index: 0, delta: { content: 'Hello' }, finish_reason: null }],
              usage: null,
            }),
            raw({
              id: '',
              object: '',
              created: 0,
              model: '',
              choices: [
                {
                  index: 0,
                  finish_reason: null,
                  content_filter_results: { hate: { filtered: false, severity: 'safe' } },
                  content_filter_offsets: { check_offset: 5, start_offset: 5, end_offset: 10 },
                },
              ],
            }),
            raw({
              id: 'chatcmpl-1',
              object: 'chat.completion.chunk',
              created: 1,
              model: 'gpt-4o',
              choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
              usage: null,
            }),
            raw({
              id: 'chatcmpl-1',
              object: 'chat.completion.chunk',
              created: 1,
              model: 'gpt-4o',
              choices: [],
              usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 },
            }),
            'data: [DONE]\n\n',
          ],
        });
        const res = await postSse(`${sidecar.url}/v1/chat/completions`, {
          model: 'azure-gpt',
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: 'user', content: 'hi' }],
        });
        expect(res.status).toBe(200);
        const chunks = chunksOf(res) as { choices: unknown[]; usage?: unknown }[];
        const chat = reassembleChat(chunks);
        expect(chat.content).toBe('Hello');
        expect(chat.roleChunks).toBe(1);
        const empty = chunks.filter((c) => c.choices.length === 0);
        expect(empty).toHaveLength(1);
        expect(chunks.at(-1)).toBe(empty[0]);
        expect(chunks.at(-1)!.usage).toMatchObject({ total_tokens: 10 });
        expect(res.done).toBe(true);
        conforms(chunks);

        const sent = mock.requests.at(-1)!;
        expect(sent.path).toBe('/openai/deployments/azure-gpt/chat/completions');
        expect(sent.query['api-version']).toBe('2024-10-21');
        expect(sent.headers['api-key']).toBe(PROVIDER_SECRET);
        expect(sent.headers.authorization).toBeUndefined();
      } finally {
        await sidecar.stop();
        await mock.close();
      }
    },
  );
});

describe.each(['uws', 'node'] as const)('G39 through the %s front', (http) => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;

  beforeAll(async () => {
    mock = await startMockOpenAI();
    sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }), http);
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  it('drops the client credential, cookies and stray keys; forwards x-pass-* without the prefix', async () => {
    const client = new OpenAI({
      apiKey: 'sk-gw-CANARY1',
      baseURL: `${sidecar.url}/v1`,
      maxRetries: 0,
    });
    await client.chat.completions.create(
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
      {
        headers: {
          'x-pass-authorization': 'Bearer upstream-token',
          'x-api-key': 'CANARY2',
          cookie: 's=CANARY3',
        },
      },
    );
    const sent = mock.requests.at(-1)!;
    const everything = sent.rawHeaders.join('\n');
    expect(sent.headers.authorization).toBe('Bearer upstream-token');
    for (const canary of ['CANARY1', 'CANARY2', 'CANARY3', PROVIDER_SECRET]) {
      expect(everything).not.toContain(canary);
    }
    expect(Object.keys(sent.headers).some((h) => h.startsWith('x-pass-'))).toBe(false);
  });

  // node:http answers a header line with a bare CR with 400. The uWS build's native parser
  // refuses it too but answers nothing: the request never reaches a handler and uWS drops
  // the connection at its idle timeout (~10 s). Either way nothing is forwarded.
  it('refuses a header value carrying a line break and calls nobody', async () => {
    const before = mock.requests.length;
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    const { port } = new URL(sidecar.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
            `x-pass-x-note: a\rX-Injected: 1\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
      });
      let text = '';
      const timer = setTimeout(() => socket.destroy(), 1000);
      socket.on('data', (d) => {
        text += d.toString();
        if (text.includes('\r\n\r\n')) socket.end();
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
      socket.on('error', reject);
    });
    if (http === 'node') expect(raw).toMatch(/^HTTP\/1\.1 400/);
    else expect(raw).toBe('');
    expect(mock.requests.length).toBe(before);
    expect(mock.requests.some((r) => 'x-injected' in r.headers)).toBe(false);
  });
});
