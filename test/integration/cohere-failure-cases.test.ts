// The cases of shared/cases/failure-cases.md that touch a Cohere upstream, each asserting the
// right value through the real sidecar, streamed and not where both exist.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  cohereErrors,
  cohereEvent,
  coherePolicy,
  cohereStream,
  startMockCohere,
  type MockCohere,
} from '../support/mock-cohere.js';
import { itConforms, recordEachConformance } from '../support/conformance.js';
import { chunksOf, postSse, reassembleChat } from '../support/sse-client.js';
import {
  PROVIDER_SECRET,
  eventually,
  startTestSidecar,
  type TestSidecar,
} from '../support/sidecar.js';

const ask = (extra: object = {}) => ({
  model: 'command-fast',
  stream: true,
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});
const writeFile = {
  type: 'function',
  function: {
    name: 'write_file',
    parameters: { type: 'object', properties: { body: { type: 'string' } } },
  },
};

const withoutErrors = (chunks: unknown[]) =>
  chunks.filter((c) => !(c as { error?: unknown }).error);

function conforms(chunks: unknown[]): void {
  recordEachConformance('CreateChatCompletionStreamResponse', chunks);
}

describe('Cohere failure cases', () => {
  let mock: MockCohere;
  let sidecar: TestSidecar;
  const url = () => `${sidecar.url}/v1/chat/completions`;
  const post = (body: object) =>
    fetch(url(), { method: 'POST', body: JSON.stringify(body) }).then(async (res) => ({
      status: res.status,
      headers: res.headers,
      json: (await res.json()) as Record<string, any>,
    }));

  beforeAll(async () => {
    mock = await startMockCohere({ expectApiKey: PROVIDER_SECRET });
    sidecar = await startTestSidecar(coherePolicy(mock.url));
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });
  afterEach(() => expect(mock.pending()).toBe(0));

  it('G04: ignores SSE comments and keep-alives between Cohere events', async () => {
    const events = cohereStream({ pieces: ['Roses', ' are red'] });
    mock.script({
      sse: [
        events[0],
        ': ping - 2025-04-12 10:00:00\n\n',
        ...events.slice(1, 4),
        ':\n\n',
        'retry: 3000\n\n',
        ...events.slice(4),
      ],
    });
    const res = await postSse(url(), ask());
    expect(res.status).toBe(200);
    expect(reassembleChat(chunksOf(res)).content).toBe('Roses are red');
    expect(res.raw).not.toContain('ping');
    expect(res.raw.match(/data: \[DONE\]/g)).toHaveLength(1);

    const next = await postSse(url(), ask());
    expect(reassembleChat(chunksOf(next)).content).toBe('Hello from the mock.');
  });

  it('G05: the same answer whole and split at seeded random offsets, inside é too', async () => {
    const stream = Buffer.from(
      cohereStream({
        pieces: ['caf', 'é', ' ok', '!'],
        usage: { tokens: { input: 5, output: 3 } },
      }).join(''),
    );
    const eAcute = stream.indexOf(Buffer.from('é'));
    const run = async (splitAt: number[]) => {
      mock.script({ sse: [stream], splitAt, delayMs: 1 });
      return postSse(url(), ask({ stream_options: { include_usage: true } }));
    };
    const whole = await run([]);
    expect(reassembleChat(chunksOf(whole)).content).toBe('café ok!');

    let seed = 4242;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 8; round++) {
      const cuts = [
        eAcute + 1,
        ...Array.from({ length: 4 }, () => 1 + Math.floor(random() * (stream.length - 1))),
      ];
      const res = await run([...new Set(cuts)].sort((a, b) => a - b));
      const strip = (events: { data: string }[]) =>
        events.map((e) => e.data.replace(/"created":\d+/, ''));
      expect(strip(res.events)).toEqual(strip(whole.events));
      expect(res.raw).not.toContain('\uFFFD');
    }
  });

  itConforms(
    'G07: include_usage adds only a usage chunk; the content is the same without it',
    async () => {
      const script = () =>
        mock.script({ sse: cohereStream({ pieces: ['Two', ' sentences.', ' Done.'] }) });
      script();
      const plain = await postSse(url(), ask());
      script();
      const usage = await postSse(url(), ask({ stream_options: { include_usage: true } }));

      const a = reassembleChat(chunksOf(plain));
      const b = reassembleChat(chunksOf(usage));
      expect(b.content).toBe(a.content);
      expect(a.content).toBe('Two sentences. Done.');
      const last = chunksOf(usage).at(-1) as { choices: unknown[]; usage: unknown };
      expect(last.choices).toEqual([]);
      expect(last.usage).toEqual({ prompt_tokens: 205, completion_tokens: 6, total_tokens: 211 });
      expect(chunksOf(plain).some((c) => (c as { usage?: unknown }).usage)).toBe(false);
      conforms(chunksOf(usage));
    },
  );

  it('G09a: a tool call cut by MAX_TOKENS keeps finish_reason "length" and [DONE]', async () => {
    mock.script({
      sse: cohereStream({
        toolCalls: [
          { id: 'write_file_1', name: 'write_file', arguments: ['{"body":"line 1\\n', 'line 2'] },
        ],
        finishReason: 'MAX_TOKENS',
      }),
    });
    const res = await postSse(
      url(),
      ask({ max_tokens: 20, tool_choice: 'auto', tools: [writeFile] }),
    );
    const chat = reassembleChat(chunksOf(res));
    expect(chat.finishReason).toBe('length');
    expect(chat.toolCalls[0].arguments).toBe('{"body":"line 1\\nline 2');
    expect(res.done).toBe(true);
    expect(mock.requests.at(-1)!.json).toMatchObject({ max_tokens: 20 });
  });

  it('G09a: the same, unstreamed', async () => {
    mock.script({
      status: 200,
      json: {
        id: 'm',
        finish_reason: 'MAX_TOKENS',
        message: {
          role: 'assistant',
          tool_calls: [
            {
              id: 'w',
              type: 'function',
              function: { name: 'write_file', arguments: '{"body":"li' },
            },
          ],
        },
        usage: { tokens: { input: 30, output: 20 } },
      },
    });
    const res = await post({ ...ask({ stream: false, max_tokens: 20, tools: [writeFile] }) });
    expect(res.json.choices[0].finish_reason).toBe('length');
  });

  it('G09b: an ERROR finish after tool-call deltas gives an error event, no finish, no [DONE]', async () => {
    mock.script({
      sse: cohereStream({
        toolCalls: [{ id: 'w', name: 'write_file', arguments: ['{"body":"a', 'bc'] }],
        finishReason: 'ERROR',
        error: 'internal error',
      }),
    });
    const res = await postSse(url(), ask({ tools: [writeFile] }));
    expect(res.status).toBe(200);
    expect(res.done).toBe(false);
    const error = JSON.parse(res.events.at(-1)!.data).error;
    expect(error).toMatchObject({ code: 'GW_ERR_STREAM_UPSTREAM_ERROR', type: 'api_error' });
    const chat = reassembleChat(withoutErrors(chunksOf(res)));
    expect(chat.finishReason).toBeNull();
    expect(chat.toolCalls[0].arguments).toBe('{"body":"abc');
    await eventually(() => sidecar.requestLogs().some((l) => l.outcome === 'stream_error'));
  });

  it('G21: a context-length error is a 400 with the stable code after one upstream call', async () => {
    for (const stream of [false, true]) {
      mock.script(cohereErrors.promptTooLong());
      const before = mock.requests.length;
      const res = await post(ask({ stream }));
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('GW_ERR_UPSTREAM_CONTEXT_LENGTH');
      expect(res.json.error.message).toContain('too many tokens');
      expect(mock.requests.length - before).toBe(1);
    }
  });

  it('G22: an error finish before any content is a plain HTTP error, streamed', async () => {
    mock.script({
      sse: [
        cohereEvent({ type: 'message-start', id: 'm', delta: { message: { role: 'assistant' } } }),
        cohereEvent({
          type: 'message-end',
          delta: { finish_reason: 'ERROR', error: 'model crashed' },
        }),
      ],
    });
    const res = await postSse(url(), ask());
    expect(res.status).toBe(502);
    expect(JSON.parse(res.raw).error.code).toBe('GW_ERR_STREAM_UPSTREAM_ERROR');
  });

  it('G22: an error finish after content ends the stream with an error event, no [DONE]', async () => {
    mock.script({
      sse: cohereStream({ pieces: ['Hel', 'lo'], finishReason: 'ERROR', error: 'oops' }),
    });
    const res = await postSse(url(), ask());
    expect(res.status).toBe(200);
    expect(res.done).toBe(false);
    expect(JSON.parse(res.events.at(-1)!.data).error.code).toBe('GW_ERR_STREAM_UPSTREAM_ERROR');
    const chat = reassembleChat(withoutErrors(chunksOf(res)));
    expect(chat.content).toBe('Hello');
    expect(chat.finishReason).toBeNull();
  });

  it('G22: an ERROR finish reason in a non-streamed answer is a 502', async () => {
    mock.script({
      status: 200,
      json: { id: 'm', finish_reason: 'ERROR', message: { role: 'assistant', content: [] } },
    });
    const res = await post(ask({ stream: false }));
    expect(res.status).toBe(502);
    expect(res.json.error.code).toBe('GW_ERR_UPSTREAM_ERROR');
  });

  itConforms.each(['destroy', 'reset'] as const)(
    'G25/G27: a Cohere stream that dies after content (%s) ends with an error event',
    async (ending) => {
      const pieces = Array.from({ length: 60 }, (_, i) => `t${i} `);
      const events = cohereStream({ pieces, omitEnd: true });
      mock.script({ sse: events.slice(0, 42), ending }); // message-start, content-start, 40 deltas
      const res = await postSse(url(), ask());
      expect(res.status).toBe(200);
      expect(res.done).toBe(false);
      expect(JSON.parse(res.events.at(-1)!.data).error.code).toBe('GW_ERR_STREAM_INTERRUPTED');
      const chunks = withoutErrors(chunksOf(res));
      const chat = reassembleChat(chunks);
      expect(chat.finishReason).toBeNull();
      expect(chat.roleChunks).toBe(1);
      const sent = pieces.slice(0, 40).join('');
      if (ending === 'destroy') expect(chat.content).toBe(sent);
      else expect(sent.startsWith(chat.content) && chat.content.length > 0).toBe(true);
      conforms(chunks);
      await eventually(() => sidecar.requestLogs().at(-1)?.outcome === 'stream_interrupted');
    },
  );

  it('G25: a Cohere stream that ends cleanly but without message-end is not a success', async () => {
    mock.script({ sse: cohereStream({ pieces: ['a', 'b'], omitEnd: true }) });
    const res = await postSse(url(), ask());
    expect(res.done).toBe(false);
    expect(JSON.parse(res.events.at(-1)!.data).error.code).toBe('GW_ERR_STREAM_INTERRUPTED');
  });

  it('G25: a stream that closes before any data is a 502, not an empty success', async () => {
    mock.script({ sse: [], ending: 'destroy' });
    const res = await postSse(url(), ask());
    expect(res.status).toBe(502);
    expect(JSON.parse(res.raw).error.code).toBe('GW_ERR_STREAM_INTERRUPTED');
  });

  it('G26: an error after a harmless message-start does not commit the stream: HTTP 429', async () => {
    mock.script({
      sse: [
        cohereEvent({ type: 'message-start', id: 'm', delta: { message: { role: 'assistant' } } }),
        'data: {"message":"You are past the per minute request limit, please wait and try again later."}\n\n',
      ],
    });
    const res = await postSse(url(), ask());
    expect(res.status).toBe(429);
    expect(JSON.parse(res.raw).error.code).toBe('GW_ERR_UPSTREAM_RATE_LIMITED');
  });

  // A Retry-After or a refused credential opens the endpoint's circuit at once (see
  // routing/breaker.ts): each of these starts from a fresh sidecar so the next call is tried.
  describe('failures that open the circuit', () => {
    let fresh: TestSidecar;
    const postFresh = (body: object) =>
      fetch(`${fresh.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify(body),
      }).then(async (res) => ({
        status: res.status,
        headers: res.headers,
        json: (await res.json()) as Record<string, any>,
      }));
    beforeEach(async () => {
      fresh = await startTestSidecar(coherePolicy(mock.url));
    });
    afterEach(async () => fresh.stop());

    it.each([false, true])(
      'passes a rate limit on as 429 with Retry-After (stream: %s)',
      async (stream) => {
        mock.script(cohereErrors.rateLimited(7));
        const res = await postFresh(ask({ stream }));
        expect(res.status).toBe(429);
        expect(res.headers.get('retry-after')).toBe('7');
        expect(res.json.error.code).toBe('GW_ERR_UPSTREAM_RATE_LIMITED');
      },
    );

    it.each([false, true])(
      'reports a refused Cohere key as a gateway fault (stream: %s)',
      async (stream) => {
        mock.script(cohereErrors.invalidToken());
        const res = await postFresh(ask({ stream }));
        expect(res.status).toBe(502);
        expect(res.json.error.code).toBe('GW_ERR_UPSTREAM_AUTH');
        expect(JSON.stringify(res.json)).not.toContain(PROVIDER_SECRET);
        expect(res.json.error.message).not.toContain('invalid api token');
      },
    );
  });

  it('maps an unknown Cohere model to 404 and an overloaded Cohere to 503', async () => {
    mock.script(cohereErrors.modelNotFound('command-zz'));
    expect((await post(ask({ stream: false, model: 'command-zz' }))).json.error.code).toBe(
      'GW_ERR_UPSTREAM_NOT_FOUND',
    );
    mock.script(cohereErrors.unavailable());
    const res = await post(ask({ stream: true }));
    expect([res.status, res.json.error.code]).toEqual([503, 'GW_ERR_UPSTREAM_OVERLOADED']);
  });
});
