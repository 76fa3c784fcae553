import { randomBytes } from 'node:crypto';
import {
  playStep,
  recordRequest,
  startMockServer,
  type JsonStep,
  type RecordedRequest,
  type ScriptStep,
  type StepStyle,
} from './mock-server.js';

// A scriptable stand-in for an OpenAI-compatible provider (and Azure OpenAI), for integration
// tests. Wire shapes follow the official OpenAPI document (shared/spec/openai-openapi.yaml) and
// what api.openai.com sends today; error bodies are OpenAI's and Azure's own wording.

export type {
  DelayStep,
  DestroyStep,
  HangStep,
  JsonStep,
  RawStep,
  RecordedRequest,
  ScriptStep,
  SseStep,
  StreamEnding,
} from './mock-server.js';

export interface MockOpenAIOptions {
  /** Reject, with OpenAI's own 400/401 bodies, requests that OpenAI would reject. */
  strict?: boolean;
  /** Require `Authorization: Bearer <key>` (implies the missing-key check). */
  expectApiKey?: string;
  /** Serve Azure OpenAI's deployment routes instead of /v1. */
  azure?: AzureOptions;
  /** Content of default answers (default: "Hello from the mock."). */
  defaultContent?: string | ((request: RecordedRequest) => string);
  /** Ids listed by GET /v1/models. */
  models?: readonly string[];
}

export interface AzureOptions {
  /** Required value of the `api-version` query parameter. */
  apiVersion: string;
  /** Required value of the `api-key` header; without it any non-empty key passes. */
  apiKey?: string;
  /** Model name in answers (default: the deployment name). */
  model?: string;
}

export interface MockOpenAI {
  /** Base URL ending in /v1 (for OpenAI clients). */
  url: string;
  /** `http://127.0.0.1:<port>`, the endpoint an Azure client is given. */
  origin: string;
  port: number;
  requests: RecordedRequest[];
  /** Queue responses, consumed one per accepted request, first in first out. */
  script(...steps: ScriptStep[]): void;
  /** Steps not yet consumed. */
  pending(): number;
  /** Ends every open response (hung ones too) and stops listening. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Faithful OpenAI bodies

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface UsageInit {
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens?: number;
  reasoning_tokens?: number;
}

export interface ToolCallInit {
  /** Default: a fresh `call_…` id. */
  id?: string;
  name: string;
  /** The JSON arguments; in a stream each element is sent as one fragment. */
  arguments: string | readonly string[];
}

export interface ChatCompletionInit {
  model: string;
  /** Default: "" without tool calls, null with them. */
  content?: string | null;
  toolCalls?: readonly ToolCallInit[];
  /** Default: `tool_calls` when there are tool calls, else `stop`. */
  finishReason?: FinishReason;
  /** Default: 10 prompt and 5 completion tokens. */
  usage?: UsageInit;
  /** Number of (identical) choices. */
  n?: number;
  id?: string;
  created?: number;
}

export interface ChatStreamInit {
  model: string;
  /** Content deltas in order. */
  pieces?: readonly string[];
  toolCalls?: readonly ToolCallInit[];
  finishReason?: FinishReason;
  /** As `stream_options.include_usage`: `usage: null` on every chunk plus a usage chunk. */
  includeUsage?: boolean;
  /** Default: 10 prompt tokens, one completion token per delta. */
  usage?: UsageInit;
  n?: number;
  /** As `stream_options.include_obfuscation` (OpenAI's default is on). */
  obfuscation?: boolean;
  /** Append `data: [DONE]` (default true). */
  done?: boolean;
  id?: string;
  created?: number;
}

const SYSTEM_FINGERPRINT = 'fp_5d1f8c3a7e';
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomId(prefix: string, length: number): string {
  const bytes = randomBytes(length);
  let id = prefix;
  for (const byte of bytes) id += ALPHANUMERIC[byte % ALPHANUMERIC.length];
  return id;
}

export const newCompletionId = (): string => randomId('chatcmpl-', 29);
export const newToolCallId = (): string => randomId('call_', 24);
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The usage object as OpenAI returns it, detail blocks included. */
export function usage(init: UsageInit) {
  return {
    prompt_tokens: init.prompt_tokens,
    completion_tokens: init.completion_tokens,
    total_tokens: init.prompt_tokens + init.completion_tokens,
    prompt_tokens_details: { cached_tokens: init.cached_tokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: init.reasoning_tokens ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function joinArguments(call: ToolCallInit): string {
  return typeof call.arguments === 'string' ? call.arguments : call.arguments.join('');
}

/** A non-stream `chat.completion` object, fields in OpenAI's order. */
export function chatCompletion(init: ChatCompletionInit) {
  const toolCalls = init.toolCalls?.map((call) => ({
    id: call.id ?? newToolCallId(),
    type: 'function' as const,
    function: { name: call.name, arguments: joinArguments(call) },
  }));
  const message = () => ({
    role: 'assistant' as const,
    content: init.content !== undefined ? init.content : toolCalls ? null : '',
    ...(toolCalls ? { tool_calls: toolCalls } : {}),
    refusal: null,
    annotations: [],
  });
  const finishReason = init.finishReason ?? (toolCalls ? 'tool_calls' : 'stop');

  return {
    id: init.id ?? newCompletionId(),
    object: 'chat.completion' as const,
    created: init.created ?? nowSeconds(),
    model: init.model,
    choices: Array.from({ length: init.n ?? 1 }, (_, index) => ({
      index,
      message: message(),
      logprobs: null,
      finish_reason: finishReason,
    })),
    usage: usage(init.usage ?? { prompt_tokens: 10, completion_tokens: 5 }),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/** One SSE event carrying `payload` as JSON (or a literal string such as `[DONE]`). */
export function sseEvent(payload: unknown, event?: string): string {
  const data = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return `${event ? `event: ${event}\n` : ''}data: ${data}\n\n`;
}

/**
 * A chat completion stream as OpenAI sends it, one string per SSE event: a role chunk
 * (`{role, content: "", refusal: null}`, or with `content: null` and the first tool-call
 * fragment when there is no text), content deltas, tool-call fragments (the first of each call
 * carries id, type and name with `arguments: ""`; later ones only index and arguments), a
 * finish chunk with an empty delta, the usage chunk with `choices: []` when asked for, then
 * `data: [DONE]`.
 */
export function chatStream(init: ChatStreamInit): string[] {
  const head = {
    id: init.id ?? newCompletionId(),
    object: 'chat.completion.chunk',
    created: init.created ?? nowSeconds(),
    model: init.model,
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
  const pieces = init.pieces ?? [];
  const calls = (init.toolCalls ?? []).map((call) => ({ ...call, id: call.id ?? newToolCallId() }));
  const finishReason = init.finishReason ?? (calls.length > 0 ? 'tool_calls' : 'stop');
  const n = init.n ?? 1;
  const events: string[] = [];

  const chunk = (choices: unknown[], usageValue: unknown = null) => {
    const body: Record<string, unknown> = { ...head, choices };
    if (init.includeUsage) body.usage = usageValue;
    if (init.obfuscation ?? true) body.obfuscation = obfuscation(events.length);
    events.push(sseEvent(body));
  };
  const choice = (index: number, delta: unknown, finish: FinishReason | null = null) => ({
    index,
    delta,
    logprobs: null,
    finish_reason: finish,
  });

  const fragments = calls.flatMap((call, index) => {
    const args = typeof call.arguments === 'string' ? [call.arguments] : call.arguments;
    const opening = { index, id: call.id, type: 'function', function: { name: call.name } };
    return [
      { ...opening, function: { ...opening.function, arguments: '' } },
      ...args.map((part) => ({ index, function: { arguments: part } })),
    ];
  });
  const openWithToolCall = pieces.length === 0 && fragments.length > 0;

  for (let i = 0; i < n; i++) {
    const role = openWithToolCall
      ? { role: 'assistant', content: null, tool_calls: [fragments[0]], refusal: null }
      : { role: 'assistant', content: '', refusal: null };
    chunk([choice(i, role)]);
  }
  for (const piece of pieces) {
    for (let i = 0; i < n; i++) chunk([choice(i, { content: piece })]);
  }
  for (const fragment of openWithToolCall ? fragments.slice(1) : fragments) {
    for (let i = 0; i < n; i++) chunk([choice(i, { tool_calls: [fragment] })]);
  }
  for (let i = 0; i < n; i++) chunk([choice(i, {}, finishReason)]);

  if (init.includeUsage) {
    const completion = n * (pieces.length + fragments.length);
    chunk([], usage(init.usage ?? { prompt_tokens: 10, completion_tokens: completion }));
  }
  if (init.done ?? true) events.push(sseEvent('[DONE]'));
  return events;
}

/** Deterministic stand-in for OpenAI's random length-padding string. */
function obfuscation(seed: number): string {
  let out = '';
  for (let i = 0; i < 1 + ((seed * 7) % 12); i++) out += ALPHANUMERIC[(seed * 31 + i * 17) % 62];
  return out;
}

// OpenAI's error bodies, as ready-to-script steps.

export function openaiError(message: string, type: string, param: string | null, code: unknown) {
  return { error: { message, type, param, code } };
}

export const openaiErrors = {
  missingApiKey: (): JsonStep => ({
    status: 401,
    json: openaiError(
      "You didn't provide an API key. You need to provide your API key in an Authorization " +
        'header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password ' +
        "field (with blank username) if you're accessing the API from your browser and are " +
        'prompted for a username and password. You can obtain an API key from ' +
        'https://platform.openai.com/account/api-keys.',
      'invalid_request_error',
      null,
      null,
    ),
  }),
  invalidApiKey: (key: string): JsonStep => ({
    status: 401,
    json: openaiError(
      `Incorrect API key provided: ${maskKey(key)}. You can find your API key at ` +
        'https://platform.openai.com/account/api-keys.',
      'invalid_request_error',
      null,
      'invalid_api_key',
    ),
  }),
  /** sglang's (OpenAI-compatible) wording of a context-length refusal, with a numeric code. */
  sglangContextLength: (limit: number, requested: number): JsonStep => ({
    status: 400,
    json: {
      error: {
        message: `The input (${requested} tokens) is longer than the model's context length (${limit} tokens).`,
        type: 'BadRequestError',
        code: 400,
      },
    },
  }),
  contextLengthExceeded: (limit = 128000, requested = limit + 1000): JsonStep => ({
    status: 400,
    json: openaiError(
      `This model's maximum context length is ${limit} tokens. However, your messages ` +
        `resulted in ${requested} tokens. Please reduce the length of the messages.`,
      'invalid_request_error',
      'messages',
      'context_length_exceeded',
    ),
  }),
  rateLimited: (model = 'gpt-4o', retryAfterS = 1): JsonStep => ({
    status: 429,
    headers: { 'retry-after': String(retryAfterS), 'x-ratelimit-remaining-tokens': '0' },
    json: openaiError(
      `Rate limit reached for ${model} in organization org-mock on tokens per min (TPM): ` +
        `Limit 30000, Used 30000, Requested 1000. Please try again in ${retryAfterS}s. Visit ` +
        'https://platform.openai.com/account/rate-limits to learn more.',
      'tokens',
      null,
      'rate_limit_exceeded',
    ),
  }),
  insufficientQuota: (): JsonStep => ({
    status: 429,
    json: openaiError(
      'You exceeded your current quota, please check your plan and billing details. For more ' +
        'information on this error, read the docs: ' +
        'https://platform.openai.com/docs/guides/error-codes/api-errors.',
      'insufficient_quota',
      null,
      'insufficient_quota',
    ),
  }),
  modelNotFound: (model: string): JsonStep => ({
    status: 404,
    json: openaiError(
      `The model \`${model}\` does not exist or you do not have access to it.`,
      'invalid_request_error',
      null,
      'model_not_found',
    ),
  }),
  serverError: (): JsonStep => ({
    status: 500,
    json: openaiError(
      'The server had an error while processing your request. Sorry about that!',
      'server_error',
      null,
      null,
    ),
  }),
  overloaded: (): JsonStep => ({
    status: 503,
    json: openaiError(
      'The engine is currently overloaded, please try again later',
      'server_error',
      null,
      null,
    ),
  }),
};

/** OpenAI echoes a wrong key with all but its first 8 and last 4 characters starred. */
function maskKey(key: string): string {
  if (key.length <= 12) return key;
  return `${key.slice(0, 8)}${'*'.repeat(key.length - 12)}${key.slice(-4)}`;
}

// Azure OpenAI extras: content-filter annotations (learn.microsoft.com, "Content filtering").

const SAFE = { filtered: false, severity: 'safe' };
const SAFE_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };

/** Azure's first stream event: prompt annotations with empty `choices` and blank id/model. */
export function azurePromptFilterEvent(): string {
  return sseEvent({
    id: '',
    object: '',
    created: 0,
    model: '',
    choices: [],
    prompt_filter_results: [{ prompt_index: 0, content_filter_results: SAFE_RESULTS }],
  });
}

/** An annotation-only Azure event (no delta) covering output characters [start, end). */
export function azureContentFilterEvent(start: number, end: number, index = 0): string {
  return sseEvent({
    id: '',
    object: '',
    created: 0,
    model: '',
    choices: [
      {
        index,
        finish_reason: null,
        content_filter_results: SAFE_RESULTS,
        content_filter_offsets: { check_offset: start, start_offset: start, end_offset: end },
      },
    ],
  });
}

const AZURE_UNAUTHORIZED = {
  error: {
    code: '401',
    message:
      'Access denied due to invalid subscription key or wrong API endpoint. Make sure to ' +
      'provide a valid key for an active subscription and use a correct regional API endpoint ' +
      'for your resource.',
  },
};
const AZURE_NOT_FOUND = { error: { code: '404', message: 'Resource not found' } };

// ---------------------------------------------------------------------------------------------
// The server

const REASONING_MODEL = /^o[134](-|$)/;
const AZURE_CHAT_PATH = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;

export async function startMockOpenAI(opts: MockOpenAIOptions = {}): Promise<MockOpenAI> {
  const server = await startMockServer<RecordedRequest, ScriptStep>({
    record: recordRequest,
    answer: (record, res, ctx) => {
      const style: StepStyle = {
        idHeaders: () => ({ 'x-request-id': randomId('req_', 32) }),
        jsonType: 'application/json',
        // OpenAI pretty-prints its JSON answers and errors (two spaces), unlike its streams.
        jsonIndent: 2,
        sseHeaders: { 'content-type': 'text/event-stream; charset=utf-8' },
        defaultAnswer: () => defaultAnswer(record, opts),
        run: computeStep,
      };
      const step = rejection(record, opts) ?? ctx.next() ?? style.defaultAnswer();
      return playStep(step, record, res, ctx, style);
    },
  });

  return {
    url: `${server.origin}/v1`,
    origin: server.origin,
    port: server.port,
    requests: server.requests,
    script: server.script,
    pending: server.pending,
    close: server.close,
  };
}

/** The 4xx a real provider would answer before looking at the script, if any. */
function rejection(req: RecordedRequest, opts: MockOpenAIOptions): ScriptStep | undefined {
  if (opts.azure) return azureRejection(req, opts.azure, opts.strict ?? false);

  if (opts.strict || opts.expectApiKey !== undefined) {
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!auth) return openaiErrors.missingApiKey();
    if (opts.expectApiKey !== undefined && auth[1] !== opts.expectApiKey) {
      return openaiErrors.invalidApiKey(auth[1]);
    }
  }
  if (!opts.strict || req.method !== 'POST' || req.path !== '/v1/chat/completions') return;
  return chatRequestRejection(req, true);
}

function azureRejection(req: RecordedRequest, azure: AzureOptions, strict: boolean) {
  const key = req.headers['api-key'];
  if (!key || (azure.apiKey !== undefined && key !== azure.apiKey)) {
    return { status: 401, json: AZURE_UNAUTHORIZED };
  }
  if (!AZURE_CHAT_PATH.test(req.path) || !req.query['api-version']) {
    return { status: 404, json: AZURE_NOT_FOUND };
  }
  if (req.query['api-version'] !== azure.apiVersion) {
    return {
      status: 400,
      json: { error: { code: 'BadRequest', message: 'API version not supported' } },
    };
  }
  const options = (req.json as { stream_options?: unknown } | undefined)?.stream_options;
  if (options !== undefined && !azureTakesStreamOptions(azure.apiVersion)) {
    // What Azure answered api-versions that predate stream_options (seen in 2024 reports).
    return {
      status: 400,
      json: openaiError(
        'Unrecognized request argument supplied: stream_options. Please contact us through ' +
          'an Azure support request at: https://go.microsoft.com/fwlink/?linkid=2213926 for ' +
          'further questions.',
        'invalid_request_error',
        '',
        null,
      ),
    };
  }
  // The deployment fixes the model, so Azure bodies need none.
  return strict ? chatRequestRejection(req, false) : undefined;
}

/**
 * Azure's chat completions take `stream_options` from api-version 2024-09-01-preview (GA
 * 2024-10-21); the versions before it refuse the field as an unknown argument.
 */
function azureTakesStreamOptions(apiVersion: string): boolean {
  const date = /^(\d{4}-\d{2}-\d{2})/.exec(apiVersion)?.[1];
  return date === undefined || date >= '2024-09-01';
}

function chatRequestRejection(req: RecordedRequest, needsModel: boolean): JsonStep | undefined {
  const bad = (message: string, param: string | null, code: string | null): JsonStep => ({
    status: 400,
    json: openaiError(message, 'invalid_request_error', param, code),
  });
  const body = req.json as Record<string, unknown> | undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return bad(
      'We could not parse the JSON body of your request. (HINT: This likely means you ' +
        "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but " +
        'what was sent was not valid JSON. If you have trouble figuring out how to fix this, ' +
        'please contact us through our help center at help.openai.com.)',
      null,
      null,
    );
  }
  if (needsModel && !body.model) return bad('you must provide a model parameter', null, null);
  if (body.messages === undefined) {
    return bad("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  }
  if (needsModel && REASONING_MODEL.test(String(body.model)) && body.max_tokens !== undefined) {
    return bad(
      "Unsupported parameter: 'max_tokens' is not supported with this model. Use " +
        "'max_completion_tokens' instead.",
      'max_tokens',
      'unsupported_parameter',
    );
  }
  if (Array.isArray(body.stop) && body.stop.length > 4) {
    return bad(
      "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an " +
        `array with length ${body.stop.length} instead.`,
      'stop',
      'array_above_max_length',
    );
  }
  return undefined;
}

interface ChatBody {
  model?: unknown;
  messages?: unknown;
  stream?: unknown;
  n?: unknown;
  stream_options?: { include_usage?: unknown; include_obfuscation?: unknown };
}

/** An answer that honors the request: stream or not, `n` choices, the model asked for. */
function defaultAnswer(req: RecordedRequest, opts: MockOpenAIOptions): ScriptStep {
  const body = (req.json ?? {}) as ChatBody;
  const deployment = AZURE_CHAT_PATH.exec(req.path)?.[1];
  const chatPath = opts.azure ? deployment !== undefined : req.path === '/v1/chat/completions';
  const isChat = req.method === 'POST' && chatPath;

  if (!opts.azure && req.method === 'GET' && req.path === '/v1/models') {
    const models = opts.models ?? ['gpt-4o-mini', 'gpt-4o', 'o3-mini'];
    const data = models.map((id) => ({
      id,
      object: 'model',
      created: 1715367049,
      owned_by: 'system',
    }));
    return { status: 200, json: { object: 'list', data } };
  }
  if (!isChat) {
    const message = `Invalid URL (${req.method} ${req.path})`;
    return { status: 404, json: openaiError(message, 'invalid_request_error', null, null) };
  }

  const model = opts.azure ? (opts.azure.model ?? deployment ?? '') : String(body.model ?? '');
  const content =
    typeof opts.defaultContent === 'function'
      ? opts.defaultContent(req)
      : (opts.defaultContent ?? 'Hello from the mock.');
  const pieces = content.match(/\s*\S+/g) ?? [];
  const n = typeof body.n === 'number' && Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
  const tokens = {
    prompt_tokens: Math.max(1, Math.ceil(JSON.stringify(body.messages ?? '').length / 4)),
    completion_tokens: n * pieces.length,
  };

  if (body.stream !== true) {
    const completion = chatCompletion({ model, content, n, usage: tokens });
    if (!opts.azure) return { status: 200, json: completion };
    const choices = completion.choices.map((c) => ({ ...c, content_filter_results: SAFE_RESULTS }));
    const prompt_filter_results = [{ prompt_index: 0, content_filter_results: SAFE_RESULTS }];
    return { status: 200, json: { ...completion, choices, prompt_filter_results } };
  }

  const sse = chatStream({
    model,
    pieces,
    n,
    usage: tokens,
    includeUsage: body.stream_options?.include_usage === true,
    obfuscation: body.stream_options?.include_obfuscation !== false,
  });
  return { sse: opts.azure ? [azurePromptFilterEvent(), ...sse] : sse };
}

/** Runs a function step; a throwing one answers 500 with its message instead of hanging. */
function computeStep(step: (request: RecordedRequest) => ScriptStep, req: RecordedRequest) {
  try {
    return step(req);
  } catch (error) {
    const message = `mock script step threw: ${String(error)}`;
    return { status: 500, json: openaiError(message, 'mock_error', null, null) };
  }
}
