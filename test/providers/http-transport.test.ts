import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransport } from '../../sidecar/providers/http-transport.js';
import type { UpstreamResponse } from '../../sidecar/providers/adapter.js';
import { Cancel } from '../../sidecar/providers/cancel.js';
import { cutAnswer, transportFailure } from '../../sidecar/providers/failures.js';
import { parseRateLimitHeaders } from '../../sidecar/health/rate-limit-headers.js';

// The undici transport against a real HTTP server on 127.0.0.1 port 0: what the sidecar
// reads of an answer (status, headers, every body byte in order) and how it lets go of one
// (abort before and after the headers, a reader that stops early, its first-byte and idle
// clocks).

type Route = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server | undefined;
let transport: HttpTransport | undefined;
const closed: string[] = [];

afterEach(async () => {
  await transport?.close();
  transport = undefined;
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
  closed.length = 0;
});

async function serve(route: Route): Promise<string> {
  server = createServer((req, res) => {
    res.on('close', () => {
      if (!res.writableFinished) closed.push(req.url ?? '');
    });
    route(req, res);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

function send(
  origin: string,
  path: string,
  cancel = new Cancel(),
  firstByteMs = 5_000,
  idleMs = 5_000,
) {
  transport ??= new HttpTransport({ connectTimeoutMs: 2_000, connections: 4 });
  return transport.request(
    { origin, path, headers: { 'content-type': 'application/json' }, body: '{"x":1}' },
    { cancel, firstByteTimeoutMs: firstByteMs, idleTimeoutMs: idleMs },
  );
}

async function readAll(res: UpstreamResponse): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of res.body) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('HttpTransport', () => {
  it('delivers status, the headers an answer is read for, and the whole body', async () => {
    const origin = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.writeHead(201, [
          ['Content-Type', 'application/json'],
          ['X-Request-Id', 'up-1'],
          ['X-RateLimit-Remaining-Requests', '59'],
          ['anthropic-ratelimit-tokens-reset', '2026-12-05T08:00:00Z'],
          ['Retry-After', '3'],
          ['Set-Cookie', 'a=1'],
          ['Constructor', 'plain'],
        ]);
        res.end(JSON.stringify({ echoed: body, path: req.url }));
      });
    });
    const res = await send(origin, '/v1/echo');
    expect(res.status).toBe(201);
    // An answer keeps what the sidecar reads from answers (request id, rate-limit
    // headroom, content type, in any case), and nothing else.
    expect({ ...res.headers }).toEqual({
      'content-type': 'application/json',
      'x-request-id': 'up-1',
      'x-ratelimit-remaining-requests': '59',
      'anthropic-ratelimit-tokens-reset': '2026-12-05T08:00:00Z',
      'retry-after': '3',
    });
    expect(JSON.parse((await readAll(res)).toString())).toEqual({
      echoed: '{"x":1}',
      path: '/v1/echo',
    });
  });

  it('keeps every header the rate-limit reader uses, OpenAI and Anthropic spellings', async () => {
    // What providers send on an answer, in the case they send it in.
    const openai: [string, string][] = [
      ['x-ratelimit-limit-requests', '500'],
      ['x-ratelimit-remaining-requests', '499'],
      ['x-ratelimit-reset-requests', '120ms'],
      ['x-ratelimit-limit-tokens', '30000'],
      ['x-ratelimit-remaining-tokens', '29000'],
      ['x-ratelimit-reset-tokens', '2s'],
      ['Retry-After-Ms', '1500'],
      ['Openai-Processing-Ms', '12'],
    ];
    const anthropic: [string, string][] = [
      ['anthropic-ratelimit-requests-limit', '50'],
      ['anthropic-ratelimit-requests-remaining', '49'],
      ['anthropic-ratelimit-requests-reset', '2026-12-05T08:00:01Z'],
      ['anthropic-ratelimit-tokens-remaining', '90000'],
      ['anthropic-ratelimit-input-tokens-remaining', '9000'],
      ['anthropic-ratelimit-output-tokens-remaining', '800'],
      ['anthropic-ratelimit-output-tokens-limit', '1000'],
      ['anthropic-ratelimit-output-tokens-reset', '2026-12-05T08:00:02Z'],
      ['Retry-After', '2'],
    ];
    const origin = await serve((req, res) => {
      const sent = req.url === '/openai' ? openai : anthropic;
      res.writeHead(200, [['content-type', 'application/json'], ...sent]);
      res.end('{}');
    });
    const now = Date.parse('2026-12-05T08:00:00Z');
    for (const [path, sent] of [
      ['/openai', openai],
      ['/anthropic', anthropic],
    ] as const) {
      const res = await send(origin, path);
      await readAll(res);
      const everything = Object.fromEntries(sent.map(([n, v]) => [n.toLowerCase(), v]));
      expect(parseRateLimitHeaders(res.headers, now), path).toEqual(
        parseRateLimitHeaders(everything, now),
      );
    }
    // And the comparison compares something: each set reads as its numbers.
    const [openaiRes, anthropicRes] = [
      await send(origin, '/openai'),
      await send(origin, '/anthropic'),
    ];
    expect(parseRateLimitHeaders(openaiRes.headers, now)).toMatchObject({
      requestsRemaining: 499,
      tokensRemaining: 29000,
      retryAfterMs: 1500,
    });
    expect(parseRateLimitHeaders(anthropicRes.headers, now)).toMatchObject({
      requestsRemaining: 49,
      requestsResetMs: 1000,
      tokensRemaining: 800,
      tokensLimit: 1000,
      retryAfterMs: 2000,
    });
    await Promise.all([readAll(openaiRes), readAll(anthropicRes)]);
  });

  it('delivers every header of an error answer, repeats gathered', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(429, [
        ['Content-Type', 'application/json'],
        ['X-Amzn-ErrorType', 'ThrottlingException:http://internal'],
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
        ['Constructor', 'plain'],
      ]);
      res.end('{"error":{"message":"slow down"}}');
    });
    const res = await send(origin, '/v1/echo');
    expect(res.status).toBe(429);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-amzn-errortype']).toBe('ThrottlingException:http://internal');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    // A header that shares a name with an Object.prototype member stays a plain string.
    expect(res.headers['constructor']).toBe('plain');
    expect((await readAll(res)).toString()).toBe('{"error":{"message":"slow down"}}');
  });

  it('waits past an informational 103 for the real answer', async () => {
    const origin = await serve((_req, res) => {
      res.writeEarlyHints({ link: '</x>; rel=preload' }, () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":1}');
      });
    });
    const res = await send(origin, '/hints');
    expect(res.status).toBe(200);
    expect((await readAll(res)).toString()).toBe('{"ok":1}');
  });

  it('keeps every byte in order when the reader is slower than the server', async () => {
    // 2 MiB in 64 KiB writes: far past the queue's high-water mark, so undici must pause
    // and be resumed as the reader catches up.
    const piece = (i: number) => Buffer.alloc(64 * 1024, i % 251);
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < 32; i++) res.write(piece(i));
      res.end();
    });
    const res = await send(origin, '/big');
    const parts: Uint8Array[] = [];
    for await (const chunk of res.body) {
      parts.push(chunk);
      if (parts.length % 4 === 0) await sleep(5);
    }
    const whole = Buffer.concat(parts);
    expect(whole.length).toBe(32 * 64 * 1024);
    for (let i = 0; i < 32; i++) expect(whole[i * 64 * 1024 + 100]).toBe(i % 251);
  });

  it('gathers a body of many reads in one piece with readAll, past the high-water mark', async () => {
    const piece = (i: number) => Buffer.alloc(64 * 1024, i % 251);
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let i = 0;
      // Spread over turns of the event loop, so the body arrives in many reads.
      const next = (): void => {
        if (i === 8) return void res.end();
        res.write(piece(i++));
        setImmediate(next);
      };
      next();
    });
    const res = await send(origin, '/whole');
    const whole = await res.readAll!(1 << 20);
    expect(whole?.length).toBe(8 * 64 * 1024);
    for (let i = 0; i < 8; i++) expect(whole![i * 64 * 1024 + 7]).toBe(i % 251);
  });

  it('gathers with readAll a body that filled the queue and paused before it was called', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(Buffer.alloc(1024 * 1024, 7));
    });
    const res = await send(origin, '/paused');
    // Long enough for undici to queue past the high-water mark and pause.
    await sleep(200);
    const whole = await res.readAll!(10 * 1024 * 1024);
    expect(whole?.length).toBe(1024 * 1024);
    expect(whole?.every((byte) => byte === 7)).toBe(true);
  });

  it('gives undefined from readAll past its limit, and closes that connection', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(Buffer.alloc(40_000, 1));
      setTimeout(() => res.write(Buffer.alloc(40_000, 2)), 20);
      // the rest never comes
    });
    const res = await send(origin, '/too-big');
    expect(await res.readAll!(50_000)).toBeUndefined();
    await expect.poll(() => closed).toEqual(['/too-big']);
  });

  it('fails readAll with the abort reason when aborted mid-body', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
    });
    const ctl = new Cancel();
    const res = await send(origin, '/cut', ctl);
    const whole = res.readAll!(1 << 20);
    await sleep(20);
    ctl.abort('total');
    await expect(whole).rejects.toBe('total');
  });

  it('rejects with the abort reason when aborted before the headers', async () => {
    const origin = await serve(() => {
      // never answers
    });
    const ctl = new Cancel();
    const pending = send(origin, '/slow', ctl);
    await sleep(50);
    ctl.abort('client');
    await expect(pending).rejects.toBe('client');
  });

  it('rejects at once when aborted while waiting for a free connection', async () => {
    const hung: ServerResponse[] = [];
    const origin = await serve((_req, res) => void hung.push(res)); // answers nothing
    transport = new HttpTransport({ connectTimeoutMs: 2_000, connections: 1 });
    const first = send(origin, '/hangs');
    first.catch(() => {}); // ends when the server is closed
    await sleep(50);
    // The pool's one connection is taken: this request waits for it, not yet on a socket.
    const ctl = new Cancel();
    const queued = send(origin, '/queued', ctl);
    await sleep(50);
    const t0 = performance.now();
    ctl.abort('client');
    await expect(queued).rejects.toBe('client');
    // At once: before, it waited for the busy connection (about 5 s here).
    expect(performance.now() - t0).toBeLessThan(1_000);
    // It never reaches the server, even once the connection frees up.
    hung[0]?.end('{}');
    await (await first).readAll?.(1024);
    await sleep(50);
    expect(hung).toHaveLength(1);
  });

  it('rejects at once when the signal was aborted before the call', async () => {
    const origin = await serve((_req, res) => res.end('{}'));
    const ctl = new Cancel();
    ctl.abort('total');
    await expect(send(origin, '/x', ctl)).rejects.toBe('total');
  });

  it('fails the body read when aborted mid-body, and closes that connection', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      // the rest never comes
    });
    const ctl = new Cancel();
    const res = await send(origin, '/stream', ctl);
    const iterator = res.body[Symbol.asyncIterator]();
    expect(Buffer.from((await iterator.next()).value as Uint8Array).toString()).toBe('data: 1\n\n');
    const next = iterator.next();
    ctl.abort('first_token');
    await expect(next).rejects.toBe('first_token');
    await expect.poll(() => closed).toEqual(['/stream']);
  });

  it('closes the connection when a reader stops early', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
    });
    const res = await send(origin, '/early');
    for await (const chunk of res.body) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    await expect.poll(() => closed).toEqual(['/early']);
  });

  it('times out a provider that sends no headers, and closes that connection', async () => {
    const origin = await serve(() => {
      // never answers
    });
    const started = Date.now();
    await expect(send(origin, '/late', undefined, 100)).rejects.toMatchObject({
      name: 'UpstreamTimeoutError',
      code: 'FIRST_BYTE_TIMEOUT',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    await expect.poll(() => closed).toEqual(['/late']);
  });

  it('times out a body that goes quiet, one idle timeout (and at most two ticks) after its last bytes', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      // the rest never comes
    });
    const started = Date.now(); // before the last bytes came
    const res = await send(origin, '/quiet', undefined, 5_000, 200);
    const iterator = res.body[Symbol.asyncIterator]();
    expect(Buffer.from((await iterator.next()).value as Uint8Array).toString()).toBe('data: 1\n\n');
    await expect(iterator.next()).rejects.toMatchObject({ code: 'IDLE_TIMEOUT' });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(195);
    expect(waited).toBeLessThan(1_000);
    await expect.poll(() => closed).toEqual(['/quiet']);
  });

  it('lets a slow body run past its idle timeout while bytes keep coming', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let sent = 0;
      const tick = setInterval(() => {
        res.write(`data: ${sent}\n\n`);
        if (++sent === 12) {
          clearInterval(tick);
          res.end();
        }
      }, 40);
    });
    // 12 chunks 40 ms apart: 480 ms in all, against an idle timeout of 100 ms.
    const body = (await readAll(await send(origin, '/slow', undefined, 5_000, 100))).toString();
    expect(body.match(/data: \d+\n\n/g)).toHaveLength(12);
  });

  it('does not time out a body the reader has paused, however long it waits', async () => {
    const size = 600 * 1024; // past the 256 KiB high-water mark: undici stops reading
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(size) });
      res.end(Buffer.alloc(size, 'a'));
    });
    const res = await send(origin, '/paused', undefined, 5_000, 100);
    await sleep(500); // five idle timeouts with nobody reading
    const body = await readAll(res);
    expect(body.length).toBe(size);
  });

  it('keeps the clocks of a request sent while close() waits for another', async () => {
    const slow = await serve((_req, res) => setTimeout(() => res.end('{}'), 200));
    const mute = createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    try {
      const first = send(slow, '/slow').then(readAll);
      await sleep(20);
      const closing = transport!.close(); // waits for /slow, about 200 ms
      const late = transport!.request(
        {
          origin: `http://127.0.0.1:${(mute.address() as AddressInfo).port}`,
          path: '/late',
          headers: {},
          body: '{}',
        },
        { cancel: new Cancel(), firstByteTimeoutMs: 300, idleTimeoutMs: 300 },
      );
      await closing;
      await first;
      await expect(late).rejects.toMatchObject({ code: 'FIRST_BYTE_TIMEOUT' });
    } finally {
      mute.closeAllConnections();
      await new Promise((resolve) => mute.close(resolve));
    }
  });

  it('reuses the connection for the next request once a body was read to its end', async () => {
    const ports = new Set<number>();
    const origin = await serve((req, res) => {
      ports.add(req.socket.remotePort ?? 0);
      res.end('{"ok":true}');
    });
    for (let i = 0; i < 3; i++) {
      expect((await readAll(await send(origin, '/k'))).toString()).toBe('{"ok":true}');
      // undici returns the socket to the pool just after the last byte is delivered
      await sleep(10);
    }
    expect(ports.size).toBe(1);
  });

  it.each([
    [
      'a header value undici will not write',
      { authorization: 'Bearer a\u0001b' },
      'UND_ERR_INVALID_ARG',
    ],
    ['a header undici does not support', { expect: '100-continue' }, 'UND_ERR_NOT_SUPPORTED'],
  ])(
    'refuses %s before sending a byte: an internal failure, not the provider',
    async (_, headers, code) => {
      let reached = 0;
      const origin = await serve((_req, res) => {
        reached++;
        res.end('{}');
      });
      transport = new HttpTransport({ connectTimeoutMs: 2_000, connections: 4 });
      const sent = transport.request(
        { origin, path: '/', headers, body: '{}' },
        { cancel: new Cancel(), firstByteTimeoutMs: 5_000, idleTimeoutMs: 5_000 },
      );
      const err = await sent.then(
        () => undefined,
        (e: unknown) => e,
      );

      expect((err as { code?: string }).code).toBe(code);
      expect(reached).toBe(0);
      const failure = transportFailure(err, 'p1');
      expect(failure.code).toBe('GW_ERR_INTERNAL');
      expect(failure.status).toBe(500);
      expect(failure.detail).toMatch(new RegExp(`^request_refused:${code}:`));
      expect(failure.detail).not.toContain('a\u0001b');
    },
  );

  it('fails the body read of an answer cut short of its Content-Length: a cut answer', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"id":"chatcmpl-1"', () => res.destroy());
    });
    const res = await send(origin, '/');
    const err = await readAll(res).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(err).toBeDefined();
    expect(cutAnswer(err, 'p1')).toMatchObject({
      code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
      status: 502,
      message: 'Provider "p1" closed the connection before its answer was complete.',
      detail: 'answer_cut:UND_ERR_SOCKET',
    });
  });
});
