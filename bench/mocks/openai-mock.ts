// A fast OpenAI-protocol chat provider for benchmarks. Every answer is built once at start,
// so a request costs one body scan and a few native writes: the mock must never be what a
// benchmark measures. Shapes follow the chat completion and chunk objects of
// https://platform.openai.com/docs/api-reference/chat (as of 2025).
//
//   node dist/bench/mocks/openai-mock.js [--port N] [--chunks 64]
//   prints {"port":N} on stdout once listening; SIGTERM stops it.

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type * as Uws from '@trufflesuite/uws-js-unofficial';
import { loadUws } from '../../sidecar/http/uws-front.js';

export interface OpenAIMockOptions {
  /** 0 picks a free port. The mock only ever listens on loopback. */
  port: number;
  /** Content chunks per streamed answer; the non-streamed answer holds the same text. */
  chunks: number;
}

export interface OpenAIMock {
  readonly port: number;
  close(): void;
}

const HOST = '127.0.0.1';
const MODEL = 'mock-gpt-4o-mini';
const CREATED = 1_700_000_000;
const PROMPT_TOKENS = 42;

const STREAM_KEY = Buffer.from('"stream"');
const INCLUDE_USAGE_KEY = Buffer.from('"include_usage"');
const TRUE = Buffer.from('true');

export interface Answers {
  json: Buffer;
  /** Role chunk, content chunks, finish chunk, `[DONE]`: SSE frames back to back. */
  stream: Buffer;
  /** The same with `"usage":null` on every chunk and the usage chunk before `[DONE]`. */
  streamWithUsage: Buffer;
  /**
   * Gives `answer` (one of the three) the next completion id and the current second as
   * `created`, in place, and returns it: every real completion has its own, and a proxy
   * that learns from one stream must not find the next one byte for byte the same. Write
   * an answer out before stamping it again.
   */
  stamp(answer: Buffer): Buffer;
}

/** The completion id's counter: this many digits after ID_PREFIX. */
const ID_DIGITS = 19;
const ID_PREFIX = 'chatcmpl-mockbench';

export function buildAnswers(chunks: number): Answers {
  const id = ID_PREFIX + '0'.repeat(ID_DIGITS);
  const tokens = Array.from({ length: chunks }, (_, i) => (i === 0 ? 'Token' : ` token${i}`));
  const usage = {
    prompt_tokens: PROMPT_TOKENS,
    completion_tokens: chunks,
    total_tokens: PROMPT_TOKENS + chunks,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
  // Field order as OpenAI sends them.
  const head = (object: string) => ({
    id,
    object,
    created: CREATED,
    model: MODEL,
    service_tier: 'default',
    system_fingerprint: 'fp_mockbench',
  });

  const json = {
    ...head('chat.completion'),
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: tokens.join(''), refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage,
  };

  const chunk = (delta: object, finish: string | null, withUsage: boolean): Buffer =>
    frame({
      ...head('chat.completion.chunk'),
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(withUsage ? { usage: null } : {}),
    });
  const streamFor = (withUsage: boolean): Buffer =>
    Buffer.concat([
      chunk({ role: 'assistant', content: '', refusal: null }, null, withUsage),
      ...tokens.map((content) => chunk({ content }, null, withUsage)),
      chunk({}, 'stop', withUsage),
      ...(withUsage ? [frame({ ...head('chat.completion.chunk'), choices: [], usage })] : []),
      Buffer.from('data: [DONE]\n\n'),
    ]);

  const answers = {
    json: Buffer.from(JSON.stringify(json)),
    stream: streamFor(false),
    streamWithUsage: streamFor(true),
  };
  return { ...answers, stamp: stamper(Object.values(answers), id) };
}

/**
 * Rewrites, in the buffer given, the digits of each occurrence of `id` with a counter and
 * those of each `"created":` with the current second. The places are found once; a stamp
 * is a few dozen small copies.
 */
function stamper(buffers: Buffer[], id: string): (answer: Buffer) => Buffer {
  const places = (bytes: Buffer, text: string, skip: number): number[] => {
    const found: number[] = [];
    for (let at = bytes.indexOf(text); at !== -1; at = bytes.indexOf(text, at + 1)) {
      found.push(at + skip);
    }
    return found;
  };
  const created = `"created":${CREATED}`;
  const idDigits = new Map(buffers.map((b) => [b, places(b, id, ID_PREFIX.length)]));
  const createdDigits = new Map(buffers.map((b) => [b, places(b, created, created.length - 10)]));
  let count = 0;
  return (answer) => {
    const digits = Buffer.from(String(++count).padStart(ID_DIGITS, '0'), 'latin1');
    const second = Buffer.from(String(Math.floor(Date.now() / 1000)), 'latin1');
    for (const at of idDigits.get(answer) ?? []) answer.set(digits, at);
    // Ten digits until the year 2286.
    if (second.length === 10)
      for (const at of createdDigits.get(answer) ?? []) answer.set(second, at);
    return answer;
  };
}

function frame(payload: object): Buffer {
  return Buffer.from(`data: ${JSON.stringify(payload)}\n\n`);
}

/**
 * True when `"key": true` occurs in the body. An unescaped `"key"` can only be a key or a
 * whole string value, so a match followed by a colon is the field; nesting is not checked,
 * which is good enough for the requests benchmarks send.
 */
export function flagIsTrue(body: Uint8Array, key: Buffer): boolean {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  for (let at = bytes.indexOf(key); at !== -1; at = bytes.indexOf(key, at + key.length)) {
    let i = skipSpace(bytes, at + key.length);
    if (bytes[i] !== 0x3a) continue;
    i = skipSpace(bytes, i + 1);
    return bytes.subarray(i, i + TRUE.length).equals(TRUE);
  }
  return false;
}

function skipSpace(bytes: Buffer, i: number): number {
  while (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09) i++;
  return i;
}

export function startOpenAIMock(opts: OpenAIMockOptions): Promise<OpenAIMock> {
  const uws = loadUws();
  if (uws instanceof Error) return Promise.reject(uws);
  const answers = buildAnswers(opts.chunks);
  const notFound = Buffer.from(
    JSON.stringify({
      error: { message: 'Unknown route.', type: 'invalid_request_error', param: null, code: null },
    }),
  );

  const chat = (res: Uws.HttpResponse): void => {
    res.onAborted(() => undefined); // required by uWS: the answer comes after we return
    const parts: Buffer[] = [];
    res.onData((chunk, isLast) => {
      // The chunk's memory is reused once we return: scan it in place when it is the
      // whole body (the usual case), copy it otherwise.
      if (!isLast) return void parts.push(Buffer.from(new Uint8Array(chunk)));
      const body =
        parts.length === 0
          ? new Uint8Array(chunk)
          : Buffer.concat([...parts, new Uint8Array(chunk)]);
      res.cork(() => answer(res, answers, body));
    });
  };

  const app = uws.App();
  app.post('/v1/chat/completions', chat);
  app.post('/chat/completions', chat);
  app.any('/*', (res) => {
    res.writeStatus('404 Not Found').writeHeader('content-type', 'application/json');
    res.end(notFound);
  });

  return new Promise((resolve, reject) => {
    app.listen(HOST, opts.port, (socket) => {
      if (!socket) return reject(new Error(`mock: cannot listen on ${HOST}:${opts.port}`));
      resolve({
        port: uws.us_socket_local_port(socket),
        close: () => uws.us_listen_socket_close(socket),
      });
    });
  });
}

// uWS copies what a write cannot send at once, so an answer may be stamped again once a
// write of it returned.
function answer(res: Uws.HttpResponse, answers: Answers, body: Uint8Array): void {
  res.writeStatus('200 OK').writeHeader('x-request-id', 'req_mockbench');
  if (!flagIsTrue(body, STREAM_KEY)) {
    res.writeHeader('content-type', 'application/json');
    res.end(answers.stamp(answers.json));
    return;
  }

  // The whole stream goes out as one HTTP chunk: a proxy sees every event arrive in one
  // burst, as from a fast model. One write per event would be closer to OpenAI's framing,
  // but it cost the mock ~5 us per event (3k streams/s on a core) and made it the bottleneck.
  res.writeHeader('content-type', 'text/event-stream; charset=utf-8');
  res.writeHeader('cache-control', 'no-cache');
  res.write(
    answers.stamp(flagIsTrue(body, INCLUDE_USAGE_KEY) ? answers.streamWithUsage : answers.stream),
  );
  res.end();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '0' }, chunks: { type: 'string', default: '64' } },
  });
  const mock = await startOpenAIMock({ port: Number(values.port), chunks: Number(values.chunks) });
  process.stdout.write(`${JSON.stringify({ port: mock.port })}\n`);
  process.on('SIGTERM', () => {
    mock.close();
    process.exit(0);
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`openai-mock: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
