import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { PolicySchema, Protocol, type Policy } from '../../proto/gen/modelgate/v1/policy_pb.js';
import {
  playStep,
  recordRequest,
  startMockServer,
  type JsonStep,
  type RecordedRequest,
  type ScriptStep,
  type StepStyle,
} from './mock-server.js';

// A strict, scriptable stand-in for Cohere's chat v2 API (POST /v2/chat), for integration
// tests. Wire shapes follow Cohere's published spec (cohere-openapi.yaml in
// cohere-ai/cohere-developer-experience) and its docs (docs.cohere.com/reference/chat,
// /docs/streaming, /docs/tool-use-streaming). Error bodies are Cohere's `{id, message}`;
// messages quoted from docs.cohere.com/reference/errors are marked [doc], the others are
// this mock's own wording for rules the spec states without an example message.

export type { RecordedRequest, ScriptStep } from './mock-openai.js';

export interface MockCohereOptions {
  /** Reject what Cohere rejects (default true). */
  strict?: boolean;
  /** Require `Authorization: Bearer <key>`. */
  expectApiKey?: string;
  /** Text of default answers (default: "Hello from the mock."). */
  defaultContent?: string;
}

export interface MockCohere {
  /** The origin, which is what a Cohere base_url holds (the adapter appends /v2/chat). */
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Queue responses, consumed one per accepted request, first in first out. */
  script(...steps: ScriptStep[]): void;
  pending(): number;
  close(): Promise<void>;
}

/**
 * A sidecar policy with one Cohere provider "co" at the mock: `command-fast` is an alias of
 * command-a-03-2025, any other name reaches Cohere as it is. The key is TEST_PROVIDER_KEY.
 * The circuit breaker is set out of reach: these suites fail on purpose, many times in a row.
 */
export function coherePolicy(baseUrl: string): Policy {
  return create(PolicySchema, {
    listen: { host: '127.0.0.1', port: 0 },
    routing: { breakerFailures: 1_000_000 },
    providers: [{ id: 'co', protocol: Protocol.COHERE, baseUrl, apiKeyEnv: 'TEST_PROVIDER_KEY' }],
    models: [
      { name: 'command-fast', provider: 'co', target: 'command-a-03-2025' },
      { name: '*', provider: 'co', target: '*' },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// Faithful Cohere bodies

export type CohereFinishReason =
  'COMPLETE' | 'STOP_SEQUENCE' | 'MAX_TOKENS' | 'TOOL_CALL' | 'ERROR' | 'TIMEOUT';

export interface CohereUsageInit {
  billed?: { input: number; output: number };
  tokens?: { input: number; output: number };
  cached?: number;
}

export interface CohereToolCallInit {
  id?: string;
  name: string;
  /** The JSON arguments; in a stream each element is one tool-call-delta. */
  arguments: string | readonly string[];
}

export interface CohereChatInit {
  id?: string;
  text?: string;
  thinking?: string;
  toolPlan?: string;
  toolCalls?: readonly CohereToolCallInit[];
  finishReason?: CohereFinishReason;
  usage?: CohereUsageInit;
}

export interface CohereStreamInit {
  id?: string;
  pieces?: readonly string[];
  thinking?: readonly string[];
  toolPlan?: readonly string[];
  toolCalls?: readonly CohereToolCallInit[];
  finishReason?: CohereFinishReason;
  usage?: CohereUsageInit | null;
  /** The `delta.error` of message-end (with finishReason ERROR). */
  error?: string;
  /** Stop before message-end, as a cut stream would. */
  omitEnd?: boolean;
  /** Append `data: [DONE]` after message-end. */
  done?: boolean;
}

export const newMessageId = (): string => randomUUID();
/** Cohere's tool call ids are the tool name and a random suffix. */
export const newCohereToolCallId = (name: string): string =>
  `${name}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

const DEFAULT_USAGE: CohereUsageInit = {
  billed: { input: 5, output: 4 },
  tokens: { input: 205, output: 6 },
};

export function cohereUsage(init: CohereUsageInit = DEFAULT_USAGE) {
  const out: Record<string, unknown> = {};
  if (init.billed) {
    out.billed_units = { input_tokens: init.billed.input, output_tokens: init.billed.output };
  }
  if (init.tokens) {
    out.tokens = { input_tokens: init.tokens.input, output_tokens: init.tokens.output };
  }
  if (init.cached !== undefined) out.cached_tokens = init.cached;
  return out;
}

const joined = (args: string | readonly string[]): string =>
  typeof args === 'string' ? args : args.join('');

/** A non-streamed v2 chat response. */
export function cohereChat(init: CohereChatInit) {
  const content: Record<string, unknown>[] = [];
  if (init.thinking !== undefined) content.push({ type: 'thinking', thinking: init.thinking });
  if (init.text !== undefined) content.push({ type: 'text', text: init.text });
  const message: Record<string, unknown> = { role: 'assistant' };
  if (init.toolPlan !== undefined) message.tool_plan = init.toolPlan;
  if (init.toolCalls) {
    message.tool_calls = init.toolCalls.map((call) => ({
      id: call.id ?? newCohereToolCallId(call.name),
      type: 'function',
      function: { name: call.name, arguments: joined(call.arguments) },
    }));
  }
  if (content.length > 0) message.content = content;
  return {
    id: init.id ?? newMessageId(),
    message,
    finish_reason: init.finishReason ?? (init.toolCalls ? 'TOOL_CALL' : 'COMPLETE'),
    usage: cohereUsage(init.usage),
  };
}

/** One SSE event as Cohere frames it: `event:` names the type, which `data` repeats. */
export function cohereEvent(data: Record<string, unknown>): string {
  return `event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A v2 chat stream, one string per event, in the order the docs show. */
export function cohereStream(init: CohereStreamInit): string[] {
  const events: string[] = [];
  const push = (data: Record<string, unknown>) => events.push(cohereEvent(data));
  const id = init.id ?? newMessageId();

  push({ type: 'message-start', id, delta: { message: { role: 'assistant' } } });
  for (const piece of init.toolPlan ?? []) {
    push({ type: 'tool-plan-delta', delta: { message: { tool_plan: piece } } });
  }
  let block = 0;
  if (init.thinking) {
    contentBlock(push, block++, 'thinking', init.thinking);
  }
  if (init.pieces) {
    contentBlock(push, block++, 'text', init.pieces);
  }
  (init.toolCalls ?? []).forEach((call, index) => {
    const toolCall = {
      id: call.id ?? newCohereToolCallId(call.name),
      type: 'function',
      function: { name: call.name, arguments: '' },
    };
    push({ type: 'tool-call-start', index, delta: { message: { tool_calls: toolCall } } });
    const parts = typeof call.arguments === 'string' ? [call.arguments] : call.arguments;
    for (const part of parts) {
      const toolCalls = { function: { arguments: part } };
      push({ type: 'tool-call-delta', index, delta: { message: { tool_calls: toolCalls } } });
    }
    push({ type: 'tool-call-end', index });
  });
  if (init.omitEnd) return events;

  const finish = init.finishReason ?? (init.toolCalls?.length ? 'TOOL_CALL' : 'COMPLETE');
  const delta: Record<string, unknown> = { finish_reason: finish };
  if (init.error !== undefined) delta.error = init.error;
  if (init.usage !== null) delta.usage = cohereUsage(init.usage);
  push({ type: 'message-end', delta });
  if (init.done) events.push('data: [DONE]\n\n');
  return events;
}

function contentBlock(
  push: (data: Record<string, unknown>) => void,
  index: number,
  kind: 'text' | 'thinking',
  pieces: readonly string[],
): void {
  push({
    type: 'content-start',
    index,
    delta: { message: { content: { type: kind, [kind]: '' } } },
  });
  for (const piece of pieces) {
    push({ type: 'content-delta', index, delta: { message: { content: { [kind]: piece } } } });
  }
  push({ type: 'content-end', index });
}

// Cohere's error bodies, as ready-to-script steps.

export function cohereError(status: number, message: string): JsonStep {
  return { status, json: { id: randomUUID(), message } };
}

export const cohereErrors = {
  noApiKey: () => cohereError(401, 'no api key supplied'), // [doc]
  invalidToken: () => cohereError(401, 'invalid api token'), // [doc]
  promptTooLong: (limit = 4081, received = 4292) =>
    cohereError(
      400,
      `too many tokens: total number of tokens in the prompt cannot exceed ${limit} - received ` +
        `${received}. Try using a shorter prompt, or enabling prompt truncating. See ` +
        'https://docs.cohere.com/reference/generate for more details.',
    ), // [doc]
  maxTokensTooLarge: () =>
    cohereError(
      400,
      'too many tokens: max tokens must be less than or equal to 4096, the maximum output for ' +
        'this model - received 8192.',
    ), // [doc]
  paymentRequired: () =>
    cohereError(
      402,
      'Please add or update your payment method at ' +
        'https://dashboard.cohere.com/billing?tab=payment to continue',
    ), // [doc]
  modelNotFound: (model: string) =>
    cohereError(
      404,
      `model '${model}' not found, make sure the correct model ID was used and that you have ` +
        'access to the model.',
    ), // [doc]
  rateLimited: (retryAfterS = 2): JsonStep => ({
    ...cohereError(
      429,
      'You are past the per minute request limit, please wait and try again later.',
    ), // [doc]
    headers: { 'retry-after': String(retryAfterS) },
  }),
  requestCancelled: () => cohereError(499, 'request cancelled'), // [doc]
  internal: () => cohereError(500, 'internal server error'),
  unavailable: () => cohereError(503, 'service unavailable'),
  gatewayTimeout: () => cohereError(504, 'gateway timeout'),
};

// ---------------------------------------------------------------------------------------------
// Strict request checks: the v2 spec (required fields, enums, ranges) and documented messages.

const TOP_LEVEL = new Set([
  'stream',
  'model',
  'messages',
  'tools',
  'strict_tools',
  'documents',
  'citation_options',
  'response_format',
  'safety_mode',
  'max_tokens',
  'stop_sequences',
  'temperature',
  'seed',
  'frequency_penalty',
  'presence_penalty',
  'k',
  'p',
  'logprobs',
  'tool_choice',
  'thinking',
  'priority',
]);
const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Body = Record<string, unknown>;

/** The 4xx Cohere would answer for this body, or undefined when it is acceptable. */
export function rejectChatBody(raw: Buffer): JsonStep | undefined {
  let body: Body;
  try {
    body = JSON.parse(raw.toString('utf8')) as Body;
  } catch (err) {
    return cohereError(400, `invalid json syntax: ${(err as Error).message}`);
  }
  const bad = (message: string) => cohereError(400, message);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return bad('invalid json syntax: the body must be an object');
  }

  // Whether Cohere refuses or ignores unknown fields is not documented; refusing them here
  // catches OpenAI fields (top_p, stop, n, max_completion_tokens...) leaking through.
  for (const key of Object.keys(body)) {
    if (!TOP_LEVEL.has(key)) return bad(`invalid request: unknown field '${key}'`);
  }
  if (typeof body.model !== 'string' || body.model === '') {
    return bad('a model parameter is required for this endpoint.'); // [doc]
  }
  return (
    rangeProblem(body) ??
    toolsProblem(body) ??
    formatProblem(body) ??
    messagesProblem(body.messages, bad)
  );
}

function rangeProblem(body: Body): JsonStep | undefined {
  const bad = (message: string) => cohereError(400, message);
  const t = body.temperature;
  if (t !== undefined && (typeof t !== 'number' || t < 0 || t > 1)) {
    return bad('invalid request: temperature must be between 0 and 1.0 inclusive.'); // [doc]
  }
  for (const key of ['presence_penalty', 'frequency_penalty']) {
    const v = body[key];
    if (v !== undefined && (typeof v !== 'number' || v < 0 || v > 1)) {
      return bad(`invalid request: ${key} must be between 0 and 1 inclusive.`); // [doc]
    }
  }
  const p = body.p;
  if (p !== undefined && (typeof p !== 'number' || p < 0.01 || p > 0.99)) {
    return bad('invalid request: p must be between 0.01 and 0.99 inclusive.');
  }
  const seed = body.seed;
  if (seed !== undefined && (!Number.isInteger(seed) || (seed as number) < 0)) {
    return bad('invalid request: seed must be a non-negative integer.');
  }
  const max = body.max_tokens;
  if (max !== undefined && (!Number.isInteger(max) || (max as number) < 1)) {
    return bad('invalid request: max_tokens must be a positive integer.');
  }
  const stops = body.stop_sequences;
  if (stops !== undefined) {
    if (!Array.isArray(stops) || stops.some((s) => typeof s !== 'string')) {
      return bad('invalid request: stop_sequences must be a list of strings.');
    }
    // The spec: "A list of up to 5 strings".
    if (stops.length > 5) return bad('invalid request: stop_sequences can have at most 5 items.');
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    return bad('invalid request: stream must be a boolean.');
  }
  return undefined;
}

function toolsProblem(body: Body): JsonStep | undefined {
  const bad = (message: string) => cohereError(400, message);
  const tools = body.tools;
  if (tools !== undefined) {
    if (!Array.isArray(tools)) return bad('invalid request: tools must be a list.');
    for (const tool of tools as Body[]) {
      if (tool?.type !== 'function') return bad("invalid request: tool type must be 'function'.");
      const fn = tool.function as Body | undefined;
      const name = String(fn?.name ?? '');
      if (!TOOL_NAME.test(name)) {
        return bad(
          'invalid request: tool names can only contain certain characters (A-Za-z0-9_) and ' +
            `can't begin with a digit (provided name: '${name}').`,
        ); // [doc]
      }
      if (typeof fn?.parameters !== 'object' || fn.parameters === null) {
        return bad(`invalid request: the '${name}' tool must have parameters.`);
      }
      for (const key of Object.keys(fn)) {
        if (!['name', 'description', 'parameters'].includes(key)) {
          return bad(`invalid request: unknown field 'tools.function.${key}'`);
        }
      }
    }
  }
  const choice = body.tool_choice;
  if (choice !== undefined) {
    if (choice !== 'REQUIRED' && choice !== 'NONE') {
      return bad("invalid request: tool_choice must be one of 'REQUIRED' or 'NONE'.");
    }
    if (choice === 'REQUIRED' && !(Array.isArray(tools) && tools.length > 0)) {
      return bad('invalid request: tool_choice REQUIRED needs at least one tool.');
    }
  }
  return undefined;
}

function formatProblem(body: Body): JsonStep | undefined {
  const format = body.response_format as Body | undefined;
  if (format === undefined) return undefined;
  if (format.type !== 'text' && format.type !== 'json_object') {
    return cohereError(
      400,
      "invalid request: response_format type must be 'text' or 'json_object'.",
    );
  }
  const schema = format.json_schema as Body | undefined;
  if (schema !== undefined) {
    if (format.type === 'text') {
      return cohereError(400, 'invalid request: json_schema cannot be used with type text.');
    }
    // Documented constraint: the top-level type must be object.
    if (schema.type !== 'object') return cohereError(400, 'schema must be an object'); // [doc]
  }
  return undefined;
}

function messagesProblem(
  messages: unknown,
  bad: (message: string) => JsonStep,
): JsonStep | undefined {
  if (!Array.isArray(messages) || messages.length === 0) {
    return bad('invalid request: messages must be a non-empty list.');
  }
  const callIds = new Set<string>();
  let seenNonSystem = false;

  for (const [i, m] of (messages as Body[]).entries()) {
    const role = m?.role;
    for (const key of Object.keys(m ?? {})) {
      const allowed: Record<string, string[]> = {
        system: ['role', 'content'],
        user: ['role', 'content'],
        assistant: ['role', 'content', 'tool_calls', 'tool_plan', 'citations'],
        tool: ['role', 'content', 'tool_call_id'],
      };
      if (allowed[String(role)] && !allowed[String(role)].includes(key)) {
        return bad(`invalid request: unknown field '${key}' in messages[${i}]`);
      }
    }
    if (role === 'system') {
      if (seenNonSystem) return bad('system turn must be the first in the list'); // [doc]
      if (!onlyParts(m.content, ['text'])) {
        return bad(`invalid request: messages[${i}] system content must be text.`);
      }
      continue;
    }
    seenNonSystem = true;

    if (role === 'user') {
      if (m.content === '' || m.content === undefined) {
        return bad('message must not be empty in a turn'); // [doc]
      }
      if (!onlyParts(m.content, ['text', 'image_url'])) {
        return bad(`invalid request: messages[${i}] content must be text or image_url items.`);
      }
      const images = Array.isArray(m.content)
        ? (m.content as Body[]).filter((p) => p.type === 'image_url')
        : [];
      if (images.some((p) => typeof (p.image_url as Body | undefined)?.url !== 'string')) {
        return bad(`invalid request: messages[${i}] image_url must have a url.`);
      }
    } else if (role === 'assistant') {
      if (!onlyParts(m.content ?? '', ['text', 'thinking'])) {
        return bad(`invalid request: messages[${i}] assistant content must be text or thinking.`);
      }
      const calls = m.tool_calls;
      if (calls !== undefined) {
        if (!Array.isArray(calls)) return bad('invalid request: tool_calls must be a list.');
        for (const call of calls as Body[]) {
          if (call.type !== 'function') return bad('tool call must be of type function'); // [doc]
          const id = String(call.id ?? '');
          if (callIds.has(id)) return bad('cannot have duplicate tool ids'); // [doc]
          callIds.add(id);
        }
      }
      if (m.content === undefined && calls === undefined) {
        return bad('message must not be empty in a turn'); // [doc]
      }
    } else if (role === 'tool') {
      if (typeof m.tool_call_id !== 'string' || m.tool_call_id === '') {
        return bad('tool call id must be provided with tool message'); // [doc]
      }
      if (!callIds.has(m.tool_call_id)) {
        return bad('tool call id not found in previous tool calls'); // [doc]
      }
      if (!onlyParts(m.content, ['text', 'document'])) {
        return bad(`invalid request: messages[${i}] tool content must be text or documents.`);
      }
    } else {
      return bad(`invalid request: role must be one of system, user, assistant, tool.`);
    }
  }
  return undefined;
}

function onlyParts(content: unknown, types: readonly string[]): boolean {
  if (typeof content === 'string') return true;
  if (!Array.isArray(content)) return false;
  return (content as Body[]).every((part) => types.includes(String(part?.type)));
}

// ---------------------------------------------------------------------------------------------
// The server

export async function startMockCohere(opts: MockCohereOptions = {}): Promise<MockCohere> {
  const server = await startMockServer<RecordedRequest, ScriptStep>({
    record: recordRequest,
    answer: (record, res, ctx) => {
      const style: StepStyle = {
        idHeaders: () => ({ 'x-request-id': randomUUID() }),
        jsonType: 'application/json',
        rawType: 'text/plain',
        sseHeaders: { 'content-type': 'text/event-stream' },
        defaultAnswer: () => defaultAnswer(record, opts),
      };
      const step = rejection(record, opts) ?? ctx.next() ?? style.defaultAnswer();
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

function rejection(req: RecordedRequest, opts: MockCohereOptions): ScriptStep | undefined {
  const strict = opts.strict ?? true;
  if (strict || opts.expectApiKey !== undefined) {
    const auth = /^bearer (.+)$/i.exec(req.headers.authorization ?? '');
    if (!auth) return cohereErrors.noApiKey();
    if (opts.expectApiKey !== undefined && auth[1] !== opts.expectApiKey) {
      return cohereErrors.invalidToken();
    }
  }
  if (req.method !== 'POST' || req.path !== '/v2/chat') {
    return { status: 404, body: '404 page not found' }; // [doc]
  }
  return strict ? rejectChatBody(req.body) : undefined;
}

function defaultAnswer(req: RecordedRequest, opts: MockCohereOptions): ScriptStep {
  const body = (req.json ?? {}) as Body;
  const content = opts.defaultContent ?? 'Hello from the mock.';
  if (body.stream === true)
    return { sse: cohereStream({ pieces: content.match(/\s*\S+/g) ?? [] }) };
  return { status: 200, json: cohereChat({ text: content }) };
}
