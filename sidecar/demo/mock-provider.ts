// A small OpenAI-protocol server on loopback for `modelgate demo`: it answers like the
// demo provider, and fails on purpose for models named "*-overloaded".

import { createServer, type Server } from 'node:http';
import { DemoTransport } from './demo-transport.js';

export interface MockProvider {
  readonly baseUrl: string;
  close(): Promise<void>;
}

export async function startMockProvider(): Promise<MockProvider> {
  const answers = new DemoTransport();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      if (req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Not found', type: 'invalid_request_error' } }));
        return;
      }
      if (String(JSON.parse(body.toString()).model).endsWith('-overloaded')) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: { message: 'The server is overloaded.', type: 'server_error', code: null },
          }),
        );
        return;
      }
      const answer = await answers.request({ origin: '', path: '', headers: {}, body });
      res.writeHead(answer.status, answer.headers as Record<string, string>);
      for await (const frame of answer.body) res.write(frame);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
