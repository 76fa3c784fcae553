import { request as httpRequest, type IncomingMessage } from 'node:http';

// An SSE reader for asserting exactly what a client receives. It is deliberately independent of
// the gateway's own stream parser (sidecar/stream/) and deliberately simple: it buffers the
// whole body, then parses it by the WHATWG "event stream interpretation" rules.

export interface SseEvent {
  /** The `event:` field, or `message` when absent (the WHATWG default). */
  event: string;
  data: string;
  id?: string;
}

export interface SseParse {
  events: SseEvent[];
  /** Whether some event had exactly `data: [DONE]`. */
  done: boolean;
  /** Comment lines (`:` prefix) with the colon removed, e.g. keep-alive pings. */
  comments: string[];
  /** Text after the last blank line: an event cut off before its end, dropped by the rules. */
  incomplete: string;
}

export interface SseRead extends SseParse {
  /** The whole body decoded as UTF-8. */
  raw: string;
  /** The bytes of each read from the network, in order. */
  reads: Buffer[];
}

export interface SseResponse extends SseRead {
  status: number;
  headers: Record<string, string>;
}

/** A body that failed mid-way; `partial` holds what arrived before the failure. */
export class SseReadError extends Error {
  constructor(
    readonly partial: SseRead,
    cause: unknown,
  ) {
    super(`SSE body failed after ${partial.raw.length} chars: ${String(cause)}`, { cause });
    this.name = 'SseReadError';
  }
}

type ByteSource = IncomingMessage | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/**
 * Reads a response body to its end and parses it as SSE. Rejects with SseReadError when the
 * body ends abnormally (connection destroyed or reset, or a chunked body without its end).
 */
export async function readSse(source: ByteSource): Promise<SseRead> {
  const reads: Buffer[] = [];
  const result = (): SseRead => {
    const raw = Buffer.concat(reads).toString('utf8');
    return { ...parseSse(raw), raw, reads };
  };

  try {
    for await (const chunk of source as AsyncIterable<Uint8Array>) reads.push(Buffer.from(chunk));
    if ('complete' in source && !source.complete) throw new Error('response body incomplete');
  } catch (error) {
    throw new SseReadError(result(), error);
  }
  return result();
}

/** POSTs `body` as JSON over plain node:http and reads the answer as SSE. */
export function postSse(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<SseResponse> {
  const payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(payload.length),
          ...headers,
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const flat: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        readSse(res).then((read) => resolve({ ...read, status, headers: flat }), reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const LINE_END = /\r\n|\r|\n/g;

/** Parses a complete SSE text (WHATWG HTML, "Interpreting an event stream"). */
export function parseSse(text: string): SseParse {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  let eventStart = 0;

  // Only terminated lines count; whatever follows the last line end is an unfinished line.
  let lineStart = 0;
  for (const match of text.matchAll(LINE_END)) {
    const line = text.slice(lineStart, match.index);
    lineStart = match.index + match[0].length;

    if (line === '') {
      // Blank line: dispatch, unless no data line was seen (then only reset).
      if (data.length > 0) events.push({ event: event || 'message', data: data.join('\n'), id });
      data = [];
      event = '';
      eventStart = lineStart;
      continue;
    }
    if (line.startsWith(':')) {
      comments.push(line.slice(1));
      continue;
    }

    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);

    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
    // `retry` and unknown fields are ignored.
  }

  return {
    events,
    done: events.some((e) => e.data === '[DONE]'),
    comments,
    incomplete: text.slice(eventStart),
  };
}

/** The JSON payload of every event except `[DONE]`; throws naming the first that is not JSON. */
export function chunksOf(read: Pick<SseParse, 'events'>): unknown[] {
  return read.events
    .filter((e) => e.data !== '[DONE]')
    .map((e, i) => {
      try {
        return JSON.parse(e.data) as unknown;
      } catch {
        throw new Error(`SSE event ${i} is not JSON: ${e.data.slice(0, 200)}`);
      }
    });
}

// ---------------------------------------------------------------------------------------------
// Reassembling chat completion chunks the way OpenAI client libraries do.

export interface ReassembledToolCall {
  index: number;
  id?: string;
  type?: string;
  name: string;
  arguments: string;
  /** How many fragments carried this call. */
  fragments: number;
}

export interface ReassembledChoice {
  index: number;
  role?: string;
  /** Deltas in this choice that carried `role`. */
  roleChunks: number;
  content: string;
  refusal: string;
  toolCalls: ReassembledToolCall[];
  finishReason: string | null;
}

export interface ReassembledChat {
  id?: string;
  model?: string;
  chunks: number;
  /** Deltas across all choices that carried `role` (a faithful stream has one per choice). */
  roleChunks: number;
  choices: ReassembledChoice[];
  /** Shortcuts to choice 0. */
  content: string;
  toolCalls: ReassembledToolCall[];
  finishReason: string | null;
  usage: Record<string, unknown> | null;
  usageChunks: number;
  /** Departures from the OpenAI stream contract, in order; empty for a faithful stream. */
  anomalies: string[];
}

interface ChunkShape {
  id?: unknown;
  model?: unknown;
  choices?: unknown;
  usage?: unknown;
}

interface ChoiceShape {
  index?: unknown;
  delta?: {
    role?: unknown;
    content?: unknown;
    refusal?: unknown;
    tool_calls?: unknown;
  };
  finish_reason?: unknown;
}

interface ToolFragment {
  index?: unknown;
  id?: unknown;
  type?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

/** Folds `chat.completion.chunk` objects into messages; tool calls are keyed by `index`. */
export function reassembleChat(chunks: readonly unknown[]): ReassembledChat {
  const out: ReassembledChat = {
    chunks: chunks.length,
    roleChunks: 0,
    choices: [],
    content: '',
    toolCalls: [],
    finishReason: null,
    usage: null,
    usageChunks: 0,
    anomalies: [],
  };
  const choices = new Map<number, ReassembledChoice>();
  const calls = new Map<ReassembledChoice, Map<number, ReassembledToolCall>>();

  chunks.forEach((raw, n) => {
    const chunk = raw as ChunkShape;
    if (typeof chunk !== 'object' || chunk === null || !Array.isArray(chunk.choices)) {
      out.anomalies.push(`chunk ${n}: no choices array`);
      return;
    }
    if (typeof chunk.id === 'string' && chunk.id && out.id === undefined) out.id = chunk.id;
    if (typeof chunk.model === 'string' && chunk.model && !out.model) out.model = chunk.model;
    if (out.usage) out.anomalies.push(`chunk ${n}: arrives after the usage chunk`);

    if (chunk.usage) {
      out.usage = chunk.usage as Record<string, unknown>;
      out.usageChunks++;
      if (chunk.choices.length > 0) out.anomalies.push(`chunk ${n}: usage beside choices`);
    } else if (chunk.choices.length === 0) {
      out.anomalies.push(`chunk ${n}: empty choices without usage`);
    }

    for (const c of chunk.choices as ChoiceShape[]) {
      const index = typeof c.index === 'number' ? c.index : 0;
      let choice = choices.get(index);
      if (!choice) {
        choice = {
          index,
          roleChunks: 0,
          content: '',
          refusal: '',
          toolCalls: [],
          finishReason: null,
        };
        choices.set(index, choice);
        calls.set(choice, new Map());
      }
      if (!c.delta) {
        out.anomalies.push(`chunk ${n}: choice ${index} has no delta`);
        continue;
      }
      if (choice.finishReason !== null && Object.keys(c.delta).length > 0) {
        out.anomalies.push(`chunk ${n}: choice ${index} continues after finish_reason`);
      }

      const { delta } = c;
      if (delta.role !== undefined) {
        choice.role = String(delta.role);
        choice.roleChunks++;
        out.roleChunks++;
      }
      if (typeof delta.content === 'string') choice.content += delta.content;
      if (typeof delta.refusal === 'string') choice.refusal += delta.refusal;
      if (Array.isArray(delta.tool_calls)) {
        for (const fragment of delta.tool_calls as ToolFragment[]) {
          addFragment(calls.get(choice)!, fragment, `chunk ${n}`, out.anomalies);
        }
      }
      if (typeof c.finish_reason === 'string') choice.finishReason = c.finish_reason;
    }
  });

  out.choices = [...choices.values()].sort((a, b) => a.index - b.index);
  for (const choice of out.choices) {
    choice.toolCalls = [...calls.get(choice)!.values()].sort((a, b) => a.index - b.index);
  }
  const first = out.choices.find((c) => c.index === 0);
  out.content = first?.content ?? '';
  out.toolCalls = first?.toolCalls ?? [];
  out.finishReason = first?.finishReason ?? null;
  return out;
}

function addFragment(
  calls: Map<number, ReassembledToolCall>,
  fragment: ToolFragment,
  where: string,
  anomalies: string[],
): void {
  if (typeof fragment.index !== 'number') {
    anomalies.push(`${where}: tool call fragment without index`);
    return;
  }
  let call = calls.get(fragment.index);
  if (!call) {
    call = { index: fragment.index, name: '', arguments: '', fragments: 0 };
    calls.set(fragment.index, call);
  }
  call.fragments++;

  if (typeof fragment.id === 'string') {
    if (call.id !== undefined && call.id !== fragment.id) {
      anomalies.push(`${where}: tool call ${call.index} got a second id ${fragment.id}`);
    } else {
      call.id = fragment.id;
    }
  }
  if (typeof fragment.type === 'string') call.type = fragment.type;
  const name = fragment.function?.name;
  if (typeof name === 'string' && name !== call.name) {
    if (call.name) anomalies.push(`${where}: tool call ${call.index} renamed to ${name}`);
    call.name = name;
  }
  if (typeof fragment.function?.arguments === 'string') {
    call.arguments += fragment.function.arguments;
  }
}
