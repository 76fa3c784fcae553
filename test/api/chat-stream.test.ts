import { describe, expect, it } from 'vitest';
import { StreamRelay } from '../../sidecar/api/chat-stream.js';
import type { RequestContext } from '../../sidecar/api/context.js';
import type { HttpReply } from '../../sidecar/http/types.js';
import { OpenAIStreamDecoder } from '../../sidecar/providers/openai/stream-decoder.js';
import { chatStream } from '../support/mock-openai.js';

/** Decoder and relay over one read; what the reply was handed, as views, not copies. */
function relayOneRead(read: Buffer, clientWantsUsage: boolean): Uint8Array[] {
  const handed: Uint8Array[] = [];
  const reply: HttpReply = {
    aborted: false,
    onAbort() {},
    send() {
      throw new Error('send() on a stream');
    },
    startStream() {},
    write(chunk) {
      handed.push(chunk);
    },
    end(last) {
      if (last !== undefined) handed.push(last);
    },
  };
  const ctx = { status: 0 } as unknown as RequestContext;
  const relay = new StreamRelay({ reply, ctx, headers: [], clientWantsUsage, choices: 1 });
  const decoder = new OpenAIStreamDecoder({ providerId: 'p', secrets: [] });
  for (const item of decoder.push(read)) relay.handle(item);
  void relay.flush();
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

    const handed: Buffer[] = [];
    const reply: HttpReply = {
      aborted: false,
      onAbort() {},
      send() {
        throw new Error('send() on a stream');
      },
      startStream() {},
      write(chunk) {
        handed.push(Buffer.from(chunk));
      },
      end(last) {
        if (last !== undefined) handed.push(Buffer.from(last));
      },
    };
    const ctx = { status: 0 } as unknown as RequestContext;
    const relay = new StreamRelay({ reply, ctx, headers: [], clientWantsUsage: true, choices: 1 });
    const decoder = new OpenAIStreamDecoder({ providerId: 'p', secrets: [] });
    for (const bytes of [role, rest]) {
      scratch.fill(0x78);
      bytes.copy(scratch);
      for (const item of decoder.push(scratch.subarray(0, bytes.length))) relay.handle(item);
      void relay.flush();
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
