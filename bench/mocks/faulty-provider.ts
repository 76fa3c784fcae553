// An OpenAI-protocol provider whose faults are set while it runs: a share of requests fail
// (503, reset before headers, or for streams an error event or a close before the first
// token), or the whole server goes down (connections refused). Seeded, so runs repeat.

import { createServer, type Server } from 'node:http';

export interface Faults {
  /** Share of requests that fail, 0..1. */
  failRate: number;
}

export interface FaultyProvider {
  readonly url: string;
  readonly faults: Faults;
  served: number;
  failed: number;
  /** Stops listening: new connections are refused, as for a provider that is down. */
  goDown(): Promise<void>;
  close(): Promise<void>;
}

const CHUNKS = 16;

function completion(model: string): string {
  return JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 },
  });
}

function stream(model: string): string {
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  let out = chunk({ role: 'assistant', content: '' }, null);
  for (let i = 0; i < CHUNKS; i++) out += chunk({ content: `t${i} ` }, null);
  out += chunk({}, 'stop');
  out += `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model, choices: [], usage: { prompt_tokens: 10, completion_tokens: CHUNKS, total_tokens: 10 + CHUNKS } })}\n\n`;
  return `${out}data: [DONE]\n\n`;
}

/** A small linear congruential generator: the same seed gives the same faults. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export async function startFaultyProvider(opts: {
  seed: number;
  delayMs: number;
}): Promise<FaultyProvider> {
  const random = seeded(opts.seed);
  const faults: Faults = { failRate: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        model: string;
        stream?: boolean;
      };
      const fail = random() < faults.failRate;
      const kind = Math.floor(random() * 3);
      setTimeout(() => {
        if (fail) {
          provider.failed++;
          if (kind === 0) {
            res.writeHead(503, { 'content-type': 'application/json' });
            res.end(
              '{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}',
            );
          } else if (kind === 1 || !body.stream) {
            res.socket?.destroy();
          } else {
            // 200, a role chunk, then an error event: a failure before the first token.
            res.writeHead(200, { 'content-type': 'text/event-stream' });
            res.end(
              `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })}\n\n` +
                'data: {"error":{"message":"overloaded","type":"server_error","code":"server_error"}}\n\n',
            );
          }
          return;
        }
        provider.served++;
        if (body.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(stream(body.model));
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(completion(body.model));
        }
      }, opts.delayMs);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  const provider: FaultyProvider = {
    url: `http://127.0.0.1:${port}/v1`,
    faults,
    served: 0,
    failed: 0,
    goDown: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    close: async () => {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
  return provider;
}
