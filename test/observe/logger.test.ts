import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestContext } from '../../sidecar/api/context.js';
import { BATCH_LINES, BATCH_MS, createLogger } from '../../sidecar/observe/logger.js';

function context(path: string, model: string): RequestContext {
  const ctx = new RequestContext({
    method: 'POST',
    path,
    query: '',
    headers: new Map([['x-request-id', 'req-1']]),
    body: Buffer.alloc(0),
  });
  ctx.status = 200;
  ctx.model = model;
  ctx.usage = { promptTokens: 3, completionTokens: 4, totalTokens: 7, cachedTokens: 0 };
  ctx.attempts.push({ endpoint: 'a/m', ms: 5, result: 'upstream_503', decision: 'next' });
  ctx.attempts.push({ endpoint: 'b/m', ms: 7, result: 'ok' });
  ctx.finish();
  return ctx;
}

describe('the request log line', () => {
  it('is one JSON object whatever the client put in the path and model', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (l) => void lines.push(l) });
    const odd = 'm"\\\n\u0001\ud800 é';
    const ctx = context('/v1/"x"\\', odd);
    ctx.atMs = 0;
    logger.entry('info', 'request', ctx);
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('}\n')).toBe(true);
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'info',
      time: '1970-01-01T00:00:00.000Z',
      msg: 'request',
      request_id: 'req-1',
      path: '/v1/"x"\\',
      model: odd,
      status: 200,
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
      attempts: 2,
      failovers: [{ endpoint: 'a/m', ms: 5, result: 'upstream_503', decision: 'next' }],
    });
    // Zero counts and absent values are left out, not written as 0 or null.
    expect(line).not.toHaveProperty('cached_tokens');
    expect(line).not.toHaveProperty('ttft_ms');
    expect(line).not.toHaveProperty('key_id');
  });

  it('is not built below the logger level', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (l) => void lines.push(l) });
    expect(logger.enabled('info')).toBe(false);
    expect(logger.enabled('error')).toBe(true);
    const entry = { atMs: 0, fieldsJson: () => ',"x":1' };
    logger.entry('info', 'request', entry);
    logger.entry('error', 'request', entry);
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(['error']);
  });
});

describe('standard output batching', () => {
  /** What the logger writes to standard output, one string per write. */
  function captureStdout(): string[] {
    const writes: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    return writes;
  }

  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('waits 10 ms or 64 lines, as the README says', () => {
    expect(BATCH_MS).toBe(10);
    expect(BATCH_LINES).toBe(64);
  });

  it('writes lines together BATCH_MS (10 ms) after the first, and at once on flush', () => {
    vi.useFakeTimers();
    const writes = captureStdout();
    const logger = createLogger({ clock: () => 0 });
    logger.info('one');
    vi.advanceTimersByTime(1);
    logger.info('two');
    expect(writes).toEqual([]);
    // The wait counts from the first waiting line, not the last.
    vi.advanceTimersByTime(BATCH_MS - 2);
    expect(writes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(writes).toHaveLength(1);
    expect(
      writes[0]
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).msg),
    ).toEqual(['one', 'two']);
    logger.info('three');
    logger.flush();
    expect(writes).toHaveLength(2);
    expect(JSON.parse(writes[1]).msg).toBe('three');
  });

  it('writes at once when BATCH_LINES (64) lines wait, without waiting for the time', () => {
    vi.useFakeTimers();
    const writes = captureStdout();
    const logger = createLogger({ clock: () => 0 });
    for (let i = 1; i < BATCH_LINES; i++) logger.info(`line ${i}`);
    expect(writes).toEqual([]);
    logger.info(`line ${BATCH_LINES}`);
    expect(writes).toHaveLength(1);
    expect(writes[0].split('\n').filter(Boolean)).toHaveLength(BATCH_LINES);
    // The next line starts a new batch, with its own wait.
    logger.info('next');
    vi.advanceTimersByTime(BATCH_MS - 1);
    expect(writes).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(writes).toHaveLength(2);
    expect(JSON.parse(writes[1]).msg).toBe('next');
  });

  it('formats a request line when its batch goes out, with the time and latency of its end', async () => {
    const writes = captureStdout();
    const logger = createLogger();
    const ctx = context('/v1/chat/completions', 'm');
    ctx.atMs = Date.parse('2026-12-04T10:00:00.123Z');
    const latency = ctx.latencyMs;
    let formatted = 0;
    const fieldsJson = ctx.fieldsJson.bind(ctx);
    ctx.fieldsJson = () => {
      formatted++;
      return fieldsJson();
    };
    logger.info('before');
    logger.entry('info', 'request', ctx);
    logger.info('after');
    expect(formatted).toBe(0);
    await sleep(40);
    expect(formatted).toBe(1);
    const lines = writes
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.msg)).toEqual(['before', 'request', 'after']);
    expect(Object.keys(lines[1]).slice(0, 3)).toEqual(['level', 'time', 'msg']);
    expect(lines[1]).toMatchObject({
      level: 'info',
      time: '2026-12-04T10:00:00.123Z',
      request_id: 'req-1',
      latency_ms: latency,
    });
  });

  it('writes the rest of a batch when one request line cannot be built', async () => {
    const writes = captureStdout();
    const logger = createLogger();
    logger.entry('info', 'request', {
      atMs: 0,
      fieldsJson: () => {
        throw new Error('broken entry');
      },
    });
    logger.entry('info', 'request', { atMs: 0, fieldsJson: () => ',"x":1' });
    logger.flush();
    const lines = writes
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({ level: 'error', error: 'broken entry' }),
      expect.objectContaining({ level: 'info', msg: 'request', x: 1 }),
    ]);
  });
});
