import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatStream, startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { eventually } from '../support/sidecar.js';

// A client that hangs up before its answer is logged with 499, nginx's "client closed
// request", which log pipelines count as the client's doing, not the gateway's. One that
// hangs up in the middle of a stream got a 200 status line: its line says 200. Read from the
// stdout of the built command, where an operator's pipeline reads it.

const MAIN = resolve(import.meta.dirname, '../../dist/sidecar/main.js');
const built = existsSync(MAIN);

const CHAT = (stream: boolean) =>
  JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'hi' }] });

function post(url: string, body: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((done, fail) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      done(socket);
    });
    socket.once('error', fail);
  });
}

describe.runIf(built)('the log line of a request whose client hung up', () => {
  let mock: MockOpenAI;
  let child: ChildProcess;
  let stdout = '';
  let url = '';

  const requestLines = () =>
    stdout
      .split('\n')
      .filter((line) => line.includes('"msg":"request"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeAll(async () => {
    mock = await startMockOpenAI();
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-abort-'));
    const config = join(dir, 'modelgate.yaml');
    writeFileSync(
      config,
      'listen: { host: 127.0.0.1, port: 0 }\n' +
        `providers:\n  - { id: up, protocol: openai, base_url: "${mock.url}", ` +
        'api_key_env: TEST_PROVIDER_KEY }\n' +
        'models:\n  - { name: "*", provider: up, target: "*" }\n',
    );
    child = spawn(process.execPath, [MAIN, 'start', '--config', config], {
      env: { PATH: process.env.PATH ?? '', TEST_PROVIDER_KEY: 'sk-test-abort' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout!.on('data', (d) => (stdout += d));
    await eventually(() => /"msg":"listening"/.test(stdout), 10_000);
    url = /"url":"([^"]+)"/.exec(stdout)![1];
  });
  afterAll(async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    await mock.close();
  });

  it('is 499 client_aborted when nothing had been sent yet', async () => {
    mock.script({ hangBeforeHeaders: true });
    const before = mock.requests.length;
    const socket = await post(url, CHAT(false));
    await eventually(() => mock.requests.length > before);
    socket.destroy();

    await eventually(() => requestLines().length > 0);
    const line = requestLines()[0];
    expect(line).toMatchObject({ status: 499, outcome: 'client_aborted', model: 'gpt-4o-mini' });
    expect(line.error_code).toBeUndefined();
    await eventually(() => mock.requests.at(-1)!.clientAborted);

    // /metrics counts it under the same status as the log line.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('modelgate_responses_total{status="499"} 1');
    expect(metrics).not.toContain('status="0"');
  });

  it('stays 200 client_aborted when the stream had started', async () => {
    const pieces = Array.from({ length: 40 }, (_, i) => ` w${i}`);
    mock.script({ sse: chatStream({ model: 'gpt-4o-mini', pieces }), delayMs: 50 });
    const socket = await post(url, CHAT(true));
    await new Promise<void>((r) => socket.once('data', () => r()));
    socket.destroy();

    const streamed = () => requestLines().find((line) => line.stream === true);
    await eventually(() => streamed() !== undefined, 5_000);
    expect(streamed()).toMatchObject({ status: 200, outcome: 'client_aborted' });
  });
});

it('needs the build (npm run build) for the client-abort log test', () => {
  expect(built, `${MAIN} is missing: run npm run build`).toBe(true);
});
