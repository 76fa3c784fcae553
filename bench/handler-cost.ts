// The sidecar's own JavaScript per chat request, without sockets: the real request handler
// (sidecar/compose.ts, as `modelgate start` builds it) around a stand-in transport that
// answers from the bench mock's own bytes, against a floor handler that only forwards those
// bytes through the same stand-ins. The latency bench says what a request costs on the
// wire; its run-to-run noise (±10% on a shared machine) hides changes of a few
// microseconds, which this one shows.
//
//   npx tsc -p tsconfig.json && node dist/bench/handler-cost.js [--rounds 7]

import { parseArgs } from 'node:util';
import { composeHandler } from '../sidecar/compose.js';
import { parseConfig } from '../sidecar/config/load.js';
import type { HeaderList, Handler, HttpReply, HttpRequest } from '../sidecar/http/types.js';
import { createLogger } from '../sidecar/observe/logger.js';
import type { Transport, UpstreamRequest, UpstreamResponse } from '../sidecar/providers/adapter.js';
import { buildAnswers } from './mocks/openai-mock.js';
import { requestBody } from './support/chat-requests.js';
import { median, modeLabel, type Mode } from './support/latency-report.js';
import { pinSelf } from './support/processes.js';
import { machine, repositoryState } from './support/provenance.js';
import { ROOT } from './support/rig.js';

const CHUNKS = 64;
/** Requests in flight at once, as wrk's 64 connections keep them in the latency bench. */
const CONCURRENCY = 64;
const REQUESTS_PER_ROUND = 20_000;
const WARMUP_ROUNDS = 2;
const MODES: readonly Mode[] = ['non-stream', 'stream'];

const answers = buildAnswers(CHUNKS);

/** Answers at once with the mock's bytes, in one read, as the mock sends them. */
class MockBytesTransport implements Transport {
  request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const stream = String(req.body).includes('"stream":true');
    // Each answer its own id and memory, as each read from a socket is.
    const bytes = Buffer.from(answers.stamp(stream ? answers.streamWithUsage : answers.json));
    let read = false;
    return Promise.resolve({
      status: 200,
      headers: {
        'content-type': stream ? 'text/event-stream; charset=utf-8' : 'application/json',
        'x-request-id': 'req_mockbench',
      },
      body: {
        [Symbol.asyncIterator]: () => ({
          next: () =>
            Promise.resolve(
              read
                ? { value: undefined, done: true }
                : ((read = true), { value: bytes, done: false }),
            ),
        }),
      },
      discard: () => {},
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Keeps the byte count and the status, as a socket would take them. */
class CountingReply implements HttpReply {
  aborted = false;
  status = 0;
  bytes = 0;
  onAbort(): void {}
  send(status: number, _headers: HeaderList, body: string | Uint8Array): void {
    this.status = status;
    this.bytes += body.length;
  }
  startStream(status: number): void {
    this.status = status;
  }
  write(chunk: Uint8Array): void {
    this.bytes += chunk.length;
  }
  end(last?: Uint8Array): void {
    if (last !== undefined) this.bytes += last.length;
  }
}

/** What a bare passthrough does with the same stand-ins: forward, read, answer. */
function floorHandler(transport: Transport): Handler {
  return async (req, reply) => {
    const res = await transport.request(
      { origin: 'http://mock', path: req.path, headers: {}, body: req.body },
      { cancel: undefined as never, firstByteTimeoutMs: 0, idleTimeoutMs: 0 },
    );
    const type = String(res.headers['content-type']);
    const headers: HeaderList = [['content-type', type]];
    if (!type.startsWith('text/event-stream')) {
      const parts: Uint8Array[] = [];
      for await (const part of res.body) parts.push(part);
      reply.send(200, headers, parts.length === 1 ? parts[0] : Buffer.concat(parts));
      return;
    }
    reply.startStream(200, headers);
    for await (const part of res.body) await reply.write(part);
    reply.end();
  };
}

async function sidecarHandler(transport: Transport): Promise<Handler> {
  const policy = parseConfig(
    [
      'providers:',
      '  - { id: mock, protocol: openai, base_url: "http://127.0.0.1:9/v1" }',
      'models:',
      '  - { name: "bench/*", provider: mock, target: "*" }',
    ].join('\n'),
    'yaml',
    'handler-cost.yaml',
  );
  // The line is built as for stdout; only the write itself is left out.
  const logger = createLogger({ level: 'info', write: () => {} });
  const composed = await composeHandler({
    policy,
    logger,
    env: {},
    isDraining: () => false,
    transport,
  });
  return composed.handler;
}

function chatRequest(mode: Mode): HttpRequest {
  const body = Buffer.from(requestBody(mode));
  return {
    method: 'POST',
    path: '/v1/chat/completions',
    query: '',
    headers: new Map([
      ['host', '127.0.0.1'],
      ['content-type', 'application/json'],
      ['content-length', String(body.length)],
    ]),
    body,
  };
}

/** CPU µs per request over one round, CONCURRENCY requests at a time; throws on a bad answer. */
async function round(handler: Handler, req: HttpRequest, expectBytes: number): Promise<number> {
  const before = process.cpuUsage();
  for (let done = 0; done < REQUESTS_PER_ROUND; done += CONCURRENCY) {
    const replies = Array.from({ length: CONCURRENCY }, () => new CountingReply());
    await Promise.all(replies.map((reply) => handler(req, reply)));
    const wrong = replies.find((r) => r.status !== 200 || r.bytes < expectBytes);
    if (wrong !== undefined) {
      throw new Error(`a ${wrong.status} answer of ${wrong.bytes} bytes (${expectBytes} expected)`);
    }
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / REQUESTS_PER_ROUND;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' } } });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a positive integer');
  let pinning = 'pinned to CPU 0';
  try {
    pinSelf(0);
  } catch (err) {
    pinning = `not pinned (${(err as Error).message})`;
  }

  const transport = new MockBytesTransport();
  const handlers = { floor: floorHandler(transport), sidecar: await sidecarHandler(transport) };
  const rows: string[] = [];
  for (const mode of MODES) {
    const req = chatRequest(mode);
    // The sidecar sends what the upstream sent; both must hand over at least that much.
    const expectBytes = (mode === 'stream' ? answers.streamWithUsage : answers.json).length;
    const cpu = { floor: [] as number[], sidecar: [] as number[] };
    for (let r = -WARMUP_ROUNDS; r < rounds; r++) {
      // Alternating within a round, so drift on the machine falls on both alike.
      for (const name of ['floor', 'sidecar'] as const) {
        const us = await round(handlers[name], req, expectBytes);
        if (r >= 0) cpu[name].push(us);
      }
    }
    const floor = median(cpu.floor);
    const sidecar = median(cpu.sidecar);
    const label = modeLabel(mode, CHUNKS);
    rows.push(
      `| ${label} | ${floor.toFixed(1)} | ${sidecar.toFixed(1)} | ` +
        `+${(sidecar - floor).toFixed(1)} | ${Math.min(...cpu.sidecar).toFixed(1)}–` +
        `${Math.max(...cpu.sidecar).toFixed(1)} |`,
    );
  }

  process.stdout.write(
    [
      `# The sidecar's own CPU per request, ${new Date().toISOString().slice(0, 10)}`,
      '',
      `- ${machine()}, ${pinning}; Node ${process.version}; ` +
        `repository at ${repositoryState(ROOT)}.`,
      `- ${rounds} rounds of ${REQUESTS_PER_ROUND} requests per handler and mode after ` +
        `${WARMUP_ROUNDS} warm-up rounds, ${CONCURRENCY} in flight; medians of rounds.`,
      '- Upstream: the bench mock\u2019s own answer bytes in one read (stream: role chunk, ' +
        `${CHUNKS} content chunks, finish, usage, [DONE]). No sockets: what remains is the ` +
        'handler\u2019s JavaScript, its allocations and their collection.',
      '',
      '| mode | floor µs/req | sidecar µs/req | sidecar − floor | sidecar range |',
      '|---|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`handler-cost: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
