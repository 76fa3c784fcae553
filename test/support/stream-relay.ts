// A stream decoder and the real StreamRelay, driven over a list of reads the way
// chat-attempt.ts drives them, with a reply that records what the client would receive.
// Shared by the stream decoder's adversarial and differential tests.

import type { StreamItem } from '../../sidecar/providers/adapter.js';
import { badFrame } from '../../sidecar/providers/failures.js';
import { classifyStreamError } from '../../sidecar/providers/openai/classify-error.js';
import { shapeOf } from '../../sidecar/providers/openai/shape.js';
import { readOpenAIUsage } from '../../sidecar/providers/openai/usage.js';
import { SseStreamDecoder } from '../../sidecar/providers/sse-decoder.js';
import { StreamRelay } from '../../sidecar/api/chat-stream.js';
import type { RequestContext } from '../../sidecar/api/context.js';
import type { HttpReply } from '../../sidecar/http/types.js';
import {
  DEFAULT_MAX_EVENT_BYTES,
  SseEventTooLargeError,
  type SseEvent,
} from '../../sidecar/stream/sse-parser.js';

export interface Decoderish {
  push(bytes: Uint8Array): StreamItem[];
  end(): { items: StreamItem[]; cut: boolean };
}

export interface RelayOptions {
  /** Choices the client asked for (n); 1 by default. */
  choices?: number;
  /** Whether the client asked for the usage chunk; true by default. */
  wantsUsage?: boolean;
}

export interface RelayOutcome {
  /** The bytes the client received, as latin1 text (byte-exact). */
  body: string;
  started: boolean;
  commits: number;
  usage: unknown;
  outcome: string;
  errorCode: string | undefined;
  errorDetail: string | undefined;
  failure: string | undefined;
  /** Item shapes up to and including the first with text: where the stream commits. */
  beforeText: string[];
}

/** Drives decoder + relay over these reads the way chat-attempt.ts does. */
export function relayStream(
  decoder: Decoderish,
  reads: readonly Uint8Array[],
  opts: RelayOptions = {},
): RelayOutcome {
  const written: Buffer[] = [];
  let started = false;
  let commits = 0;
  const reply: HttpReply = {
    aborted: false,
    onAbort() {},
    send() {
      throw new Error('send() on a stream');
    },
    startStream() {
      started = true;
    },
    // Copied at once: a forwarded run may be a view into the read buffer.
    write(chunk) {
      written.push(Buffer.from(chunk));
    },
    end(last) {
      if (last !== undefined) written.push(Buffer.from(last));
    },
  };
  const ctx = {
    usage: undefined,
    status: 0,
    outcome: 'ok',
    errorCode: undefined,
    errorDetail: undefined,
  } as unknown as RequestContext;
  const relay = new StreamRelay({
    reply,
    ctx,
    headers: [],
    clientWantsUsage: opts.wantsUsage ?? true,
    choices: opts.choices ?? 1,
    onCommit: () => commits++,
  });
  const beforeText: string[] = [];
  let sawText = false;
  const handle = (items: StreamItem[]) => {
    for (const item of items) {
      // Items after the relay ended (the rest of a read holding an error) are ignored.
      if (relay.ended) continue;
      if (!sawText) beforeText.push(item.kind === 'chunk' ? item.shape : item.kind);
      if (item.kind === 'frames' || (item.kind === 'chunk' && item.shape === 'content')) {
        sawText = true;
      }
      relay.handle(item);
    }
  };
  // flush() is async only for back-pressure; this reply never applies any, so its writes
  // happen synchronously (the promise it returns is dropped).
  const flush = () => void relay.flush();
  try {
    for (const bytes of reads) {
      if (relay.ended) break;
      handle(decoder.push(bytes));
      flush();
      if (relay.failure !== undefined) break;
    }
    if (!relay.ended) {
      const { items, cut } = decoder.end();
      handle(items);
      relay.upstreamEnded(cut);
      flush();
    }
  } catch (err) {
    // As chat-attempt.ts maps it; anything else thrown is a crash: let the test see it.
    if (!(err instanceof SseEventTooLargeError)) throw err;
    relay.fail({ code: err.code, status: 502, message: err.message, detail: 'event_too_large' });
    flush();
  }
  return {
    body: Buffer.concat(written).toString('latin1'),
    started,
    commits,
    usage: ctx.usage,
    outcome: ctx.outcome,
    errorCode: ctx.errorCode,
    errorDetail: ctx.errorDetail,
    failure: relay.failure === undefined ? undefined : relay.failure.code,
    beforeText,
  };
}

const CTX = { providerId: 'p', secrets: [] };

/**
 * A reference for an OpenAI-protocol stream with no string heuristics: the project's SSE
 * parser, then JSON.parse + shapeOf + readOpenAIUsage for each event; an oversized event
 * ends it as the decoder does. Provider id "p".
 */
export class ReferenceDecoder extends SseStreamDecoder {
  constructor(max = DEFAULT_MAX_EVENT_BYTES) {
    super(max);
  }

  protected onEvent(ev: SseEvent): void {
    if (ev.data === '[DONE]') return void this.items.push({ kind: 'done' });
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(ev.data) as Record<string, unknown>;
    } catch {
      return void this.items.push({ kind: 'error', failure: badFrame('p') });
    }
    if (typeof chunk !== 'object' || chunk === null || Array.isArray(chunk)) {
      return void this.items.push({ kind: 'error', failure: badFrame('p') });
    }
    // The provider's error, with or without choices beside it (OpenRouter sends both): an
    // object or some text. A null or empty one, as some servers send in every chunk, is not.
    const error = chunk.error;
    const failed =
      (typeof error === 'object' && error !== null) || (typeof error === 'string' && error !== '');
    if (ev.event === 'error' || failed) {
      return void this.items.push({ kind: 'error', failure: classifyStreamError(chunk, CTX) });
    }
    const { shape, finished } = shapeOf(chunk);
    const usage = readOpenAIUsage(chunk.usage);
    this.items.push({ kind: 'chunk', data: ev.data, shape, usage, finished });
  }
}

/** The stream cut at these offsets (any order, repeats and out-of-range ones ignored). */
export function splitAt(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const sorted = [...new Set(cuts)].filter((c) => c > 0 && c < stream.length).sort((a, b) => a - b);
  const reads: Buffer[] = [];
  let at = 0;
  for (const c of sorted) {
    reads.push(stream.subarray(at, c));
    at = c;
  }
  reads.push(stream.subarray(at));
  return reads;
}

const latin1 = (x: string | Uint8Array): string =>
  typeof x === 'string'
    ? `T:${x}`
    : `B:${Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('latin1')}`;

/** An item as everything about it that matters: kind, bytes (and whether text or bytes). */
export function norm(item: StreamItem): string {
  switch (item.kind) {
    case 'frames':
      return `frames ${latin1(item.frames)}`;
    case 'chunk':
      return [
        'chunk',
        item.shape,
        JSON.stringify(item.usage),
        JSON.stringify(item.finished),
        item.raw === undefined ? '-' : latin1(item.raw),
        item.data,
      ].join(' ');
    case 'done':
      return `done ${item.raw === undefined ? '-' : latin1(item.raw)}`;
    case 'error':
      return `error ${JSON.stringify(item.failure)}`;
  }
}

/** The items of every push (normalised at once: they may be views of the read), then end(). */
export function itemsOf(d: Decoderish, reads: readonly Uint8Array[]): string[][] {
  const out = reads.map((r) => d.push(r).map(norm));
  const { items, cut } = d.end();
  out.push([...items.map(norm), `cut=${cut}`]);
  return out;
}
