// Header values with bytes outside ASCII, as a client sends them on the wire.

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { startTestSidecar, testPolicy, type TestSidecar } from '../support/sidecar.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** One GET /healthz carrying `requestId` as raw bytes; the answer's x-request-id. */
function echoedRequestId(url: string, requestId: Buffer): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        Buffer.concat([
          Buffer.from('GET /healthz HTTP/1.1\r\nHost: test\r\nx-request-id: '),
          requestId,
          Buffer.from('\r\nConnection: close\r\n\r\n'),
        ]),
      );
    });
    let received = '';
    socket.on('data', (data) => (received += data.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(/\r\nx-request-id: ([^\r]*)\r\n/i.exec(received)?.[1]));
  });
}

describe.each(['uws', 'node'] as const)('header bytes through the %s front', (http) => {
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

  it('keeps a sane client request id', async () => {
    expect(await echoedRequestId(sidecar.url, Buffer.from('abc-123'))).toBe('abc-123');
  });

  // Found by the breaker: the uWS parser trims bytes from 0x80 up at either end of a header
  // value as if they were spaces (a signed-char comparison), so "é-ü" reaches the handler
  // as "-", which passes the request-id check and is echoed and logged: README promises a
  // fresh UUID for an id that is not sane. The same trim lets "Bearer <key>\xff" through
  // as the key on uWS while node:http refuses it with 401. Below the handlers: no fix in
  // the front; README "Known limits" could say so.
  (http === 'uws' ? it.fails : it)(
    'answers an id with bytes outside ASCII at its ends with a fresh UUID',
    async () => {
      expect(await echoedRequestId(sidecar.url, Buffer.from('é-ü'))).toMatch(UUID);
      expect(await echoedRequestId(sidecar.url, Buffer.from([0xff, 0x61, 0x62]))).toMatch(UUID);
    },
  );
});
