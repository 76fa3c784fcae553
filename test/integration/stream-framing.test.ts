import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeFront } from '../../sidecar/http/node-front.js';
import type { HttpReply, HttpRequest, RunningFront } from '../../sidecar/http/types.js';
import { loadUws, startUwsFront } from '../../sidecar/http/uws-front.js';

// How a streamed answer is framed on the wire by each front. A stream whose every byte is
// known at its first write (an upstream that sent it in one read) goes on the uWS front
// as one body of known length: one send, where a chunk and then the chunked terminator
// took two. A stream written in parts stays chunked. Either way a client on a kept-alive
// connection reads each answer whole and the next one after it.

const HEAD: [string, string][] = [['content-type', 'text/event-stream; charset=utf-8']];
const FIRST = 'data: {"n":1}\n\n';
const REST = 'data: {"n":2}\n\ndata: [DONE]\n\n';

function handler(req: HttpRequest, reply: HttpReply): void {
  reply.startStream(200, HEAD);
  if (req.path === '/whole') return reply.end(Buffer.from(FIRST + REST));
  void reply.write(Buffer.from(FIRST));
  setTimeout(() => reply.end(Buffer.from(REST)), 10);
}

interface Answer {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  socket: unknown;
}

function get(port: number, path: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (part: string) => (body += part));
      res.on('end', () => resolve({ headers: res.headers, body, socket: req.socket }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(['uws', 'node'] as const)('a streamed answer on the %s front', (kind) => {
  let front: RunningFront;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    const opts = { host: '127.0.0.1', port: 0, maxBodyBytes: 1024, reject: () => {}, handler };
    const uws = loadUws();
    if (kind === 'uws' && uws instanceof Error) throw uws;
    front =
      kind === 'uws'
        ? await startUwsFront(uws as Exclude<typeof uws, Error>, opts)
        : await startNodeFront(opts);
  });

  afterAll(() => {
    agent.destroy();
    front.stopListening();
    front.closeAll();
  });

  it('arrives whole when it was written in one piece, and when in parts', async () => {
    const whole = await get(front.port, '/whole', agent);
    const parts = await get(front.port, '/parts', agent);
    expect(whole.body).toBe(FIRST + REST);
    expect(parts.body).toBe(FIRST + REST);
    expect(whole.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(parts.headers['transfer-encoding']).toBe('chunked');
  });

  it('leaves the kept-alive connection fit for the next answer', async () => {
    const answers = [];
    for (const path of ['/whole', '/parts', '/whole', '/whole', '/parts']) {
      answers.push(await get(front.port, path, agent));
    }
    expect(answers.map((a) => a.body)).toEqual(Array(5).fill(FIRST + REST));
    expect(new Set(answers.map((a) => a.socket)).size).toBe(1);
  });

  if (kind === 'uws') {
    it('sends a stream known whole at its first write with its length, not chunked', async () => {
      const whole = await get(front.port, '/whole', agent);
      expect(whole.headers['content-length']).toBe(String(Buffer.byteLength(FIRST + REST)));
      expect(whole.headers['transfer-encoding']).toBeUndefined();
    });
  }
});
