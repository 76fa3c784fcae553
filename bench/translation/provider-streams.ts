// The same answer streamed: 64 text deltas, the finish and the usage, in each provider's own
// framing, then cut into network reads. Event order and fields follow the providers' stream
// references and test/support/mock-*.ts.

import { converseEvent } from './eventstream-encoder.js';
import {
  bedrockUsage,
  cohereUsage,
  COMPLETION_TOKENS,
  CREATED_S,
  geminiUsage,
  IDS,
  MODELS,
  PIECES,
  PROMPT_TOKENS,
  type WireFormat,
} from './provider-answers.js';

type SseData = { type?: string; [key: string]: unknown };

const sse = (data: SseData, event?: string): string =>
  `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;

/** Role chunk, one chunk per piece, finish chunk, usage chunk, [DONE]: what OpenAI sends. */
function openai(): string[] {
  const chunk = (i: number, choices: object[], usage: object | null = null) =>
    sse({
      id: IDS.openai,
      object: 'chat.completion.chunk',
      created: CREATED_S,
      model: MODELS.openai,
      service_tier: 'default',
      system_fingerprint: 'fp_560af6e559',
      choices,
      // The sidecar asks for usage, so every chunk carries the key, null until the last.
      usage,
      // OpenAI pads chunks with random characters so their sizes do not leak the tokens.
      obfuscation: 'Xq3vT9kLm2Wp'.slice(0, 1 + ((i * 7) % 12)),
    });
  const choice = (delta: object, finish: string | null = null) => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });

  const events = [chunk(0, [choice({ role: 'assistant', content: '', refusal: null })])];
  PIECES.forEach((content, i) => events.push(chunk(i + 1, [choice({ content })])));
  events.push(chunk(PIECES.length + 1, [choice({}, 'stop')]));
  const usage = {
    prompt_tokens: PROMPT_TOKENS,
    completion_tokens: COMPLETION_TOKENS,
    total_tokens: PROMPT_TOKENS + COMPLETION_TOKENS,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  };
  events.push(chunk(PIECES.length + 2, [], usage));
  events.push('data: [DONE]\n\n');
  return events;
}

/** message_start, a text block with a ping after its start, message_delta, message_stop. */
function anthropic(): string[] {
  const send = (data: SseData & { type: string }) => sse(data, data.type);
  const usage = {
    input_tokens: PROMPT_TOKENS,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: 1,
    service_tier: 'standard',
  };
  const message = {
    id: IDS.anthropic,
    type: 'message',
    role: 'assistant',
    model: MODELS.anthropic,
  };
  const start = { ...message, content: [], stop_reason: null, stop_sequence: null, usage };
  return [
    send({ type: 'message_start', message: start }),
    send({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    send({ type: 'ping' }),
    ...PIECES.map((text) =>
      send({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }),
    ),
    send({ type: 'content_block_stop', index: 0 }),
    send({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: COMPLETION_TOKENS },
    }),
    send({ type: 'message_stop' }),
  ];
}

/**
 * `streamGenerateContent?alt=sse`: one whole response per event, CRLF line ends, the running
 * usage on every event; the last piece carries the finish reason and the final usage.
 */
function gemini(): string[] {
  return PIECES.map((text, i) => {
    const last = i === PIECES.length - 1;
    const response = {
      candidates: [
        {
          content: { parts: [{ text }], role: 'model' },
          ...(last ? { finishReason: 'STOP' } : {}),
          index: 0,
        },
      ],
      usageMetadata: geminiUsage(last ? COMPLETION_TOKENS : undefined),
      modelVersion: MODELS.gemini,
      responseId: IDS.gemini,
    };
    return `data: ${JSON.stringify(response)}\r\n\r\n`;
  });
}

/** message-start, a text content block, message-end with the finish reason and usage. */
function cohere(): string[] {
  const send = (data: SseData & { type: string }) => sse(data, data.type);
  const content = (index: number, type: string, message: object) =>
    send({ type, index, delta: { message } });
  return [
    send({ type: 'message-start', id: IDS.cohere, delta: { message: { role: 'assistant' } } }),
    content(0, 'content-start', { content: { type: 'text', text: '' } }),
    ...PIECES.map((text) => content(0, 'content-delta', { content: { text } })),
    send({ type: 'content-end', index: 0 }),
    send({
      type: 'message-end',
      delta: { finish_reason: 'COMPLETE', usage: cohereUsage() },
    }),
  ];
}

// Bedrock pads each event with a `p` field of varying length, so sizes do not leak content.
const pad = (i: number) => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0'.slice(0, 1 + i);

/** messageStart, text deltas (no contentBlockStart for text), block stop, messageStop, metadata. */
function bedrock(): Buffer[] {
  return [
    converseEvent('messageStart', { p: pad(17), role: 'assistant' }),
    ...PIECES.map((text, i) =>
      converseEvent('contentBlockDelta', {
        contentBlockIndex: 0,
        delta: { text },
        p: pad((i * 13) % 48),
      }),
    ),
    converseEvent('contentBlockStop', { contentBlockIndex: 0, p: pad(30) }),
    converseEvent('messageStop', { p: pad(5), stopReason: 'end_turn' }),
    converseEvent('metadata', {
      metrics: { latencyMs: 1184 },
      p: pad(11),
      usage: bedrockUsage(),
    }),
  ];
}

const STREAMS: Record<WireFormat, () => (string | Buffer)[]> = {
  openai,
  anthropic,
  gemini,
  bedrock,
  cohere,
};

/** The whole stream body as it comes off the wire, and how many events it holds. */
export function streamBody(format: WireFormat): { body: Buffer; events: number } {
  const events = STREAMS[format]();
  const body = Buffer.concat(events.map((e) => (typeof e === 'string' ? Buffer.from(e) : e)));
  return { body, events: events.length };
}

/** The body as a socket delivers it: pieces of `readBytes`, cut wherever they fall. */
export function networkReads(body: Buffer, readBytes: number): Buffer[] {
  const reads: Buffer[] = [];
  for (let at = 0; at < body.length; at += readBytes) {
    // Copies, as a socket hands out fresh buffers; a decoder may keep what it is given.
    reads.push(Buffer.from(body.subarray(at, at + readBytes)));
  }
  return reads;
}
