import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  azureContentFilterEvent,
  chatCompletion,
  chatStream,
  openaiErrors,
  startMockOpenAI,
  type MockOpenAI,
  type MockOpenAIOptions,
} from './mock-openai.js';
import {
  assertConforms,
  conformanceErrors,
  loadSpec,
  specAvailable,
  specSuite,
  validator,
} from './openapi.js';
import {
  chunksOf,
  parseSse,
  postSse,
  reassembleChat,
  SseReadError,
  type SseRead,
} from './sse-client.js';

const mocks: MockOpenAI[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((m) => m.close()));
});

async function mock(opts?: MockOpenAIOptions): Promise<MockOpenAI> {
  const m = await startMockOpenAI(opts);
  mocks.push(m);
  return m;
}

const AUTH = { authorization: 'Bearer sk-test' };
const HI = [{ role: 'user', content: 'hi' }];

async function postJson(url: string, body: unknown, headers: Record<string, string> = AUTH) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

/** Sends a stream request over a raw TCP socket and reports how the connection ended. */
function rawTcpOutcome(port: number): Promise<{ bytes: string; ending: string }> {
  const body = JSON.stringify({ model: 'gpt-4o', messages: HI, stream: true });
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let bytes = '';
    socket.on('data', (d) => (bytes += d.toString('latin1')));
    socket.on('end', () => resolve({ bytes, ending: 'fin' }));
    socket.on('error', (e: NodeJS.ErrnoException) => resolve({ bytes, ending: e.code ?? 'error' }));
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

describe('mock OpenAI: recording and scripting', () => {
  it('records method, path, query, lower-cased headers, raw body and parsed json', async () => {
    const m = await mock();
    const body = '{"model":"gpt-4o", "messages":[{"role":"user","content":"hi"}]}';
    await postJson(`${m.url}/chat/completions?trace=1`, body, {
      'X-Custom-Header': 'Yes',
      ...AUTH,
    });

    const [req] = m.requests;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.query).toEqual({ trace: '1' });
    expect(req.headers['x-custom-header']).toBe('Yes');
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.body.toString()).toBe(body);
    expect(req.json).toEqual({ model: 'gpt-4o', messages: HI });
  });

  it('plays scripted steps first in first out, then falls back to the default answer', async () => {
    const m = await mock();
    m.script(openaiErrors.rateLimited('gpt-4o', 3), openaiErrors.overloaded());
    expect(m.pending()).toBe(2);

    const first = await postJson(`${m.url}/chat/completions`, { model: 'gpt-4o', messages: HI });
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('3');
    expect(first.json.error.code).toBe('rate_limit_exceeded');

    const second = await postJson(`${m.url}/chat/completions`, { model: 'gpt-4o', messages: HI });
    expect(second.status).toBe(503);
    expect(second.json.error.type).toBe('server_error');

    const third = await postJson(`${m.url}/chat/completions`, { model: 'gpt-4o', messages: HI });
    expect(third.status).toBe(200);
    expect(third.json.choices[0].message.content).toBe('Hello from the mock.');
    expect(m.pending()).toBe(0);
  });

  it('answers by function steps computed from the recorded request', async () => {
    const m = await mock();
    m.script((req) => ({ status: 200, json: { echoed: (req.json as any).model } }));
    const res = await postJson(`${m.url}/chat/completions`, { model: 'x', messages: HI });
    expect(res.json).toEqual({ echoed: 'x' });
  });
});

describe('mock OpenAI: default answers honor the request', () => {
  it('echoes the model and returns n choices without streaming', async () => {
    const m = await mock();
    const res = await postJson(`${m.url}/chat/completions`, {
      model: 'gpt-4o-mini',
      messages: HI,
      n: 3,
    });
    expect(res.json.object).toBe('chat.completion');
    expect(res.json.model).toBe('gpt-4o-mini');
    expect(res.json.choices.map((c: any) => c.index)).toEqual([0, 1, 2]);
    expect(res.json.choices[0].message).toEqual({
      role: 'assistant',
      content: 'Hello from the mock.',
      refusal: null,
      annotations: [],
    });
    expect(res.json.usage.total_tokens).toBe(
      res.json.usage.prompt_tokens + res.json.usage.completion_tokens,
    );
  });

  it('streams without usage fields unless include_usage is set', async () => {
    const m = await mock();
    const read = await postSse(`${m.url}/chat/completions`, {
      model: 'gpt-4o',
      messages: HI,
      stream: true,
    });
    expect(read.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(read.done).toBe(true);
    expect(read.events.at(-1)?.data).toBe('[DONE]');

    const chunks = chunksOf(read) as any[];
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '', refusal: null });
    expect(chunks.every((c) => !('usage' in c))).toBe(true);

    const chat = reassembleChat(chunks);
    expect(chat).toMatchObject({ content: 'Hello from the mock.', finishReason: 'stop' });
    expect(chat).toMatchObject({ roleChunks: 1, usage: null, anomalies: [] });
  });

  it('streams usage null on every chunk and a final usage chunk with empty choices', async () => {
    const m = await mock();
    const read = await postSse(`${m.url}/chat/completions`, {
      model: 'gpt-4o',
      messages: HI,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = chunksOf(read) as any[];
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage.completion_tokens).toBe(4);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(reassembleChat(chunks)).toMatchObject({ usageChunks: 1, anomalies: [] });
  });

  it('streams one role chunk per choice when n > 1', async () => {
    const m = await mock({ defaultContent: 'a b' });
    const read = await postSse(`${m.url}/chat/completions`, {
      model: 'gpt-4o',
      messages: HI,
      stream: true,
      n: 2,
    });
    const chat = reassembleChat(chunksOf(read));
    expect(chat.roleChunks).toBe(2);
    expect(chat.choices.map((c) => [c.index, c.content, c.finishReason])).toEqual([
      [0, 'a b', 'stop'],
      [1, 'a b', 'stop'],
    ]);
  });

  it('lists models and answers unknown routes with OpenAI 404', async () => {
    const m = await mock({ models: ['m1'] });
    const list = await (await fetch(`${m.url}/models`)).json();
    expect(list).toEqual({
      object: 'list',
      data: [{ id: 'm1', object: 'model', created: expect.any(Number), owned_by: 'system' }],
    });
    const res = await postJson(`${m.url}/nope`, {});
    expect(res.status).toBe(404);
    expect(res.json.error.message).toBe('Invalid URL (POST /v1/nope)');
  });
});

describe('mock OpenAI: body builders', () => {
  it('streams parallel tool calls in OpenAI fragment shape', () => {
    const lines = chatStream({
      model: 'gpt-4o',
      toolCalls: [
        { id: 'call_A', name: 'get_weather', arguments: ['{"city":', '"Paris"}'] },
        { id: 'call_B', name: 'get_weather', arguments: '{"city":"Tokyo"}' },
      ],
    });
    const chunks = chunksOf(parseSse(lines.join(''))) as any[];

    expect(chunks[0].choices[0].delta).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          index: 0,
          id: 'call_A',
          type: 'function',
          function: { name: 'get_weather', arguments: '' },
        },
      ],
      refusal: null,
    });
    expect(chunks[1].choices[0].delta).toEqual({
      tool_calls: [{ index: 0, function: { arguments: '{"city":' } }],
    });

    const chat = reassembleChat(chunks);
    expect(chat.finishReason).toBe('tool_calls');
    expect(chat.toolCalls.map((c) => [c.index, c.id, c.name, JSON.parse(c.arguments)])).toEqual([
      [0, 'call_A', 'get_weather', { city: 'Paris' }],
      [1, 'call_B', 'get_weather', { city: 'Tokyo' }],
    ]);
    expect(chat.anomalies).toEqual([]);
  });

  it('builds a tool-call completion with null content', () => {
    const body = chatCompletion({
      model: 'gpt-4o',
      toolCalls: [{ id: 'call_1', name: 'f', arguments: '{}' }],
      usage: { prompt_tokens: 7, completion_tokens: 3 },
    });
    expect(body.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        refusal: null,
        annotations: [],
      },
      logprobs: null,
      finish_reason: 'tool_calls',
    });
    expect(body.usage.total_tokens).toBe(10);
    expect(Object.keys(body)).toEqual([
      'id',
      'object',
      'created',
      'model',
      'choices',
      'usage',
      'service_tier',
      'system_fingerprint',
    ]);
  });
});

describe('mock OpenAI: scripted streams and broken connections', () => {
  it('delivers each write separately, cut at splitAt offsets even inside a character', async () => {
    const m = await mock();
    const text = 'data: {"t":"café"}\n\ndata: [DONE]\n\n';
    const cutInsideE = Buffer.from('data: {"t":"caf').length + 1;
    m.script({ sse: [text], splitAt: [5, cutInsideE], delayMs: 60 });

    const read = await postSse(`${m.url}/chat/completions`, { model: 'm', messages: HI });
    const all = Buffer.from(text);
    expect(read.reads).toEqual([
      all.subarray(0, 5),
      all.subarray(5, cutInsideE),
      all.subarray(cutInsideE),
    ]);
    expect(read.reads[1].at(-1)).toBe(0xc3); // first byte of é
    expect(read.events[0].data).toBe('{"t":"café"}');
    expect(read.done).toBe(true);
  });

  it('waits before headers and before the first write', async () => {
    const m = await mock();
    m.script({ delayBeforeHeadersMs: 150 });
    m.script({ sse: ['data: x\n\n'], firstWriteDelayMs: 150 });

    let start = performance.now();
    await postJson(`${m.url}/chat/completions`, { model: 'm', messages: HI });
    expect(performance.now() - start).toBeGreaterThanOrEqual(140);

    start = performance.now();
    const read = await postSse(`${m.url}/chat/completions`, { model: 'm', messages: HI });
    expect(performance.now() - start).toBeGreaterThanOrEqual(140);
    expect(read.events).toEqual([{ event: 'message', data: 'x', id: undefined }]);
  });

  it('ends with destroy: the client sees an error and keeps what arrived', async () => {
    const m = await mock();
    const lines = chatStream({ model: 'gpt-4o', pieces: ['Hel', 'lo'] });
    m.script({ sse: lines.slice(0, 3), delayMs: 10, ending: 'destroy' });

    const error = await postSse(`${m.url}/chat/completions`, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SseReadError);
    const partial = (error as SseReadError).partial;
    expect(partial.done).toBe(false);
    expect(reassembleChat(chunksOf(partial))).toMatchObject({
      content: 'Hello',
      finishReason: null,
    });
    expect(m.requests[0].clientAborted).toBe(false);
  });

  it('ends with destroy as a FIN without the terminating chunk, and reset as an RST', async () => {
    const m = await mock();
    m.script(
      { sse: ['data: a\n\n'], ending: 'destroy', delayMs: 100 },
      { sse: ['data: a\n\n'], ending: 'reset', delayMs: 100 },
    );

    const destroyed = await rawTcpOutcome(m.port);
    expect(destroyed.ending).toBe('fin');
    expect(destroyed.bytes).toContain('data: a');
    expect(destroyed.bytes.endsWith('0\r\n\r\n')).toBe(false);

    const reset = await rawTcpOutcome(m.port);
    expect(reset.ending).toBe('ECONNRESET');
  });

  it('rejects a reset stream on the client side', async () => {
    const m = await mock();
    m.script({ sse: ['data: a\n\n'], ending: 'reset' });
    await expect(postSse(`${m.url}/chat/completions`, {})).rejects.toBeInstanceOf(Error);
  });

  it('hangs a stream until close(), then the client sees an error', async () => {
    const m = await startMockOpenAI();
    m.script({ sse: ['data: first\n\n'], ending: 'hang' });
    const pending = postSse(`${m.url}/chat/completions`, {}).catch((e: unknown) => e);
    await vi.waitFor(() => expect(m.requests).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 100));

    await m.close();
    const error = (await pending) as SseReadError;
    expect(error).toBeInstanceOf(SseReadError);
    expect(error.partial.events.map((e) => e.data)).toEqual(['first']);
  });

  it('hangs before headers and destroys before headers', async () => {
    const m = await mock();
    m.script({ hangBeforeHeaders: true }, { destroyBeforeHeaders: true });

    const hung = fetch(`${m.url}/chat/completions`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(200),
    });
    await expect(hung).rejects.toThrow(/abort|timeout/i);

    await expect(postJson(`${m.url}/chat/completions`, {})).rejects.toThrow();
  });

  it('marks a request the caller abandoned mid-stream', async () => {
    const m = await mock();
    m.script({ sse: ['data: first\n\n'], ending: 'hang' });
    const req = httpRequest(`${m.url}/chat/completions`, { method: 'POST' }, (res) => {
      res.once('data', () => req.destroy());
    });
    req.on('error', () => {});
    req.end('{}');

    await vi.waitFor(() => expect(m.requests[0]?.clientAborted).toBe(true));
  });
});

describe('mock OpenAI: strict mode answers with OpenAI bodies', () => {
  const url = (m: MockOpenAI) => `${m.url}/chat/completions`;

  it('rejects a missing Authorization header with the missing-key 401', async () => {
    const m = await mock({ strict: true });
    const res = await postJson(url(m), { model: 'gpt-4o', messages: HI }, {});
    expect(res.status).toBe(401);
    expect(res.json.error.message).toMatch(/^You didn't provide an API key\./);
    expect(res.json.error).toMatchObject({
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
  });

  it('rejects a wrong key with invalid_api_key and the key masked', async () => {
    const m = await mock({ expectApiKey: 'sk-right' });
    const res = await postJson(
      url(m),
      { model: 'gpt-4o', messages: HI },
      {
        authorization: 'Bearer sk-wrong-0123456789abcdef',
      },
    );
    expect(res.status).toBe(401);
    expect(res.json).toEqual({
      error: {
        message:
          'Incorrect API key provided: sk-wrong*************cdef. You can find your API ' +
          'key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
  });

  it('rejects max_tokens on o-series models and accepts max_completion_tokens', async () => {
    const m = await mock({ strict: true });
    m.script({ status: 200, json: { scripted: true } });

    const bad = await postJson(url(m), { model: 'o3-mini', messages: HI, max_tokens: 50 });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({
      error: {
        message:
          "Unsupported parameter: 'max_tokens' is not supported with this model. " +
          "Use 'max_completion_tokens' instead.",
        type: 'invalid_request_error',
        param: 'max_tokens',
        code: 'unsupported_parameter',
      },
    });
    expect(m.pending()).toBe(1); // a rejection does not consume the script

    const good = await postJson(url(m), {
      model: 'o3-mini',
      messages: HI,
      max_completion_tokens: 50,
    });
    expect(good.json).toEqual({ scripted: true });
    const gpt = await postJson(url(m), { model: 'gpt-4o', messages: HI, max_tokens: 50 });
    expect(gpt.status).toBe(200);
  });

  it('rejects a missing model, missing messages, five stops and invalid JSON', async () => {
    const m = await mock({ strict: true });

    const noModel = await postJson(url(m), { messages: HI });
    expect(noModel.json.error).toEqual({
      message: 'you must provide a model parameter',
      type: 'invalid_request_error',
      param: null,
      code: null,
    });

    const noMessages = await postJson(url(m), { model: 'gpt-4o' });
    expect(noMessages.json.error).toEqual({
      message: "Missing required parameter: 'messages'.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'missing_required_parameter',
    });

    const stops = await postJson(url(m), {
      model: 'gpt-4o',
      messages: HI,
      stop: ['a', 'b', 'c', 'd', 'e'],
    });
    expect(stops.status).toBe(400);
    expect(stops.json.error).toMatchObject({ param: 'stop', code: 'array_above_max_length' });
    expect(stops.json.error.message).toContain('but got an array with length 5 instead.');

    const garbage = await postJson(url(m), '{"model": ');
    expect(garbage.status).toBe(400);
    expect(garbage.json.error.message).toMatch(/^We could not parse the JSON body/);
  });
});

describe('mock OpenAI: Azure mode', () => {
  const azure = { apiVersion: '2024-10-21', apiKey: 'az-key', model: 'gpt-4o' };
  const path = '/openai/deployments/chat-prod/chat/completions?api-version=2024-10-21';

  it('serves the deployment route with the api-key header', async () => {
    const m = await mock({ azure });
    const res = await postJson(`${m.origin}${path}`, { messages: HI }, { 'api-key': 'az-key' });
    expect(res.status).toBe(200);
    expect(res.json.model).toBe('gpt-4o');
    expect(res.json.prompt_filter_results).toHaveLength(1);
    expect(m.requests[0].query).toEqual({ 'api-version': '2024-10-21' });
  });

  it('answers a wrong key with the Azure 401 body and a wrong version with 400', async () => {
    const m = await mock({ azure });
    const denied = await postJson(`${m.origin}${path}`, { messages: HI }, { 'api-key': 'nope' });
    expect(denied.status).toBe(401);
    expect(denied.json.error.code).toBe('401');
    expect(denied.json.error.message).toMatch(/^Access denied due to invalid subscription key/);

    const old = path.replace('2024-10-21', '2023-05-15');
    const version = await postJson(`${m.origin}${old}`, { messages: HI }, { 'api-key': 'az-key' });
    expect(version.status).toBe(400);
  });

  it('streams with the prompt-filter chunk first; filter annotations can be scripted', async () => {
    const m = await mock({ azure });
    const read = await postSse(
      `${m.origin}${path}`,
      { messages: HI, stream: true },
      {
        'api-key': 'az-key',
      },
    );
    const chunks = chunksOf(read) as any[];
    expect(chunks[0]).toMatchObject({ id: '', object: '', choices: [] });
    expect(chunks[0].prompt_filter_results).toHaveLength(1);
    expect(reassembleChat(chunks).content).toBe('Hello from the mock.');

    const annotation = JSON.parse(azureContentFilterEvent(5, 10).slice('data: '.length));
    expect(annotation.choices[0]).not.toHaveProperty('delta');
    expect(reassembleChat([annotation]).anomalies).toEqual(['chunk 0: choice 0 has no delta']);
  });
});

describe('SSE client', () => {
  it('parses comments, CRLF, multi-line data, named events and drops an unfinished event', () => {
    const text =
      ': ping\r\n\r\nevent: delta\r\ndata: a\r\ndata: b\r\nid: 7\r\n\r\nretry: 3000\n\n' +
      'data: [DONE]\n\ndata: {"half":';
    const parsed = parseSse(text);
    expect(parsed.events).toEqual([
      { event: 'delta', data: 'a\nb', id: '7' },
      { event: 'message', data: '[DONE]', id: '7' },
    ]);
    expect(parsed.comments).toEqual([' ping']);
    expect(parsed.done).toBe(true);
    expect(parsed.incomplete).toBe('data: {"half":');
  });

  it('flags a tool call glued from two calls at index 0', () => {
    const fragment = (id: string, args: string) => ({
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [
              { index: 0, id, type: 'function', function: { name: 'f', arguments: args } },
            ],
          },
          finish_reason: null,
        },
      ],
    });
    const chat = reassembleChat([fragment('toolu_A', '{"a":1}'), fragment('toolu_B', '{"b":2}')]);
    expect(chat.toolCalls).toHaveLength(1);
    expect(chat.toolCalls[0].arguments).toBe('{"a":1}{"b":2}');
    expect(chat.anomalies).toEqual(['chunk 1: tool call 0 got a second id toolu_B']);
  });
});

describe.skipIf(!specAvailable)(specSuite('OpenAI OpenAPI conformance'), () => {
  it('loads the spec once, with every schema keyword either validated or known inert', () => {
    const stats = loadSpec();
    expect(stats.openapi).toMatch(/^3\.1\./);
    expect(stats.ignoredKeywords.filter((k) => !k.startsWith('x-'))).toEqual([
      'discriminator',
      'example',
      'externalDocs',
      'max_items',
      'min_items',
      'optional',
      'xml',
    ]);
    expect(validator('CreateChatCompletionResponse')).toBe(
      validator('CreateChatCompletionResponse'),
    );
    expect(() => validator('NoSuchSchema')).toThrow(/no schema/);
  });

  it('passes a faithful completion and fails broken ones with paths listed', () => {
    const good = chatCompletion({ model: 'gpt-4o', content: 'hi' });
    expect(() => assertConforms('CreateChatCompletionResponse', good)).not.toThrow();

    const broken = structuredClone(good) as any;
    broken.choices[0].message.role = 'robot';
    delete broken.created;
    broken.object = 'chat.completion.chunk';
    expect(conformanceErrors('CreateChatCompletionResponse', broken)).toEqual([
      "/ must have required property 'created'",
      '/choices/0/message/role must be equal to one of the allowed values ["assistant"]',
      '/object must be equal to one of the allowed values ["chat.completion"]',
    ]);
    expect(() => assertConforms('CreateChatCompletionResponse', broken)).toThrow(
      /does not conform to CreateChatCompletionResponse \(3 errors\)/,
    );

    const badFinish = structuredClone(good) as any;
    badFinish.choices[0].finish_reason = 'done';
    expect(conformanceErrors('CreateChatCompletionResponse', badFinish)).toHaveLength(1);

    // tool_calls items are a oneOf with an OpenAPI discriminator: ignoring the hint must not
    // disable the oneOf itself.
    const tools = chatCompletion({ model: 'gpt-4o', toolCalls: [{ name: 'f', arguments: '{}' }] });
    const badTool = structuredClone(tools) as any;
    badTool.choices[0].message.tool_calls[0].type = 'robot';
    expect(conformanceErrors('CreateChatCompletionResponse', tools)).toEqual([]);
    expect(conformanceErrors('CreateChatCompletionResponse', badTool)).toContain(
      '/choices/0/message/tool_calls/0 must match exactly one schema in oneOf',
    );
  });

  it('reads 3.0-style nullable in the 3.1 file: null finish_reason and usage pass', () => {
    const chunk = {
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'gpt-4o',
      choices: [{ index: 0, delta: { content: 'x' }, logprobs: null, finish_reason: null }],
      usage: null,
    };
    expect(conformanceErrors('CreateChatCompletionStreamResponse', chunk)).toEqual([]);

    const wrong = { ...chunk, choices: [{ ...chunk.choices[0], finish_reason: 'done' }] };
    expect(conformanceErrors('CreateChatCompletionStreamResponse', wrong).length).toBeGreaterThan(
      0,
    );
    const asCompletion = { ...chunk, object: 'chat.completion' };
    expect(conformanceErrors('CreateChatCompletionStreamResponse', asCompletion)).toHaveLength(1);
  });

  it('accepts each chunk of default and tool-call streams, with and without usage', async () => {
    const m = await mock();
    const reads: SseRead[] = [];
    for (const stream_options of [undefined, { include_usage: true }]) {
      const body = { model: 'gpt-4o', messages: HI, stream: true, n: 2, stream_options };
      reads.push(await postSse(`${m.url}/chat/completions`, body));
    }
    const toolStream = chatStream({
      model: 'gpt-4o',
      toolCalls: [{ name: 'f', arguments: ['{"a"', ':1}'] }],
      includeUsage: true,
    });
    const chunks = [...reads.flatMap(chunksOf), ...chunksOf(parseSse(toolStream.join('')))];
    for (const chunk of chunks) assertConforms('CreateChatCompletionStreamResponse', chunk);
  });

  it('accepts default completions, model lists and OpenAI error bodies', async () => {
    const m = await mock({ strict: true });
    const res = await postJson(`${m.url}/chat/completions`, {
      model: 'gpt-4o',
      messages: HI,
      n: 2,
    });
    assertConforms('CreateChatCompletionResponse', res.json);
    const tools = chatCompletion({ model: 'gpt-4o', toolCalls: [{ name: 'f', arguments: '{}' }] });
    assertConforms('CreateChatCompletionResponse', tools);

    assertConforms(
      'ListModelsResponse',
      await (await fetch(`${m.url}/models`, { headers: AUTH })).json(),
    );

    const rejected = await postJson(`${m.url}/chat/completions`, {
      model: 'o1',
      messages: HI,
      max_tokens: 1,
    });
    assertConforms('ErrorResponse', rejected.json);
    const e = openaiErrors;
    for (const step of [
      e.missingApiKey(),
      e.invalidApiKey('sk-some-long-key-value'),
      e.contextLengthExceeded(),
      e.rateLimited(),
      e.insufficientQuota(),
      e.modelNotFound('gpt-x'),
      e.serverError(),
      e.overloaded(),
    ]) {
      assertConforms('ErrorResponse', step.json);
    }
    expect(conformanceErrors('ErrorResponse', { error: { message: 'x', type: 'y' } })).toEqual([
      "/error must have required property 'param'",
      "/error must have required property 'code'",
    ]);
  });
});
