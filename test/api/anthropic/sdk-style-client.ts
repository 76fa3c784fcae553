import { request as httpRequest } from 'node:http';

// A client that reads /anthropic/v1/messages the way the Anthropic SDKs do, written for these
// tests (the SDK is not installed here). Streams are decoded line by line as they arrive:
// `event:` and `data:` fields, an event per blank line, `ping` skipped, `error` raised with
// its `error.type`. Events fold into a Message as MessageStream's accumulator folds them
// (anthropic-sdk-typescript src/lib/MessageStream.ts): message_start is the snapshot,
// blocks are pushed in order and deltas applied by index, and message_delta sets the stop
// and overwrites output_tokens plus every other usage field it carries.

export interface AnthropicMessage {
  id: string;
  type: string;
  role: string;
  model: string;
  content: Record<string, unknown>[];
  stop_reason: string | null;
  stop_sequence: string | null;
  usage: Record<string, number | null | undefined>;
}

export interface StreamedEvent {
  event: string;
  data: Record<string, unknown>;
}

export interface MessagesResult {
  status: number;
  headers: Record<string, string>;
  /** The parsed JSON body (non-stream answers and errors before a stream started). */
  body?: Record<string, unknown>;
  /** Stream events, in order, as the SDK yields them. */
  events: StreamedEvent[];
  /** The accumulated message (stream), or the body (non-stream success). */
  message?: AnthropicMessage;
  /** An `event: error` inside a stream: what the SDK would throw. */
  streamError?: { type: string; message: string };
  /** Whether a stream reached message_stop. */
  stopped: boolean;
}

export async function postMessages(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<MessagesResult> {
  const payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(payload.length),
          'anthropic-version': '2023-06-01',
          ...headers,
        },
      },
      (res) => {
        const flat: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        const result: MessagesResult = {
          status: res.statusCode ?? 0,
          headers: flat,
          events: [],
          stopped: false,
        };
        const isStream = (flat['content-type'] ?? '').startsWith('text/event-stream');
        const decoder = isStream ? new SseDecoder((e) => onEvent(result, e)) : undefined;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => (decoder ? decoder.push(chunk) : chunks.push(chunk)));
        const finish = () => {
          if (decoder) decoder.end();
          else {
            result.body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
            if (result.status === 200) result.message = result.body as unknown as AnthropicMessage;
          }
          resolve(result);
        };
        res.on('end', finish);
        // A connection cut mid-body still yields what arrived, as a partial read.
        res.on('error', finish);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function onEvent(result: MessagesResult, sse: { event: string; data: string }): void {
  if (sse.event === 'ping' || result.streamError) return;
  const data = JSON.parse(sse.data) as Record<string, unknown>;
  if (sse.event === 'error') {
    const error = data.error as { type: string; message: string };
    result.streamError = { type: error.type, message: error.message };
    return;
  }
  result.events.push({ event: sse.event, data });
  accumulate(result, data);
}

/** The SDK accumulator's rules, event by event. */
function accumulate(result: MessagesResult, event: Record<string, unknown>): void {
  if (event.type === 'message_start') {
    result.message = structuredClone(event.message) as AnthropicMessage;
    return;
  }
  const snapshot = result.message;
  if (!snapshot) throw new Error(`${String(event.type)} before message_start`);

  switch (event.type) {
    case 'content_block_start':
      snapshot.content.push({ ...(event.content_block as Record<string, unknown>) });
      return;
    case 'content_block_delta': {
      const block = snapshot.content[event.index as number];
      const delta = event.delta as Record<string, string>;
      if (delta.type === 'text_delta' && block?.type === 'text') {
        block.text = String(block.text ?? '') + delta.text;
      } else if (delta.type === 'input_json_delta' && block?.type === 'tool_use') {
        // The SDK parses partial JSON as it grows; whole JSON at the block's end is enough here.
        block.json = String(block.json ?? '') + delta.partial_json;
      } else if (delta.type === 'thinking_delta' && block?.type === 'thinking') {
        block.thinking = String(block.thinking) + delta.thinking;
      } else if (delta.type === 'signature_delta' && block?.type === 'thinking') {
        block.signature = delta.signature;
      }
      return;
    }
    case 'content_block_stop': {
      const block = snapshot.content[event.index as number];
      if (block?.json !== undefined) {
        block.input = JSON.parse(String(block.json)) as unknown;
        delete block.json;
      }
      return;
    }
    case 'message_delta': {
      const delta = event.delta as Record<string, string | null>;
      const usage = event.usage as Record<string, number | null | undefined>;
      snapshot.stop_reason = delta.stop_reason;
      snapshot.stop_sequence = delta.stop_sequence;
      snapshot.usage.output_tokens = usage.output_tokens;
      for (const key of [
        'input_tokens',
        'cache_creation_input_tokens',
        'cache_read_input_tokens',
      ]) {
        if (usage[key] != null) snapshot.usage[key] = usage[key];
      }
      return;
    }
    case 'message_stop':
      result.stopped = true;
      return;
  }
}

/** Incremental SSE decoding (WHATWG rules, as the SDK's decoder): lines, fields, blank line. */
class SseDecoder {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private readonly text = new TextDecoder();

  constructor(private readonly onEvent: (e: { event: string; data: string }) => void) {}

  push(bytes: Uint8Array): void {
    this.buffer += this.text.decode(bytes, { stream: true });
    let newline = this.buffer.search(/\r\n|\r|\n/);
    while (newline !== -1) {
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      this.line(this.buffer.slice(0, newline));
      this.buffer = this.buffer.slice(newline + width);
      newline = this.buffer.search(/\r\n|\r|\n/);
    }
  }

  end(): void {
    // An unterminated last event is dropped, as the rules say.
    this.buffer = '';
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.onEvent({ event: this.event, data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}
