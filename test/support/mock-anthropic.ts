import { randomBytes } from 'node:crypto';
import { sseEvent } from './mock-openai.js';
import {
  playStep,
  recordRequest,
  startMockServer,
  type JsonStep,
  type RecordedRequest,
  type ScriptStep,
  type StepStyle,
} from './mock-server.js';

// A scriptable stand-in for Anthropic's Messages API (POST /v1/messages), for integration
// tests. Bodies and events follow https://docs.anthropic.com/en/api/messages and
// .../messages-streaming. In strict mode (the default) it refuses what Anthropic refuses,
// with Anthropic's status and error body, so that a translation bug fails a test: unknown
// fields, a missing max_tokens, roles other than user/assistant, empty text, stop sequences
// without a visible character, unknown tool_choice types, tool results that do not answer
// the turn before, images whose bytes do not match their media type, and, with thinking
// on, a tool loop whose assistant turn does not start with its signed thinking block.
// Consecutive turns of one role are accepted: Anthropic documents that it merges them.

export type { RecordedRequest, ScriptStep } from './mock-openai.js';

export interface MockAnthropicOptions {
  /** Refuse requests Anthropic would refuse (default true). */
  strict?: boolean;
  /** The only x-api-key accepted; without it any non-empty key passes. */
  apiKey?: string;
  /** Text of default answers (default: "Hello from the mock."). */
  defaultText?: string;
}

export interface MockAnthropic {
  /** `http://127.0.0.1:<port>`, the base URL a client is given. */
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Queue responses, consumed one per accepted request, first in first out. */
  script(...steps: ScriptStep[]): void;
  pending(): number;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Faithful Anthropic bodies

export interface AnthropicUsageInit {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

/** A content block; in a stream, each element of an array is sent as its own delta. */
export type BlockInit =
  | { type: 'text'; text: string | readonly string[] }
  | { type: 'tool_use'; id: string; name: string; input: string | readonly string[] }
  | { type: 'thinking'; thinking: string | readonly string[]; signature: string }
  | { type: 'redacted_thinking'; data: string };

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

export interface MessageInit {
  model: string;
  blocks: readonly BlockInit[];
  stopReason?: StopReason;
  usage?: AnthropicUsageInit;
  id?: string;
}

export interface StreamInit extends MessageInit {
  /** Insert a `ping` event after message_start (Anthropic may send any number). */
  ping?: boolean;
  /** The usage object of the final message_delta (default: `{output_tokens}` only). */
  deltaUsage?: Record<string, number>;
  /** Stop after this many events, e.g. to cut a stream short. */
  take?: number;
}

export const newMessageId = (): string => `msg_01${randomBytes(12).toString('hex')}`;
const join = (v: string | readonly string[]): string => (typeof v === 'string' ? v : v.join(''));
const DEFAULT_USAGE: AnthropicUsageInit = { input_tokens: 12, output_tokens: 6 };

function fullUsage(u: AnthropicUsageInit) {
  return {
    input_tokens: u.input_tokens,
    cache_creation_input_tokens: u.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: u.cache_read_input_tokens ?? 0,
    ...(u.cache_creation ? { cache_creation: u.cache_creation } : {}),
    output_tokens: u.output_tokens,
    service_tier: 'standard',
  };
}

function defaultStop(blocks: readonly BlockInit[]): StopReason {
  return blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
}

/** A non-streamed Message, fields in Anthropic's order. */
export function anthropicMessage(init: MessageInit) {
  const content = init.blocks.map((b) => {
    switch (b.type) {
      case 'text':
        return { type: 'text', text: join(b.text) };
      case 'tool_use':
        return { type: 'tool_use', id: b.id, name: b.name, input: JSON.parse(join(b.input)) };
      case 'thinking':
        return { type: 'thinking', thinking: join(b.thinking), signature: b.signature };
      case 'redacted_thinking':
        return b;
    }
  });
  return {
    id: init.id ?? newMessageId(),
    type: 'message',
    role: 'assistant',
    model: init.model,
    content,
    stop_reason: init.stopReason ?? defaultStop(init.blocks),
    stop_sequence: null,
    usage: fullUsage(init.usage ?? DEFAULT_USAGE),
  };
}

/** An Anthropic event stream, one string per SSE event (`event:` and `data:` lines). */
export function anthropicStream(init: StreamInit): string[] {
  const usage = init.usage ?? DEFAULT_USAGE;
  const events: string[] = [];
  const send = (payload: Record<string, unknown>) =>
    events.push(sseEvent(payload, String(payload.type)));

  send({
    type: 'message_start',
    message: {
      id: init.id ?? newMessageId(),
      type: 'message',
      role: 'assistant',
      model: init.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...fullUsage(usage), output_tokens: 1 },
    },
  });
  if (init.ping) send({ type: 'ping' });

  init.blocks.forEach((b, index) => {
    const pieces = (v: string | readonly string[]) => (typeof v === 'string' ? [v] : v);
    const delta = (d: Record<string, unknown>) =>
      send({ type: 'content_block_delta', index, delta: d });
    switch (b.type) {
      case 'text':
        send({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
        for (const text of pieces(b.text)) delta({ type: 'text_delta', text });
        break;
      case 'tool_use':
        send({
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} },
        });
        for (const part of pieces(b.input)) delta({ type: 'input_json_delta', partial_json: part });
        break;
      case 'thinking':
        send({
          type: 'content_block_start',
          index,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        });
        for (const thinking of pieces(b.thinking)) delta({ type: 'thinking_delta', thinking });
        delta({ type: 'signature_delta', signature: b.signature });
        break;
      case 'redacted_thinking':
        send({ type: 'content_block_start', index, content_block: b });
        break;
    }
    send({ type: 'content_block_stop', index });
  });

  send({
    type: 'message_delta',
    delta: { stop_reason: init.stopReason ?? defaultStop(init.blocks), stop_sequence: null },
    usage: init.deltaUsage ?? { output_tokens: usage.output_tokens },
  });
  send({ type: 'message_stop' });
  return init.take === undefined ? events : events.slice(0, init.take);
}

/** An in-stream `error` event. */
export function anthropicErrorEvent(type: string, message: string): string {
  return sseEvent({ type: 'error', error: { type, message } }, 'error');
}

export function anthropicError(type: string, message: string) {
  return {
    type: 'error',
    error: { type, message },
    request_id: `req_011C${randomBytes(10).toString('hex')}`,
  };
}

const invalid = (message: string): JsonStep => ({
  status: 400,
  json: anthropicError('invalid_request_error', message),
});

/** Anthropic's error answers (https://docs.anthropic.com/en/api/errors), ready to script. */
export const anthropicErrors = {
  invalidRequest: invalid,
  promptTooLong: (tokens = 210000, limit = 200000): JsonStep =>
    invalid(`prompt is too long: ${tokens} tokens > ${limit} maximum`),
  authentication: (): JsonStep => ({
    status: 401,
    json: anthropicError('authentication_error', 'invalid x-api-key'),
  }),
  permission: (): JsonStep => ({
    status: 403,
    json: anthropicError(
      'permission_error',
      'Your API key does not have permission to use the specified resource.',
    ),
  }),
  notFound: (model: string): JsonStep => ({
    status: 404,
    json: anthropicError('not_found_error', `model: ${model}`),
  }),
  rateLimited: (retryAfterS = 7): JsonStep => ({
    status: 429,
    headers: { 'retry-after': String(retryAfterS) },
    json: anthropicError(
      'rate_limit_error',
      'This request would exceed the rate limit for your organization of 50,000 input ' +
        'tokens per minute.',
    ),
  }),
  apiError: (): JsonStep => ({
    status: 500,
    json: anthropicError('api_error', 'Internal server error'),
  }),
  overloaded: (): JsonStep => ({
    status: 529,
    json: anthropicError('overloaded_error', 'Overloaded'),
  }),
};

// ---------------------------------------------------------------------------------------------
// What strict mode refuses

const TOP_LEVEL = new Set(
  (
    'model messages max_tokens system metadata stop_sequences stream temperature top_p top_k ' +
    'tools tool_choice thinking output_config service_tier container context_management ' +
    'mcp_servers cache_control inference_geo'
  ).split(' '),
);
const TOOL_CHOICE_TYPES = new Set(['auto', 'any', 'tool', 'none']);
const THINKING_DOC =
  'Please consult our documentation at ' +
  'https://docs.claude.com/en/docs/build-with-claude/extended-thinking';

type Json = Record<string, unknown>;
type Block = Json & { type?: unknown };

/** The first rule the body breaks, as Anthropic words it; undefined when it is valid. */
export function bodyProblem(body: unknown, issued: ReadonlySet<string>): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'There was an issue with the formatting of your request body: not a JSON object';
  }
  const b = body as Json;
  for (const key of Object.keys(b)) {
    if (!TOP_LEVEL.has(key)) return `${key}: Extra inputs are not permitted`;
  }
  for (const key of ['model', 'messages', 'max_tokens']) {
    if (b[key] === undefined) return `${key}: Field required`;
  }
  if (typeof b.temperature === 'number' && b.temperature > 1) {
    return 'temperature: Input should be less than or equal to 1';
  }
  return (
    stopProblem(b.stop_sequences) ??
    systemProblem(b.system) ??
    toolChoiceProblem(b.tool_choice) ??
    thinkingProblem(b) ??
    messagesProblem(b.messages as Json[], issued) ??
    toolPairingProblem(b.messages as Json[]) ??
    thinkingHistoryProblem(b)
  );
}

function stopProblem(stop: unknown): string | undefined {
  if (!Array.isArray(stop)) return;
  if (stop.some((s) => s === '')) return 'stop_sequences: each stop sequence must be non-empty';
  if (stop.some((s) => typeof s === 'string' && s.trim() === '')) {
    return 'stop_sequences: each stop sequence must contain non-whitespace';
  }
}

function systemProblem(system: unknown): string | undefined {
  if (!Array.isArray(system)) return;
  if (system.some((b: Block) => b.type !== 'text')) {
    return "system.0.type: Input should be 'text'";
  }
  if (system.some((b: Block) => b.text === '')) {
    return 'system: text content blocks must be non-empty';
  }
}

function toolChoiceProblem(choice: unknown): string | undefined {
  if (choice === undefined) return;
  const c = choice as Json;
  if (!TOOL_CHOICE_TYPES.has(String(c.type))) {
    return (
      `tool_choice: Input tag '${String(c.type)}' found using 'type' does not match any of ` +
      "the expected tags: 'auto', 'any', 'tool', 'none'"
    );
  }
  if (c.type === 'tool' && typeof c.name !== 'string')
    return 'tool_choice.tool.name: Field required';
  if (c.type === 'none' && 'disable_parallel_tool_use' in c) {
    return 'tool_choice.none.disable_parallel_tool_use: Extra inputs are not permitted';
  }
}

function thinkingProblem(b: Json): string | undefined {
  const thinking = b.thinking as Json | undefined;
  if (thinking?.type !== 'enabled') return;
  const budget = Number(thinking.budget_tokens);
  if (!(budget >= 1024)) {
    return 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024';
  }
  if (Number(b.max_tokens) <= budget) {
    return `\`max_tokens\` must be greater than \`thinking.budget_tokens\`. ${THINKING_DOC}`;
  }
}

function messagesProblem(messages: Json[], issued: ReadonlySet<string>): string | undefined {
  for (const [i, m] of messages.entries()) {
    if (m.role !== 'user' && m.role !== 'assistant') {
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    }
    const content = m.content;
    const final = i === messages.length - 1 && m.role === 'assistant';
    if ((content === '' || (Array.isArray(content) && content.length === 0)) && !final) {
      return (
        `messages.${i}: all messages must have non-empty content except for the optional ` +
        'final assistant message'
      );
    }
    if (!Array.isArray(content)) continue;
    for (const [j, block] of (content as Block[]).entries()) {
      const problem = blockProblem(block, `messages.${i}.content.${j}`, issued);
      if (problem) return problem;
    }
  }
}

function blockProblem(block: Block, at: string, issued: ReadonlySet<string>): string | undefined {
  switch (block.type) {
    case 'text':
      return block.text === '' ? 'messages: text content blocks must be non-empty' : undefined;
    case 'image':
      return imageProblem(block.source as Json, at);
    case 'tool_result':
      return typeof block.tool_use_id === 'string'
        ? undefined
        : `${at}.tool_result.tool_use_id: Field required`;
    case 'thinking':
      if (typeof block.signature !== 'string') return `${at}.thinking.signature: Field required`;
      // Anthropic checks each signature against its thinking text; this mock knows only the
      // signatures it handed out, which catches a lost or rewritten one.
      return issued.has(block.signature)
        ? undefined
        : `${at}: Invalid \`signature\` in \`thinking\` block`;
    case 'tool_use':
    case 'redacted_thinking':
      return undefined;
    default:
      return `${at}.type: Input tag '${String(block.type)}' found using 'type' does not match`;
  }
}

function imageProblem(source: Json, at: string): string | undefined {
  if (source?.type === 'url') return undefined;
  const actual = sniff(Buffer.from(String(source?.data ?? '').slice(0, 16), 'base64'));
  if (actual !== source?.media_type) {
    return (
      `${at}.image.source.base64: The image was specified using the ` +
      `${String(source?.media_type)} ` +
      `media type, but the image appears to be a ${actual ?? 'unsupported'} image`
    );
  }
}

function sniff(b: Buffer): string | undefined {
  if (b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    return 'image/png';
  }
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  if (
    b.subarray(0, 4).toString('latin1') === 'RIFF' &&
    b.subarray(8, 12).toString('latin1') === 'WEBP'
  ) {
    return 'image/webp';
  }
}

const blocksOf = (m: Json | undefined): Block[] => (Array.isArray(m?.content) ? m.content : []);

/** Every tool_use is answered in the very next user turn, and every result answers one (G17). */
function toolPairingProblem(messages: Json[]): string | undefined {
  for (const [i, m] of messages.entries()) {
    const prior = messages[i - 1];
    const used = new Set(
      prior?.role === 'assistant'
        ? blocksOf(prior)
            .filter((b) => b.type === 'tool_use')
            .map((b) => String(b.id))
        : [],
    );
    if (m.role === 'user') {
      for (const [j, b] of blocksOf(m).entries()) {
        if (b.type === 'tool_result' && !used.has(String(b.tool_use_id))) {
          return (
            `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` ` +
            `blocks: ${String(b.tool_use_id)}. Each \`tool_result\` block must have a ` +
            'corresponding `tool_use` block in the previous message.'
          );
        }
      }
    }
    if (m.role !== 'assistant') continue;
    const ids = blocksOf(m)
      .filter((b) => b.type === 'tool_use')
      .map((b) => String(b.id));
    if (ids.length === 0 || i === messages.length - 1) continue;
    const next = messages[i + 1];
    const answered = new Set(
      next.role === 'user'
        ? blocksOf(next)
            .filter((b) => b.type === 'tool_result')
            .map((b) => String(b.tool_use_id))
        : [],
    );
    const missing = ids.filter((id) => !answered.has(id));
    if (missing.length > 0) {
      return (
        `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately ` +
        `after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding ` +
        '`tool_result` block in the next message.'
      );
    }
  }
}

/** With thinking on, the assistant turn of the current tool loop starts with thinking (G11). */
function thinkingHistoryProblem(b: Json): string | undefined {
  const type = (b.thinking as Json | undefined)?.type;
  if (type !== 'enabled' && type !== 'adaptive') return;
  const messages = b.messages as Json[];
  const last = messages.length - 1;
  const loop = blocksOf(messages[last]).some((x) => x.type === 'tool_result');
  if (messages[last]?.role !== 'user' || !loop || messages[last - 1]?.role !== 'assistant') return;
  const first = blocksOf(messages[last - 1])[0];
  if (first?.type === 'thinking' || first?.type === 'redacted_thinking') return;
  return (
    `messages.${last - 1}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but ` +
    `found \`${String(first?.type)}\`. When \`thinking\` is enabled, a final \`assistant\` ` +
    'message must start with a thinking block (preceeding the lastmost set of `tool_use` and ' +
    '`tool_result` blocks). We recommend you include thinking blocks from previous turns. To ' +
    `avoid this requirement, disable \`thinking\`. ${THINKING_DOC}`
  );
}

// ---------------------------------------------------------------------------------------------
// The server

export async function startMockAnthropic(opts: MockAnthropicOptions = {}): Promise<MockAnthropic> {
  const issued = new Set<string>();
  const strict = opts.strict ?? true;
  const server = await startMockServer<RecordedRequest, ScriptStep>({
    record: recordRequest,
    answer: (record, res, ctx) => {
      const style: StepStyle = {
        idHeaders: () => ({ 'request-id': `req_011C${randomBytes(10).toString('hex')}` }),
        jsonType: 'application/json',
        sseHeaders: {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
        },
        // A delay step has always been answered without the options (default text).
        defaultAnswer: () => defaultAnswer(record, {}),
        onBody: (text) => remember(issued, text),
      };
      const step =
        rejection(record, opts, strict, issued) ?? ctx.next() ?? defaultAnswer(record, opts);
      return playStep(step, record, res, ctx, style);
    },
  });

  return {
    url: server.origin,
    port: server.port,
    requests: server.requests,
    script: server.script,
    pending: server.pending,
    close: server.close,
  };
}

function rejection(
  req: RecordedRequest,
  opts: MockAnthropicOptions,
  strict: boolean,
  issued: ReadonlySet<string>,
): ScriptStep | undefined {
  if (req.method !== 'POST' || req.path !== '/v1/messages') {
    return { status: 404, json: anthropicError('not_found_error', 'Not Found') };
  }
  const key = req.headers['x-api-key'];
  if (!key) {
    return {
      status: 401,
      json: anthropicError('authentication_error', 'x-api-key header is required'),
    };
  }
  if (opts.apiKey !== undefined && key !== opts.apiKey) return anthropicErrors.authentication();
  if (!strict) return undefined;
  if (!req.headers['anthropic-version']) {
    return invalid('anthropic-version: header is required');
  }
  const problem = bodyProblem(req.json, issued);
  return problem === undefined ? undefined : invalid(problem);
}

function defaultAnswer(req: RecordedRequest, opts: MockAnthropicOptions): ScriptStep {
  const body = (req.json ?? {}) as Json;
  const text = opts.defaultText ?? 'Hello from the mock.';
  const init: MessageInit = {
    model: String(body.model ?? ''),
    blocks: [{ type: 'text', text: text.match(/\s*\S+/g) ?? [text] }],
    usage: {
      input_tokens: Math.max(1, Math.ceil(JSON.stringify(body.messages ?? '').length / 4)),
      output_tokens: (text.match(/\S+/g) ?? []).length,
    },
  };
  return body.stream === true
    ? { sse: anthropicStream(init) }
    : { status: 200, json: anthropicMessage(init) };
}

const SIGNATURE = /"signature":\s*"([^"]+)"/g;

function remember(issued: Set<string>, text: string): void {
  for (const m of text.matchAll(SIGNATURE)) issued.add(m[1]);
}
