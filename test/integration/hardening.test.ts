// Findings of an adversarial review, each pinned: requests that once crashed the process,
// injected response headers or grew its memory without bound.

import { connect } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicySchema, Protocol } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { composeHandler } from '../../sidecar/compose.js';
import { safeHeaderValue } from '../../sidecar/http/header-value.js';
import { startNodeFront } from '../../sidecar/http/node-front.js';
import type { HttpReply } from '../../sidecar/http/types.js';
import { loadUws, startUwsFront } from '../../sidecar/http/uws-front.js';
import { memoryLogger } from '../../sidecar/observe/logger.js';
import { startSidecar } from '../../sidecar/sidecar.js';
import { itConforms, recordConformance } from '../support/conformance.js';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { eventually, startTestSidecar, testPolicy, type TestSidecar } from '../support/sidecar.js';

// What the sidecar answered, recorded for the conformance check of the running test, which
// must be declared with itConforms.

async function errorOf(res: Response): Promise<any> {
  const json = await res.json();
  recordConformance('ErrorResponse', json);
  return json;
}

async function completionOf(res: Response): Promise<any> {
  const json = await res.json();
  recordConformance('CreateChatCompletionResponse', json);
  return json;
}

function rawRequest(port: number, head: string, body = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head + body));
    let text = '';
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.on('data', (d) => {
      text += d.toString();
      if (/\r\n\r\n[\s\S]*\}/.test(text)) socket.end();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.on('error', reject);
  });
}

describe.each(['uws', 'node'] as const)('hardening, %s front', (http) => {
  let mock: MockOpenAI;
  let sidecar: TestSidecar;
  const chat = (model: string) =>
    JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });

  beforeAll(async () => {
    mock = await startMockOpenAI();
    sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }), http);
  });
  afterAll(async () => {
    await sidecar.stop();
    await mock.close();
  });

  // The 400 itself comes from the HTTP parser, not in the envelope: the check is of the answer
  // that follows it.
  itConforms.each(['-1', 'abc', '5, 5', '1e3', '+5'])(
    'answers Content-Length %j with a 400 and keeps serving',
    async (length) => {
      const port = Number(new URL(sidecar.url).port);
      const head =
        'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${length}\r\n\r\n`;
      const answer = await rawRequest(port, head);
      // node:http answers 400; the uWS build's parser drops such a request's connection
      // without an answer (as it does for a bare CR in a header). Either way, no crash.
      if (http === 'node') expect(answer).toMatch(/^HTTP\/1\.1 400/);
      else expect(answer === '' || answer.startsWith('HTTP/1.1 400')).toBe(true);
      const next = await fetch(`${sidecar.url}/v1/chat/completions`, {
        method: 'POST',
        body: chat('m'),
      });
      expect(next.status).toBe(200);
      await completionOf(next);
    },
  );

  itConforms(
    'refuses a model name that would break a response header, before any upstream call',
    async () => {
      const before = mock.requests.length;
      const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
        method: 'POST',
        body: chat('demo/x\r\nSet-Cookie: session=evil'),
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect((await errorOf(res)).error).toMatchObject({
        code: 'GW_ERR_REQ_INVALID_FIELD',
        param: 'model',
      });
      expect(mock.requests.length).toBe(before);
    },
  );

  itConforms.each([
    ['a lone surrogate, streamed', 'x\\ud800', true],
    ['a lone surrogate', 'x\\udfff', false],
    ['a right-to-left override', 'x\\u202egpt', false],
    ['a line separator', 'x\\u2028y', true],
    ['a C1 control', 'x\\u0085y', false],
  ])(
    'refuses a model name with %s before any upstream call, and keeps serving',
    async (_, escaped, stream) => {
      const before = mock.requests.length;
      // Written as JSON escapes: a lone surrogate cannot be sent as UTF-8 at all.
      const body = `{"model":"${escaped}","stream":${stream},"messages":[{"role":"user","content":"hi"}]}`;
      const res = await fetch(`${sidecar.url}/v1/chat/completions`, { method: 'POST', body });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).error).toMatchObject({
        code: 'GW_ERR_REQ_INVALID_FIELD',
        param: 'model',
      });
      expect(mock.requests.length).toBe(before);
      const next = await fetch(`${sidecar.url}/v1/chat/completions`, {
        method: 'POST',
        body: chat('m'),
      });
      expect(next.status).toBe(200);
      await completionOf(next);
    },
  );

  itConforms.each(['%ff', '%00', '%E2%80%AE'])(
    'answers GET /v1/models/%s with a 400 in the envelope',
    async (id) => {
      const res = await fetch(`${sidecar.url}/v1/models/${id}`);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).error).toMatchObject({
        code: 'GW_ERR_REQ_INVALID_FIELD',
        param: 'model',
      });
    },
  );

  itConforms('quotes at most 200 characters of an unknown path in its 404', async () => {
    const res = await fetch(`${sidecar.url}/${'x'.repeat(5000)}`);
    expect(res.status).toBe(404);
    const { error } = await errorOf(res);
    expect(error.code).toBe('GW_ERR_ROUTE_NOT_FOUND');
    expect(error.message).toBe(`No route for GET /${'x'.repeat(199)}....`);
  });

  it('refuses to start a second sidecar on a port this one holds', async () => {
    const port = Number(new URL(sidecar.url).port);
    await expect(
      startSidecar({
        policy: testPolicy({ upstream: mock.url }),
        logger: memoryLogger('error'),
        http,
        port,
        env: {},
      }),
    ).rejects.toThrow(/in use|EADDRINUSE/);
    const still = await fetch(`${sidecar.url}/healthz`);
    expect(still.status).toBe(200);
  });

  itConforms('serves a non-ASCII model name with an encoded endpoint header', async () => {
    const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
      method: 'POST',
      body: chat('café☃'),
    });
    expect(res.status).toBe(200);
    await completionOf(res);
    expect(res.headers.get('x-modelgate-endpoint')).toBe(`up/${encodeURIComponent('café☃')}`);
  });

  itConforms('refuses JSON nested thousands deep with a 400, not a stack overflow', async () => {
    let schema = '{}';
    for (let i = 0; i < 5000; i++) schema = `{"type":"object","properties":{"a":${schema}}}`;
    const body = `{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${schema}}}]}`;
    const res = await fetch(`${sidecar.url}/v1/chat/completions`, { method: 'POST', body });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).error.code).toBe('GW_ERR_REQ_INVALID_FIELD');
  });

  it('does not grow /metrics with every model name a pattern accepts', async () => {
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
        method: 'POST',
        body: chat(`r${i}`),
      });
      await res.arrayBuffer();
    }
    const metrics = await (await fetch(`${sidecar.url}/metrics`)).text();
    expect(metrics).not.toContain('up/r49');
  });
});

describe('x-pass-* headers with a failover chain', () => {
  itConforms(
    'are refused: a caller credential must not reach every provider of the chain',
    async () => {
      const [a, b] = await Promise.all([startMockOpenAI(), startMockOpenAI()]);
      const sidecar = await startTestSidecar(
        create(PolicySchema, {
          providers: [
            { id: 'a', protocol: Protocol.OPENAI, baseUrl: a.url },
            { id: 'b', protocol: Protocol.OPENAI, baseUrl: b.url },
          ],
          classes: [
            {
              name: 'c',
              chain: [
                { provider: 'a', target: 'm' },
                { provider: 'b', target: 'm' },
              ],
            },
          ],
          models: [{ name: 'c', class: 'c' }],
        }),
      );
      try {
        const res = await fetch(`${sidecar.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'x-pass-authorization': 'Bearer sk-USER-OWN-KEY' },
          body: JSON.stringify({ model: 'c', messages: [{ role: 'user', content: 'hi' }] }),
        });
        expect(res.status).toBe(400);
        expect((await errorOf(res)).error.code).toBe('GW_ERR_REQ_UNSUPPORTED_PARAM');
        expect(a.requests.length + b.requests.length).toBe(0);
      } finally {
        await sidecar.stop();
        await Promise.all([a.close(), b.close()]);
      }
    },
  );
});

describe('safeHeaderValue', () => {
  it('keeps printable ASCII and percent-encodes everything else', () => {
    expect(safeHeaderValue('up/gpt-4o')).toBe('up/gpt-4o');
    expect(safeHeaderValue('a\r\nSet-Cookie: x')).toBe('a%0D%0ASet-Cookie: x');
    expect(safeHeaderValue('caf\u00e9\u0000')).toBe('caf%C3%A9%00');
  });

  it('never throws: a lone surrogate is written as U+FFFD', () => {
    expect(safeHeaderValue('up/x\ud800')).toBe('up/x%EF%BF%BD');
    expect(safeHeaderValue('\udc00\u2603')).toBe('%EF%BF%BD%E2%98%83');
  });
});

describe.each(['uws', 'node'] as const)('HttpReply.close on the %s front', (kind) => {
  it('cuts the connection, tells onAbort, and counts the request as done', async () => {
    let told = 0;
    const opts = {
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1024,
      reject: () => {},
      handler: (_req: unknown, reply: HttpReply) => {
        reply.onAbort(() => void told++);
        reply.close?.();
      },
    };
    const uws = loadUws();
    if (kind === 'uws' && uws instanceof Error) throw uws;
    const front =
      kind === 'uws'
        ? await startUwsFront(uws as Exclude<typeof uws, Error>, opts)
        : await startNodeFront(opts);
    try {
      await expect(fetch(`http://127.0.0.1:${front.port}/x`)).rejects.toThrow();
      await eventually(() => told === 1 && front.inFlight === 0);
      expect(told).toBe(1);
      expect(front.inFlight).toBe(0);
    } finally {
      front.stopListening();
      front.closeAll();
    }
  });
});

describe('a request whose failure cannot be answered', () => {
  it('is logged and its connection cut; the handler does not reject', async () => {
    const logger = memoryLogger('debug');
    const { handler } = await composeHandler({
      policy: testPolicy({ upstream: 'http://127.0.0.1:9' }),
      logger,
      env: {},
      isDraining: () => false,
    });
    let closed = 0;
    const reply: HttpReply = {
      aborted: false,
      onAbort: () => {},
      send: () => {
        throw new Error('the reply broke half-way');
      },
      startStream: () => {},
      write: () => {},
      end: () => {},
      close: () => void closed++,
    };
    const req = {
      method: 'GET',
      path: '/nowhere',
      query: '',
      headers: new Map(),
      body: Buffer.alloc(0),
    };
    await expect(Promise.resolve(handler(req, reply))).resolves.toBeUndefined();
    expect(closed).toBe(1);
    const line = logger.lines.find(
      (l) => l.msg === 'could not answer a failed request; closing its connection',
    );
    expect(line?.error).toContain('the reply broke half-way');
    expect(logger.lines.find((l) => l.msg === 'request')).toMatchObject({
      status: 500,
      outcome: 'internal_error',
    });
  });
});
