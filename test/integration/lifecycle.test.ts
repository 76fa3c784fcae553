import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeHandler } from '../../sidecar/compose.js';
import type { HttpReply } from '../../sidecar/http/types.js';
import { memoryLogger } from '../../sidecar/observe/logger.js';
import { itConforms, recordConformance } from '../support/conformance.js';
import { chatStream, startMockOpenAI, type MockOpenAI } from '../support/mock-openai.js';
import { RawConnection } from '../support/raw-http.js';
import { postSse, reassembleChat, chunksOf, parseSse } from '../support/sse-client.js';
import { eventually, startTestSidecar, testPolicy, type TestSidecar } from '../support/sidecar.js';

const MAIN = resolve(import.meta.dirname, '../../dist/sidecar/main.js');

/**
 * Records each chunk of a stream, and its error event, for the conformance check of the
 * running test (declared with itConforms). /healthz answers are not OpenAI's: never recorded.
 */
function recordStream(events: Parameters<typeof chunksOf>[0]): void {
  for (const chunk of chunksOf(events)) {
    const failed = (chunk as { error?: unknown }).error !== undefined;
    recordConformance(failed ? 'ErrorResponse' : 'CreateChatCompletionStreamResponse', chunk);
  }
}

/** A request as the HTTP fronts hand it to the handler. */
const request = (method: string, path: string, body = '') => ({
  method,
  path,
  query: '',
  headers: new Map<string, string>(),
  body: Buffer.from(body),
});

/**
 * Starts a stream (the mock's next, scripted slow), and 100 ms into it a drain with a 5 s
 * deadline: the stream, and the drain's result.
 */
async function drainDuringStream(sidecar: TestSidecar) {
  const inFlight = postSse(`${sidecar.url}/v1/chat/completions`, {
    model: 'm',
    stream: true,
    messages: [{ role: 'user', content: 'hi' }],
  });
  await new Promise((r) => setTimeout(r, 100));
  return { inFlight, drained: sidecar.drain(5000) };
}

describe('draining', () => {
  let mock: MockOpenAI;
  beforeAll(async () => {
    mock = await startMockOpenAI();
  });
  afterAll(() => mock.close());

  itConforms('lets an in-flight stream finish while refusing new work', async () => {
    const sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }));
    mock.script({
      sse: chatStream({ model: 'm', pieces: ['slow ', 'but ', 'whole'] }),
      delayMs: 150,
    });
    const { inFlight, drained } = await drainDuringStream(sidecar);

    const refused = await fetch(`${sidecar.url}/healthz`).then(
      (r) => r.status,
      () => 'connection refused',
    );
    expect([503, 'connection refused']).toContain(refused);

    const res = await inFlight;
    expect(reassembleChat(chunksOf(res)).content).toBe('slow but whole');
    expect(res.done).toBe(true);
    recordStream(res);
    expect(await drained).toEqual({ clean: true });
  });

  itConforms('answers a HEAD probe on a kept-alive connection with 503 and no body', async () => {
    const sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }), 'uws');
    mock.script({ sse: chatStream({ model: 'm', pieces: ['held ', 'open'] }), delayMs: 150 });
    const probe = await RawConnection.open(sidecar.url);
    const headz = 'HEAD /healthz HTTP/1.1\r\nHost: test\r\n\r\n';
    try {
      const [before] = await probe.send([headz]);
      expect(before).toMatchObject({ status: 200, body: '' });
      expect(before!.headers.connection).toBeUndefined();

      const { inFlight, drained } = await drainDuringStream(sidecar);

      // send() fails on any byte after the head: the body a GET would have had.
      const [during] = await probe.send([headz]);
      expect(during!.status).toBe(503);
      expect(during!.headers['content-length']).toBe(
        String(Buffer.byteLength('{"status":"draining"}')),
      );
      // No close is promised that this uWS build could not keep (README, Known limits):
      // the connection stays, and its next request is refused the same way.
      expect(during!.headers.connection).toBeUndefined();
      const [again] = await probe.send([headz]);
      expect(again).toMatchObject({ status: 503, body: '' });

      recordStream(await inFlight);
      expect(await drained).toEqual({ clean: true });
    } finally {
      probe.close();
    }
  });

  itConforms("logs a drain's 503s (probe and refused request) at info, not error", async () => {
    const logger = memoryLogger('debug');
    const { handler } = await composeHandler({
      policy: testPolicy({ upstream: mock.url }),
      logger,
      env: {},
      isDraining: () => true,
    });
    const statuses: number[] = [];
    const bodies: string[] = [];
    const reply: HttpReply = {
      aborted: false,
      onAbort: () => {},
      send: (status, _headers, body) => {
        statuses.push(status);
        bodies.push(Buffer.from(body).toString());
      },
      startStream: () => {},
      write: () => {},
      end: () => {},
    };
    await handler(request('GET', '/healthz'), reply);
    await handler(request('POST', '/v1/chat/completions', '{"model":"m","messages":[]}'), reply);
    expect(statuses).toEqual([503, 503]);
    // The refused chat request's envelope (the probe's answer is the sidecar's own shape).
    recordConformance('ErrorResponse', JSON.parse(bodies[1]));
    const lines = logger.lines.filter((l) => l.msg === 'request');
    expect(lines.map((l) => [l.path, l.level, l.outcome, l.error_code])).toEqual([
      ['/healthz', 'info', 'rejected', 'GW_ERR_SERVER_DRAINING'],
      ['/v1/chat/completions', 'info', 'rejected', 'GW_ERR_SERVER_DRAINING'],
    ]);
  });

  itConforms(
    'does not count an attempt it cut at the drain deadline against the endpoint',
    async () => {
      const composed = await composeHandler({
        policy: testPolicy({ upstream: mock.url }),
        logger: memoryLogger('debug'),
        env: {},
        isDraining: () => false,
      });
      mock.script(
        { sse: chatStream({ model: 'm', pieces: ['fine'] }) },
        { sse: chatStream({ model: 'm', pieces: ['never'] }).slice(0, 2), ending: 'hang' },
      );
      let sent = '';
      const reply: HttpReply = {
        aborted: false,
        onAbort: () => {},
        send: (_status, _headers, body) => void (sent += Buffer.from(body).toString()),
        startStream: () => {},
        write: (chunk) => void (sent += Buffer.from(chunk).toString()),
        end: (last) => void (sent += last === undefined ? '' : Buffer.from(last).toString()),
      };
      const ask = JSON.stringify({
        model: 'alias-fast',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      });
      // A configured model (a pattern's endpoints are not counted at all): one good answer,
      // then one the drain cuts.
      await composed.handler(request('POST', '/v1/chat/completions', ask), reply);
      expect(sent).toContain('[DONE]');
      recordStream(parseSse(sent));
      sent = '';
      const done = composed.handler(request('POST', '/v1/chat/completions', ask), reply);
      await eventually(() => sent.includes('never'));
      for (const flag of composed.live) flag.abort('draining');
      await done;
      expect(sent).toContain('GW_ERR_SERVER_DRAINING');
      expect(composed.live.size).toBe(0);
      recordStream(parseSse(sent));

      sent = '';
      await composed.handler(request('GET', '/metrics'), reply);
      expect(sent).toContain('modelgate_responses_total');
      // The endpoint's row holds the good answer, and nothing else.
      expect(sent).toContain('modelgate_attempts_total{endpoint="up/gpt-4o-mini",outcome="ok"} 1');
      expect(sent).not.toMatch(/modelgate_attempts_total\{[^}]*outcome="(?!ok)/);
    },
  );

  itConforms(
    'at the deadline ends an open stream with an error event, then cuts what is left',
    async () => {
      const sidecar = await startTestSidecar(testPolicy({ upstream: mock.url }));
      // One stream past its first token, one still before it (only its role chunk came).
      mock.script(
        { sse: chatStream({ model: 'm', pieces: ['never'] }).slice(0, 2), ending: 'hang' },
        { sse: chatStream({ model: 'm', pieces: ['never'] }).slice(0, 1), ending: 'hang' },
      );
      const ask = () =>
        postSse(`${sidecar.url}/v1/chat/completions`, {
          model: 'm',
          stream: true,
          messages: [{ role: 'user', content: 'hi' }],
        });
      const committed = ask();
      await new Promise((r) => setTimeout(r, 50));
      const holding = ask();
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      expect(await sidecar.drain(300)).toEqual({ clean: false });
      expect(Date.now() - started).toBeLessThan(2000);

      const streamed = await committed;
      expect(streamed.status).toBe(200);
      expect(streamed.done).toBe(false);
      expect(
        reassembleChat(chunksOf(streamed).filter((c) => !(c as { error?: unknown }).error)).content,
      ).toBe('never');
      const last = JSON.parse(streamed.events.at(-1)!.data);
      expect(last.error.code).toBe('GW_ERR_SERVER_DRAINING');
      recordStream(streamed);

      const refused = await holding;
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.raw).error.code).toBe('GW_ERR_SERVER_DRAINING');
      recordConformance('ErrorResponse', JSON.parse(refused.raw));
      // As README's Known limits says: the cut stream is a stream error of the drain's.
      const cut = sidecar.requestLogs().find((l) => l.status === 200 && l.stream === true);
      expect(cut).toMatchObject({
        level: 'error',
        outcome: 'stream_error',
        error_code: 'GW_ERR_SERVER_DRAINING',
        error_detail: 'drain_deadline',
      });
      // The one cut before its first token failed too: an error, unlike a drain's refusals.
      const unanswered = sidecar.requestLogs().find((l) => l.status === 503);
      expect(unanswered).toMatchObject({
        level: 'error',
        outcome: 'upstream_error',
        error_code: 'GW_ERR_SERVER_DRAINING',
        error_detail: 'drain_deadline',
      });
    },
  );
});

describe('the modelgate command', () => {
  const built = existsSync(MAIN);
  const run = (args: string[], env: Record<string, string> = {}): ChildProcess =>
    spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const collect = (child: ChildProcess) => {
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    return { text: () => out, exited };
  };

  it('needs the build (npm run build) to have run', () => {
    expect(built, `${MAIN} is missing: run npm run build`).toBe(true);
  });

  it.runIf(built).each([
    [['start', '--bogus'], "Unknown option '--bogus'"],
    [['start', '--port', '-1'], "Option '--port' argument is ambiguous"],
    [['keys', 'new', '--nope'], "Unknown option '--nope'"],
    [['demo', '--port', '4000'], 'demo takes no arguments (got "--port")'],
  ])('refuses %j with one readable line and exit code 2, no stack trace', async (args, says) => {
    const child = collect(run(args));
    expect(await child.exited).toBe(2);
    expect(child.text()).toContain(`modelgate: ${says}`);
    expect(child.text()).not.toMatch(/\n\s+at /);
  });

  it.runIf(built).each([
    [
      ['start', '--port', '0x1F40'],
      {},
      '--port must be a whole number from 0 to 65535, got "0x1F40"',
    ],
    [['start', '--port', '1e3'], {}, '--port must be a whole number'],
    [['start', '--port', ''], {}, '--port must be a whole number'],
    [['start'], { MODELGATE_PORT: '80.5' }, 'MODELGATE_PORT must be a whole number'],
    [['start'], { MODELGATE_PORT: '70000' }, 'MODELGATE_PORT must be a whole number'],
  ])('refuses the port of %j %j as written', async (args, env, says) => {
    const child = collect(run(args, env));
    expect(await child.exited).toBe(2);
    expect(child.text()).toContain(`modelgate: ${says}`);
  });

  it.runIf(built)(
    'takes an empty MODELGATE_PORT as unset: the config file names the port',
    async () => {
      const free = await new Promise<number>((done) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as AddressInfo;
          probe.close(() => done(port));
        });
      });
      const dir = mkdtempSync(join(tmpdir(), 'modelgate-port-'));
      const config = join(dir, 'modelgate.yaml');
      writeFileSync(
        config,
        `listen: { host: 127.0.0.1, port: ${free} }\nproviders:\n  - { id: demo, protocol: demo }\n` +
          'models:\n  - { name: "demo/*", provider: demo, target: "*" }\n',
      );
      const child = run(['start', '--config', config], { MODELGATE_PORT: '' });
      const { text, exited } = collect(child);
      const until = Date.now() + 10_000;
      while (!/"msg":"listening"/.test(text()) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
      expect(text()).toContain(`"url":"http://127.0.0.1:${free}"`);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    },
  );

  // Without the build there is nothing to check: the test above fails instead.
  const itConformsIfBuilt = built ? itConforms : it.skip;

  itConformsIfBuilt(
    'starts on embedded defaults with the demo provider and drains on SIGTERM',
    async () => {
      const child = run(['start', '--port', '0']);
      const { text, exited } = collect(child);
      const until = Date.now() + 10_000;
      while (!/"msg":"listening"/.test(text()) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
      const url = /"url":"([^"]+)"/.exec(text())![1];
      expect(text()).toContain('no api_keys configured');
      // Started without npm start's heap option: the sidecar says which to use.
      expect(text()).toContain('"msg":"node runs with its default 16 MB semi-spaces"');
      expect(text()).toContain('"msg":"node runs with allocation-site pretenuring"');

      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'demo/echo', messages: [{ role: 'user', content: 'ping' }] }),
      });
      const body = await res.json();
      expect(body.choices[0].message.content).toContain('[modelgate demo provider] You said: ping');
      recordConformance('CreateChatCompletionResponse', body);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(text()).toContain('"msg":"stopped"');
    },
  );

  it.runIf(built)(
    'drains when SIGTERM reaches npm start, the README quickstart command, as a pod stop sends it',
    async () => {
      const root = resolve(import.meta.dirname, '../..');
      // npm runs the script through sh, which would die on the signal and leave the sidecar
      // serving on its own; the script execs node so the signal reaches the sidecar itself.
      const npm = spawn('npm', ['start', '--silent', '--', '--port', '0'], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const { text, exited } = collect(npm);
      const until = Date.now() + 15_000;
      while (!/"msg":"listening"/.test(text()) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
      const url = /"url":"([^"]+)"/.exec(text())![1];
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // npm start passes the V8 options, so no advice about them.
      expect(text()).not.toContain('default 16 MB semi-spaces');
      expect(text()).not.toContain('allocation-site pretenuring');

      npm.kill('SIGTERM');
      await exited;
      expect(text()).toContain('"msg":"stopped"');
      const gone = await fetch(`${url}/healthz`).then(
        () => 'still serving',
        () => 'gone',
      );
      expect(gone).toBe('gone');
    },
    20_000,
  );

  it.runIf(built)(
    'stops at once on a second signal, cutting what is in flight, with 128 + its number',
    async () => {
      // An upstream that takes the request and never answers: the drain would wait 30 s.
      const silent = createServer(() => {});
      const accepted = new Promise<void>((r) => silent.once('connection', () => r()));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const { port } = silent.address() as AddressInfo;
      const dir = mkdtempSync(join(tmpdir(), 'modelgate-signal-'));
      const config = join(dir, 'modelgate.yaml');
      writeFileSync(
        config,
        'listen: { host: 127.0.0.1, port: 0 }\nproviders:\n' +
          `  - { id: up, protocol: openai, base_url: "http://127.0.0.1:${port}/v1" }\n` +
          'models:\n  - { name: "*", provider: up, target: "*" }\n',
      );
      const child = run(['start', '--config', config]);
      const { text, exited } = collect(child);
      const until = Date.now() + 10_000;
      while (!/"msg":"listening"/.test(text()) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
      const url = /"url":"([^"]+)"/.exec(text())![1];
      const pending = fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      }).then(
        (res) => res.status,
        () => 'cut',
      );
      await accepted;

      child.kill('SIGINT');
      await eventually(() => text().includes('"msg":"draining"'), 5_000);
      const secondAt = Date.now();
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      // Well inside the 30 s drain deadline the first signal started.
      expect(Date.now() - secondAt).toBeLessThan(10_000);
      expect(text()).toContain('"msg":"stopped without finishing the drain","signal":"SIGINT"');
      expect(text()).not.toContain('"msg":"stopped","clean"');
      expect(await pending).toBe('cut');
      silent.close();
    },
    30_000,
  );

  it.runIf(built)('refuses to listen beyond loopback without API keys', async () => {
    const { text, exited } = collect(run(['start', '--host', '0.0.0.0', '--port', '0']));
    expect(await exited).toBe(2);
    expect(text()).toContain('refusing to listen on 0.0.0.0 without api_keys');
  });

  it.runIf(built)('refuses a bad config, naming every bad field, and leaks no secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'listen: { host: 127.0.0.1, port: 99999 }',
        'providers:',
        '  - { id: openai, protocol: openai, base_url: "ftp://x", api_key_env: OPENAI_API_KEY }',
        'models:',
        '  - { name: gpt, provider: opnai, target: gpt-4o }',
      ].join('\n'),
    );
    const { text, exited } = collect(
      run(['start', '--config', file], { OPENAI_API_KEY: 'sk-very-secret-123' }),
    );
    expect(await exited).toBe(2);
    expect(text()).toContain('listen.port');
    expect(text()).toContain('providers[0].base_url');
    expect(text()).toContain('models[0].provider');
    expect(text()).not.toContain('sk-very-secret-123');
  });

  it.runIf(built)(
    'runs the offline demo end to end',
    async () => {
      const { text, exited } = collect(run(['demo']));
      expect(await exited).toBe(0);
      expect(text()).toContain('HTTP 200  served by: demo/echo');
      expect(text()).toContain('GW_ERR_UPSTREAM_OVERLOADED');
    },
    20_000,
  );
});
