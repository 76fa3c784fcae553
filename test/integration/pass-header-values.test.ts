// x-pass-* headers whose value or name the upstream HTTP client cannot send. The client's
// mistake must come back as its own 400, never as the provider being unreachable (a 502
// that also counts against the provider's health).

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { pipelined } from '../support/raw-http.js';
import { startTestSidecar, testPolicy, type TestSidecar } from '../support/sidecar.js';

const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
const chat = (header: string): string =>
  'POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\ncontent-type: application/json\r\n' +
  `${header}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** Sends `request` one byte per character (Latin-1) and resolves when the answer's head came. */
function sendLatin1(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(Number(port), hostname, () => socket.write(request, 'latin1'));
    socket.on('data', (data) => {
      received += data.toString('latin1');
      if (received.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(received.slice(0, received.indexOf('\r\n')));
      }
    });
    socket.on('error', reject);
  });
}

// Found by the breaker: x-pass-expect reached undici, which refuses an Expect header, and
// a value with a character past one byte (as the uWS front decodes UTF-8) or a DEL was
// refused by undici too: each answered 502 GW_ERR_UPSTREAM_UNREACHABLE, "could not be
// reached", for a provider that was never asked.
describe.each(['uws', 'node'] as const)('x-pass-* values through the %s front', (http) => {
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

  it('drops x-pass-expect, as it drops hop-by-hop headers', async () => {
    const [answer] = await pipelined(sidecar.url, [chat('x-pass-expect: 100-continue')]);
    expect(answer.status).toBe(200);
    expect(mock.requests.at(-1)?.headers.expect).toBeUndefined();
  });

  it.each(['caf\u00e9 \u4e2d ok', 'caf\u00e9 ok'])(
    'relays the bytes of the UTF-8 value %j as they were sent',
    async (text) => {
      const [answer] = await pipelined(sidecar.url, [chat(`x-pass-x-note: ${text}`)]);
      expect(answer.status).toBe(200);
      const raw = mock.requests.at(-1)!.rawHeaders;
      const value = raw[raw.findIndex((h) => h.toLowerCase() === 'x-note') + 1];
      expect(Buffer.from(value, 'latin1').toString('utf8')).toBe(text);
    },
  );

  // A value that is not UTF-8 (Latin-1 "café", as an old client sends it): uWS decodes the
  // bytes as UTF-8 and the 0xE9 byte becomes U+FFFD, which leaves as EF BF BD. README says a
  // value goes upstream as the bytes the client sent. Below the handlers, as the trim of
  // bytes at a value's ends is (README, Known limits).
  (http === 'uws' ? it.fails : it)(
    'relays the bytes of a value that is not UTF-8 as they were sent',
    async () => {
      const status = await sendLatin1(sidecar.url, chat('x-pass-x-note: caf\u00e9 ok'));
      expect(status).toBe('HTTP/1.1 200 OK');
      const raw = mock.requests.at(-1)!.rawHeaders;
      const value = raw[raw.findIndex((h) => h.toLowerCase() === 'x-note') + 1];
      expect(Buffer.from(value, 'latin1')).toEqual(Buffer.from('caf\u00e9 ok', 'latin1'));
    },
  );

  it('refuses a value holding DEL with a 400 that names the header, and calls nobody', async () => {
    // node:http's parser refuses it itself, with an empty 400 (README, Known limits).
    const before = mock.requests.length;
    const [answer] = await pipelined(sidecar.url, [chat('x-pass-x-note: a\u007fb')]);
    expect(answer.status).toBe(400);
    if (http === 'uws') {
      expect(JSON.parse(answer.body).error).toMatchObject({
        code: 'GW_ERR_REQ_BAD_HEADER',
        param: 'x-pass-x-note',
      });
    }
    expect(mock.requests.length).toBe(before);
  });
});
