import { describe, expect, it } from 'vitest';
import { StreamRelay } from '../../sidecar/api/chat-stream.js';
import type { RequestContext } from '../../sidecar/api/context.js';
import type { HttpReply } from '../../sidecar/http/types.js';
import { OpenAIStreamDecoder } from '../../sidecar/providers/openai/stream-decoder.js';
import { chatStream } from '../support/mock-openai.js';
import { relayStream } from '../support/stream-relay.js';

const cctx = { providerId: 'p', secrets: [] };

/**
 * An OpenAI decoder and a relay whose reply records what it was handed: as views of the
 * reads (to see what was copied), or as copies taken at once (to see the bytes as sent).
 */
function decoderAndRelay(clientWantsUsage: boolean, copy: boolean) {
  const handed: Uint8Array[] = [];
  const keep = (chunk: Uint8Array): void => void handed.push(copy ? Buffer.from(chunk) : chunk);
  const reply: HttpReply = {
    aborted: false,
    onAbort() {},
    send() {
      throw new Error('send() on a stream');
    },
    startStream() {},
    write: keep,
    end(last) {
      if (last !== undefined) keep(last);
    },
  };
  const ctx = { status: 0 } as unknown as RequestContext;
  const relay = new StreamRelay({ reply, ctx, headers: [], clientWantsUsage, choices: 1 });
  const decoder = new OpenAIStreamDecoder({ providerId: 'p', secrets: [] });
  /** Feeds one read and flushes what it completed. */
  const push = (read: Buffer) => {
    for (const item of decoder.push(read)) relay.handle(item);
    void relay.flush();
  };
  return { handed, push };
}

/** Decoder and relay over one read; what the reply was handed, as views, not copies. */
function relayOneRead(read: Buffer, clientWantsUsage: boolean): Uint8Array[] {
  const { handed, push } = decoderAndRelay(clientWantsUsage, false);
  push(read);
  return handed;
}

/** A read with a memory of its own (small Buffers share a pool, which would hide a copy). */
const stream = (): Buffer => {
  const text = chatStream({
    model: 'gpt-4o-mini',
    pieces: ['Hello', ' there', ', how', ' are', ' you', '?'],
    includeUsage: true,
  }).join('');
  return Buffer.from(new TextEncoder().encode(text).buffer);
};

describe('the stream relay', () => {
  it('hands over a read whose events all pass through as a view of that read, uncopied', () => {
    const read = stream();
    const handed = relayOneRead(read, true);

    expect(handed).toHaveLength(1);
    expect(handed[0].buffer).toBe(read.buffer);
    expect(Buffer.from(handed[0]).equals(read)).toBe(true);
  });

  it('keeps a chunk held before the first text intact when the next read reuses the memory', () => {
    const read = stream();
    const events = read.toString().split(/(?<=\n\n)/);
    const role = Buffer.from(events[0]);
    expect(role.toString()).toContain('"role":"assistant"');
    const rest = Buffer.from(events.slice(1).join(''));
    // One scratch buffer for both reads, as a transport that reuses its memory would do.
    const scratch = Buffer.alloc(read.length);

    const { handed, push } = decoderAndRelay(true, true);
    for (const bytes of [role, rest]) {
      scratch.fill(0x78);
      bytes.copy(scratch);
      push(scratch.subarray(0, bytes.length));
    }

    expect(Buffer.concat(handed).toString()).toBe(read.toString());
  });

  it('copies around the usage chunk a client did not ask for, and leaves it out', () => {
    const read = stream();
    const events = read.toString().split(/(?<=\n\n)/);
    const usage = events.filter((e) => e.includes('"prompt_tokens"'));
    expect(usage).toHaveLength(1);

    const handed = relayOneRead(read, false);

    expect(handed).toHaveLength(1);
    expect(handed[0].buffer).not.toBe(read.buffer);
    const expected = events.filter((e) => !e.includes('"prompt_tokens"')).join('');
    expect(Buffer.from(handed[0]).toString()).toBe(expected);
  });
});

describe('a stream that closes after its last finish, without [DONE]', () => {
  /** The mock's events up to and including the finish chunk: no usage chunk, no [DONE]. */
  const upToFinish = (): Buffer => {
    const events = chatStream({ model: 'm', pieces: ['Hi', ' there'], includeUsage: true });
    const finish = events.findIndex((e) => e.includes('"finish_reason":"stop"'));
    return Buffer.from(events.slice(0, finish + 1).join(''));
  };
  const withUsage = (): Buffer => {
    const events = chatStream({ model: 'm', pieces: ['Hi', ' there'], includeUsage: true });
    return Buffer.from(events.filter((e) => !e.includes('[DONE]')).join(''));
  };

  it('ends with an error event, not [DONE], when the usage the client asked for never came', () => {
    const out = relayStream(new OpenAIStreamDecoder(cctx), [upToFinish()], { wantsUsage: true });
    expect(out.body).toContain('Hi');
    expect(out.body).not.toContain('[DONE]');
    expect(out.body).toContain('"code":"GW_ERR_STREAM_INTERRUPTED"');
    expect(out.outcome).toBe('stream_interrupted');
    expect(out.errorDetail).toBe('eof_before_usage');
  });

  it('finishes the whole answer for a client that did not ask for usage, and logs why none', () => {
    const out = relayStream(new OpenAIStreamDecoder(cctx), [upToFinish()], { wantsUsage: false });
    expect(out.body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(out.body).not.toContain('"error"');
    expect(out.outcome).toBe('ok');
    expect(out.failure).toBe(undefined);
    expect(out.usage).toBe(undefined);
    expect(out.errorDetail).toBe('eof_before_usage');
  });

  it('ends cleanly on [DONE] without a usage chunk, and the log line says why no tokens', () => {
    const events = chatStream({ model: 'm', pieces: ['Hi'], includeUsage: false });
    const out = relayStream(new OpenAIStreamDecoder(cctx), [Buffer.from(events.join(''))], {
      wantsUsage: true,
    });
    expect(out.body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(out.failure).toBe(undefined);
    expect(out.outcome).toBe('ok');
    expect(out.usage).toBe(undefined);
    expect(out.errorDetail).toBe('done_without_usage');
  });

  it('adds only the missing [DONE] when the usage chunk came', () => {
    const out = relayStream(new OpenAIStreamDecoder(cctx), [withUsage()], { wantsUsage: true });
    expect(out.body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(out.failure).toBe(undefined);
    expect(out.errorDetail).toBe(undefined);
    expect(out.usage).toMatchObject({ promptTokens: expect.any(Number) });
  });
});
