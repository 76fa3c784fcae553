import { create } from '@bufbuild/protobuf';
import type { IncomingMessage } from 'node:http';
import { PolicySchema, Protocol, type Policy } from '../../proto/gen/modelgate/v1/policy_pb.js';
import { headerRecord, parseJson, playStep, startMockServer } from './mock-server.js';

// A scriptable stand-in for Gemini on Google AI Studio (and, through mock-vertex.ts, for
// Vertex AI), for integration tests. In strict mode it refuses what Google refuses, with
// Google's own status codes and google.rpc.Status bodies, so a translation bug fails a test:
// unknown fields anywhere in the body (Google's JSON parser rejects them), roles other than
// user/model, empty parts, schema keys outside Gemini's subset, OBJECT schemas with an empty
// properties map, ARRAY schemas without items, more than 5 stop sequences, function-call and
// function-response turns out of order or with unequal counts, Gemini 3 call turns without
// a thought signature, image bytes that do not match their declared MIME type.
// Wire shapes: ai.google.dev/api/generate-content and cloud.google.com/vertex-ai/docs/reference/rest.

// ---------------------------------------------------------------------------------------------
// Records and scripted steps

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** The raw request target, query included, to check that no key leaks into the URL. */
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  json: unknown;
  clientAborted: boolean;
}

export interface JsonStep {
  status: number;
  headers?: Record<string, string>;
  json: unknown;
  delayBeforeHeadersMs?: number;
}

export interface RawStep {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

export interface SseStep {
  /** Raw writes, each sent on its own unless splitAt re-cuts them. */
  sse: ReadonlyArray<string | Buffer>;
  status?: number;
  /** Pause between writes. */
  delayMs?: number;
  /** Byte offsets of the concatenated stream at which writes are cut (may split UTF-8). */
  splitAt?: readonly number[];
  /** 'end': normal end; 'destroy': socket closed without the final chunk of the body. */
  ending?: 'end' | 'destroy';
}

export type ScriptStep = JsonStep | RawStep | SseStep | ((req: RecordedRequest) => ScriptStep);

/** Decides who may call: returns a refusal step, or undefined to go on. */
export type Gate = (req: RecordedRequest) => ScriptStep | undefined;

export interface MockGeminiOptions {
  /** Refuse what Gemini refuses (the rules above). */
  strict?: boolean;
  /** AI Studio: the key expected in `x-goog-api-key`. */
  apiKey?: string;
  /** Replaces the AI Studio key check (Vertex checks bearer tokens and its own routes). */
  gate?: Gate;
  /** Text of default answers. */
  defaultText?: string;
  /** Default answers for routes that are not Gemini's (Vertex's Anthropic routes). */
  defaultFor?: (req: RecordedRequest) => ScriptStep | undefined;
}

export interface MockGemini {
  origin: string;
  requests: RecordedRequest[];
  script(...steps: ScriptStep[]): void;
  pending(): number;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Faithful Gemini bodies

export interface GeminiUsageInit {
  promptTokenCount: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
}

export function usageMetadata(init: GeminiUsageInit) {
  const total =
    init.promptTokenCount + (init.candidatesTokenCount ?? 0) + (init.thoughtsTokenCount ?? 0);
  return {
    promptTokenCount: init.promptTokenCount,
    ...(init.candidatesTokenCount !== undefined
      ? { candidatesTokenCount: init.candidatesTokenCount }
      : {}),
    totalTokenCount: total,
    ...(init.cachedContentTokenCount !== undefined
      ? { cachedContentTokenCount: init.cachedContentTokenCount }
      : {}),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: init.promptTokenCount }],
    ...(init.thoughtsTokenCount !== undefined
      ? { thoughtsTokenCount: init.thoughtsTokenCount }
      : {}),
  };
}

export interface CandidateInit {
  parts: unknown[];
  finishReason?: string;
  index?: number;
}

export interface ResponseInit {
  candidates?: CandidateInit[];
  usage?: GeminiUsageInit;
  modelVersion?: string;
  responseId?: string;
  promptFeedback?: unknown;
}

/** A GenerateContentResponse, fields in the order Google sends them. */
export function geminiResponse(init: ResponseInit) {
  const body: Record<string, unknown> = {};
  if (init.candidates) {
    body.candidates = init.candidates.map((c) => ({
      content: { parts: c.parts, role: 'model' },
      ...(c.finishReason ? { finishReason: c.finishReason } : {}),
      // proto3 JSON leaves out a zero index.
      ...(c.index ? { index: c.index } : {}),
    }));
  }
  if (init.promptFeedback) body.promptFeedback = init.promptFeedback;
  if (init.usage) body.usageMetadata = usageMetadata(init.usage);
  body.modelVersion = init.modelVersion ?? 'gemini-2.5-flash';
  body.responseId = init.responseId ?? 'mockResp0001';
  return body;
}

/** One SSE event as Google frames it (CRLF line ends). */
export function geminiEvent(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\r\n\r\n`;
}

/** A text answer streamed one piece per event, finishReason and usage on the last. */
export function geminiTextStream(
  pieces: readonly string[],
  opts: {
    finishReason?: string;
    usage?: GeminiUsageInit;
    modelVersion?: string;
    /** Candidates per event (candidateCount), each with the same text. */
    n?: number;
  } = {},
): string[] {
  return pieces.map((text, i) => {
    const last = i === pieces.length - 1;
    const finishReason = last ? (opts.finishReason ?? 'STOP') : undefined;
    return geminiEvent(
      geminiResponse({
        candidates: Array.from({ length: opts.n ?? 1 }, (_, index) => ({
          parts: [{ text }],
          finishReason,
          index,
        })),
        // Google sends the running usage on every event; only the last one is final.
        usage: last ? opts.usage : { promptTokenCount: opts.usage?.promptTokenCount ?? 5 },
        modelVersion: opts.modelVersion,
      }),
    );
  });
}

export function googleError(code: number, status: string, message: string, details?: unknown[]) {
  return { error: { code, message, status, ...(details ? { details } : {}) } };
}

export const geminiErrors = {
  invalidKey: (): JsonStep => ({
    status: 400,
    json: googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com' },
      },
    ]),
  }),
  missingKey: (): JsonStep => ({
    status: 403,
    json: googleError(
      403,
      'PERMISSION_DENIED',
      "Method doesn't allow unregistered callers (callers without established identity). " +
        'Please use API Key or other form of API consumer identity to call this API.',
    ),
  }),
  contextTooLong: (): JsonStep => ({
    status: 400,
    json: googleError(
      400,
      'INVALID_ARGUMENT',
      'The input token count (1054016) exceeds the maximum number of tokens allowed (1048576).',
    ),
  }),
  rateLimited: (): JsonStep => ({
    status: 429,
    json: googleError(
      429,
      'RESOURCE_EXHAUSTED',
      'You exceeded your current quota, please check your plan and billing details.',
      [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '31s' }],
    ),
  }),
  overloaded: (): JsonStep => ({
    status: 503,
    json: googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'),
  }),
  internal: (): JsonStep => ({
    status: 500,
    json: googleError(
      500,
      'INTERNAL',
      'An internal error has occurred. Please retry or report in ' +
        'https://developers.generativeai.google/guide/troubleshooting',
    ),
  }),
  notFound: (model: string): JsonStep => ({
    status: 404,
    json: googleError(
      404,
      'NOT_FOUND',
      `models/${model} is not found for API version v1beta, or is not supported for ` +
        'generateContent. Call ListModels to see the list of available models and their ' +
        'supported methods.',
    ),
  }),
};

function invalidArgument(message: string): JsonStep {
  return { status: 400, json: googleError(400, 'INVALID_ARGUMENT', message) };
}

// ---------------------------------------------------------------------------------------------
// Strict rules

const CHAT_PATH = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

// Field names Google's JSON parser knows, per message (camelCase; snake_case also parses).
const FIELDS: Record<string, readonly string[]> = {
  request: [
    'contents',
    'tools',
    'toolConfig',
    'safetySettings',
    'systemInstruction',
    'generationConfig',
    'cachedContent',
    'labels',
  ],
  content: ['role', 'parts'],
  part: [
    'text',
    'inlineData',
    'fileData',
    'functionCall',
    'functionResponse',
    'executableCode',
    'codeExecutionResult',
    'thought',
    'thoughtSignature',
    'videoMetadata',
  ],
  blob: ['mimeType', 'data'],
  fileData: ['mimeType', 'fileUri'],
  functionCall: ['id', 'name', 'args'],
  functionResponse: ['id', 'name', 'response', 'willContinue', 'scheduling'],
  tool: [
    'functionDeclarations',
    'googleSearch',
    'googleSearchRetrieval',
    'codeExecution',
    'urlContext',
  ],
  functionDeclaration: [
    'name',
    'description',
    'behavior',
    'parameters',
    'parametersJsonSchema',
    'response',
  ],
  toolConfig: ['functionCallingConfig'],
  functionCallingConfig: ['mode', 'allowedFunctionNames'],
  generationConfig: [
    'stopSequences',
    'responseMimeType',
    'responseSchema',
    'responseModalities',
    'candidateCount',
    'maxOutputTokens',
    'temperature',
    'topP',
    'topK',
    'seed',
    'presencePenalty',
    'frequencyPenalty',
    'responseLogprobs',
    'logprobs',
    'thinkingConfig',
    'mediaResolution',
  ],
  thinkingConfig: ['includeThoughts', 'thinkingBudget', 'thinkingLevel'],
  schema: [
    'type',
    'format',
    'title',
    'description',
    'nullable',
    'enum',
    'maxItems',
    'minItems',
    'properties',
    'required',
    'minProperties',
    'maxProperties',
    'minLength',
    'maxLength',
    'pattern',
    'example',
    'anyOf',
    'propertyOrdering',
    'default',
    'items',
    'minimum',
    'maximum',
  ],
};

const SCHEMA_TYPES = new Set(['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL']);
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/heic', 'image/heif']);
const MODES = new Set(['AUTO', 'ANY', 'NONE', 'VALIDATED']);

type Obj = Record<string, unknown>;

class Refusal extends Error {}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function fields(obj: unknown, kind: string, at: string): Obj {
  if (!isObj(obj)) throw new Refusal(`Invalid value at '${at}', expected an object.`);
  const known = FIELDS[kind];
  for (const key of Object.keys(obj)) {
    if (!known.includes(key) && !known.map(snake).includes(key)) {
      const where = at ? ` at '${at}'` : '';
      throw new Refusal(
        `Invalid JSON payload received. Unknown name "${key}"${where}: Cannot find field.`,
      );
    }
  }
  return obj;
}

/** The first rule the body breaks, as Gemini's message; undefined when it is acceptable. */
export function geminiRefusal(body: unknown, model: string): string | undefined {
  try {
    checkRequest(body, model);
    return undefined;
  } catch (err) {
    if (err instanceof Refusal) return err.message;
    throw err;
  }
}

function checkRequest(body: unknown, model: string): void {
  const req = fields(body, 'request', '');
  if (!Array.isArray(req.contents) || req.contents.length === 0) {
    throw new Refusal('* GenerateContentRequest.contents: contents is not specified\n');
  }
  req.contents.forEach((c, i) => checkContent(c, `contents[${i}]`, true));
  if (req.systemInstruction !== undefined) {
    checkContent(req.systemInstruction, 'system_instruction', false);
  }
  checkTurnOrder(req.contents as Obj[], model);

  const names = new Set<string>();
  if (req.tools !== undefined) {
    (req.tools as unknown[]).forEach((t, i) => {
      const tool = fields(t, 'tool', `tools[${i}]`);
      ((tool.functionDeclarations as unknown[]) ?? []).forEach((d, j) => {
        const at = `tools[${i}].function_declarations[${j}]`;
        const decl = fields(d, 'functionDeclaration', at);
        if (typeof decl.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/.test(decl.name)) {
          throw new Refusal(`* GenerateContentRequest.${at}.name: Invalid function name.\n`);
        }
        names.add(decl.name);
        if (decl.parameters !== undefined) checkSchema(decl.parameters, `${at}.parameters`);
      });
    });
  }
  if (req.toolConfig !== undefined) {
    const cfg = fields(req.toolConfig, 'toolConfig', 'tool_config');
    const fcc = fields(cfg.functionCallingConfig, 'functionCallingConfig', 'tool_config');
    if (!MODES.has(fcc.mode as string)) {
      throw new Refusal(
        `Invalid value at 'tool_config.function_calling_config.mode', "${String(fcc.mode)}"`,
      );
    }
    const allowed = fcc.allowedFunctionNames as string[] | undefined;
    if (allowed && fcc.mode !== 'ANY') {
      throw new Refusal(
        '* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: ' +
          'allowed_function_names may only be set when mode is ANY.\n',
      );
    }
    for (const name of allowed ?? []) {
      if (!names.has(name)) {
        throw new Refusal(
          `* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: ` +
            `function ${name} is not declared.\n`,
        );
      }
    }
  }
  if (req.generationConfig !== undefined) checkGenerationConfig(req.generationConfig);
}

function checkContent(value: unknown, at: string, needsRole: boolean): void {
  const content = fields(value, 'content', at);
  if (needsRole && content.role !== 'user' && content.role !== 'model') {
    throw new Refusal('Please use a valid role: user, model.');
  }
  if (!Array.isArray(content.parts) || content.parts.length === 0) {
    throw new Refusal(`* GenerateContentRequest.${at}.parts: contents.parts must not be empty.\n`);
  }
  content.parts.forEach((p, j) => checkPart(p, `${at}.parts[${j}]`));
}

function checkPart(value: unknown, at: string): void {
  const part = fields(value, 'part', at);
  const data = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse'].filter(
    (k) => part[k] !== undefined,
  );
  if (data.length !== 1) {
    throw new Refusal(
      `* GenerateContentRequest.${at}.data: required oneof field 'data' must have one initialized field\n`,
    );
  }
  if (part.text !== undefined && typeof part.text !== 'string') {
    throw new Refusal(`Invalid value at '${at}.text' (TYPE_STRING)`);
  }
  if (part.inlineData !== undefined)
    checkBlob(fields(part.inlineData, 'blob', `${at}.inline_data`), at);
  if (part.fileData !== undefined) {
    const file = fields(part.fileData, 'fileData', `${at}.file_data`);
    if (typeof file.fileUri !== 'string' || file.fileUri === '') {
      throw new Refusal(
        `* GenerateContentRequest.${at}.file_data.file_uri: file_uri must be set\n`,
      );
    }
  }
  if (part.functionCall !== undefined) {
    const call = fields(part.functionCall, 'functionCall', `${at}.function_call`);
    if (call.args !== undefined && !isObj(call.args)) {
      throw new Refusal(
        `Invalid value at '${at}.function_call.args' (type.googleapis.com/google.protobuf.Struct)`,
      );
    }
  }
  if (part.functionResponse !== undefined) {
    const res = fields(part.functionResponse, 'functionResponse', `${at}.function_response`);
    if (!isObj(res.response)) {
      throw new Refusal(
        `Invalid value at '${at}.function_response.response' (type.googleapis.com/google.protobuf.Struct), ` +
          JSON.stringify(res.response),
      );
    }
  }
}

function checkBlob(blob: Obj, at: string): void {
  const mime = String(blob.mimeType ?? '');
  if (typeof blob.data !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(blob.data)) {
    throw new Refusal(
      `Invalid value at '${at}.inline_data.data' (TYPE_BYTES), Base64 decoding failed`,
    );
  }
  if (!mime.startsWith('image/')) return;
  if (!IMAGE_TYPES.has(mime)) throw new Refusal(`Unsupported MIME type: ${mime}`);
  // Gemini decodes by the declared type: bytes of another format cannot be processed.
  if (magicType(Buffer.from(blob.data.slice(0, 24), 'base64')) !== mime) {
    throw new Refusal(
      'Unable to process input image. Please retry or report in ' +
        'https://developers.generativeai.google/guide/troubleshooting',
    );
  }
}

function magicType(b: Buffer): string | undefined {
  if (b[0] === 0x89 && b.subarray(1, 4).toString('latin1') === 'PNG') return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8) return 'image/jpeg';
  if (b.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (b.subarray(0, 4).toString('latin1') === 'GIF8') return 'image/gif';
  return undefined;
}

/** Gemini's rules on function-calling turns (the wording of its 400s). */
function checkTurnOrder(contents: Obj[], model: string): void {
  contents.forEach((content, i) => {
    const parts = content.parts as Obj[];
    const calls = parts.filter((p) => p.functionCall !== undefined);
    const responses = parts.filter((p) => p.functionResponse !== undefined);
    const previous = contents[i - 1];
    const previousParts = (previous?.parts as Obj[] | undefined) ?? [];

    if (calls.length > 0) {
      if (i === 0 || previous.role !== 'user') {
        throw new Refusal(
          'Please ensure that function call turn comes immediately after a user turn or ' +
            'after a function response turn.',
        );
      }
      if (model.startsWith('gemini-3') && typeof calls[0].thoughtSignature !== 'string') {
        throw new Refusal(
          'Function call is missing a thought_signature in functionCall parts. This is ' +
            'required for tools to work correctly, and missing thought_signature may lead to ' +
            'degraded model performance. Please refer to ' +
            'https://ai.google.dev/gemini-api/docs/thought-signatures for more details.',
        );
      }
    }
    if (responses.length > 0) {
      const previousCalls = previousParts.filter((p) => p.functionCall !== undefined);
      if (previous?.role !== 'model' || previousCalls.length === 0) {
        throw new Refusal(
          'Please ensure that function response turn comes immediately after a function call turn.',
        );
      }
      if (previousCalls.length !== responses.length) {
        throw new Refusal(
          'Please ensure that the number of function response parts is equal to the number ' +
            'of function call parts of the function call turn.',
        );
      }
    }
  });
}

function checkSchema(value: unknown, at: string): void {
  const schema = fields(value, 'schema', at);
  const type = typeof schema.type === 'string' ? schema.type.toUpperCase() : undefined;
  if (schema.type !== undefined && (type === undefined || !SCHEMA_TYPES.has(type))) {
    throw new Refusal(
      `Invalid value at '${at}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), "${String(schema.type)}"`,
    );
  }
  if (
    schema.enum !== undefined &&
    !(schema.enum as unknown[]).every((v) => typeof v === 'string')
  ) {
    throw new Refusal(`Invalid value at '${at}.enum[0]' (TYPE_STRING)`);
  }
  if (
    type === 'OBJECT' &&
    schema.properties !== undefined &&
    Object.keys(schema.properties as Obj).length === 0
  ) {
    throw new Refusal(
      `* GenerateContentRequest.${at}.properties: should be non-empty for OBJECT type\n`,
    );
  }
  if (type === 'ARRAY' && schema.items === undefined) {
    throw new Refusal(`* GenerateContentRequest.${at}.items: missing field.\n`);
  }
  for (const [name, sub] of Object.entries((schema.properties as Obj | undefined) ?? {})) {
    checkSchema(sub, `${at}.properties[${name}].value`);
  }
  if (schema.items !== undefined) checkSchema(schema.items, `${at}.items`);
  ((schema.anyOf as unknown[]) ?? []).forEach((s, i) => checkSchema(s, `${at}.any_of[${i}]`));
}

function checkGenerationConfig(value: unknown): void {
  const cfg = fields(value, 'generationConfig', 'generation_config');
  const stops = cfg.stopSequences as unknown[] | undefined;
  if (stops !== undefined && stops.length > 5) {
    throw new Refusal(
      `* GenerateContentRequest.generation_config.stop_sequences: at most 5 stop sequences ` +
        `are allowed, got ${stops.length}.\n`,
    );
  }
  if (stops?.some((s) => s === '')) {
    throw new Refusal(
      '* GenerateContentRequest.generation_config.stop_sequences: empty stop sequence.\n',
    );
  }
  if (cfg.responseSchema !== undefined) {
    if (cfg.responseMimeType !== 'application/json') {
      throw new Refusal(
        '* GenerateContentRequest.generation_config.response_schema: response_schema is only ' +
          'supported when response_mime_type is application/json.\n',
      );
    }
    checkSchema(cfg.responseSchema, 'generation_config.response_schema');
  }
  if (cfg.thinkingConfig !== undefined)
    fields(cfg.thinkingConfig, 'thinkingConfig', 'generation_config.thinking_config');
  const positive = (key: string) => {
    const v = cfg[key];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) {
      throw new Refusal(
        `Invalid value at 'generation_config.${snake(key)}' (TYPE_INT32), ${String(v)}`,
      );
    }
  };
  positive('maxOutputTokens');
  positive('candidateCount');
  // GenerationConfig.seed is an int32 in Google's API (its SDKs type it so too).
  const seed = cfg.seed as number | undefined;
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= -(2 ** 31) && seed < 2 ** 31)) {
    throw new Refusal(`Invalid value at 'generation_config.seed' (TYPE_INT32), ${String(seed)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The server

export async function startMockGemini(opts: MockGeminiOptions = {}): Promise<MockGemini> {
  const gate = opts.gate ?? aiStudioGate(opts.apiKey);
  const server = await startMockServer<RecordedRequest, ScriptStep>({
    record: recordRequest,
    answer: (record, res, ctx) => {
      const fallback = () => opts.defaultFor?.(record) ?? defaultAnswer(record, opts);
      const step = gate(record) ?? strictRefusal(record, opts) ?? ctx.next() ?? fallback();
      return playStep(step, record, res, ctx, { ...GOOGLE_STYLE, defaultAnswer: fallback });
    },
  });

  return {
    origin: server.origin,
    requests: server.requests,
    script: server.script,
    pending: server.pending,
    close: server.close,
  };
}

/** Google sends no request id, and the last event of a stream with the end of the body. */
const GOOGLE_STYLE = {
  idHeaders: () => ({}),
  jsonType: 'application/json; charset=UTF-8',
  sseHeaders: { 'content-type': 'text/event-stream' },
  endWithLastWrite: true,
};

function aiStudioGate(apiKey: string | undefined): Gate {
  return (req) => {
    if (apiKey === undefined) return undefined;
    const given = req.headers['x-goog-api-key'] ?? req.query.key;
    if (!given) return geminiErrors.missingKey();
    if (given !== apiKey) return geminiErrors.invalidKey();
    if (!CHAT_PATH.test(req.path)) {
      return { status: 404, json: googleError(404, 'NOT_FOUND', `Method not found: ${req.path}`) };
    }
    return undefined;
  };
}

/** The model named by a generateContent path (AI Studio or Vertex). */
export function modelOf(path: string): string {
  return /\/models\/([^/:]+):/.exec(path)?.[1] ?? '';
}

function strictRefusal(req: RecordedRequest, opts: MockGeminiOptions): ScriptStep | undefined {
  if (!opts.strict || !/:(stream)?[gG]enerateContent$/.test(req.path)) return undefined;
  if (req.json === undefined) {
    return invalidArgument('Invalid JSON payload received. Unexpected token.');
  }
  if (/:streamGenerateContent$/.test(req.path) && req.query.alt !== 'sse') {
    // Without alt=sse Google streams one JSON array, which no SSE client can read.
    return invalidArgument('This mock serves streamGenerateContent only with alt=sse.');
  }
  const refusal = geminiRefusal(req.json, modelOf(req.path));
  return refusal === undefined ? undefined : invalidArgument(refusal);
}

/** An answer that honours the request: stream or not, candidateCount, the model named. */
function defaultAnswer(req: RecordedRequest, opts: MockGeminiOptions): ScriptStep {
  const text = opts.defaultText ?? 'Hello from the Gemini mock.';
  const config = ((req.json as Obj | undefined)?.generationConfig ?? {}) as Obj;
  const n = typeof config.candidateCount === 'number' ? config.candidateCount : 1;
  const usage = { promptTokenCount: 7, candidatesTokenCount: 5 * n };
  const modelVersion = modelOf(req.path) || undefined;
  if (req.path.endsWith(':streamGenerateContent')) {
    return { sse: geminiTextStream(text.match(/\s*\S+/g) ?? [text], { usage, modelVersion, n }) };
  }
  const candidates = Array.from({ length: n }, (_, index) => ({
    parts: [{ text }],
    finishReason: 'STOP',
    index,
  }));
  return { status: 200, json: geminiResponse({ candidates, usage, modelVersion }) };
}

function recordRequest(req: IncomingMessage, body: Buffer): RecordedRequest {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    url: req.url ?? '/',
    headers: headerRecord(req),
    body,
    json: parseJson(body),
    clientAborted: false,
  };
}

// ---------------------------------------------------------------------------------------------
// A sidecar policy for it

/**
 * One Gemini provider "gem" at `origin` (key from TEST_PROVIDER_KEY), every model name routed
 * to it, and gemini-2.5-pro priced at $1.25/M input and $10/M output. Circuit breakers are
 * effectively off so that scripted failures stay independent of each other.
 */
export function geminiPolicy(origin: string): Policy {
  return create(PolicySchema, {
    listen: { host: '127.0.0.1', port: 0 },
    routing: { breakerFailures: 1_000_000, breakerCooldownMs: 1 },
    providers: [
      { id: 'gem', protocol: Protocol.GEMINI, baseUrl: origin, apiKeyEnv: 'TEST_PROVIDER_KEY' },
    ],
    models: [
      {
        name: 'gemini-2.5-pro',
        provider: 'gem',
        target: 'gemini-2.5-pro',
        price: { inputPerMtok: 1.25, outputPerMtok: 10 },
      },
      { name: '*', provider: 'gem', target: '*' },
    ],
  });
}
