import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { create } from '@bufbuild/protobuf';
import { PolicySchema, Protocol, type Policy } from '../../proto/gen/modelgate/v1/policy_pb.js';
import type { HttpKind } from '../../sidecar/sidecar.js';
import {
  cut as cutWrites,
  headerRecord,
  parseJson,
  startMockServer,
  writeStream,
  type PlayContext,
} from './mock-server.js';
import { startTestSidecar, type TestSidecar } from './sidecar.js';

// A strict stand-in for the Bedrock runtime's Converse and ConverseStream operations. It
// checks SigV4 signatures with its own verifier (written apart from the sidecar's signer, from
// the raw request as received), enforces Converse's conversation rules with Bedrock's own error
// wording, and answers streams in the binary event-stream framing built by its own encoder and
// CRC32, scriptable down to the byte offsets where writes are cut.
//
// Sources: the Converse / ConverseStream API references, "Troubleshooting Amazon Bedrock API
// Error Codes", the IAM SigV4 guide, and the event-stream encoding in the Lex V2 guide. Where
// Bedrock's exact wording is unknown the mock is stricter than Bedrock, never looser.

// ---------------------------------------------------------------------------------------------
// CRC32 (ISO-HDLC, as gzip), table-driven, independent of node:zlib

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32Reference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Event-stream encoding

/** One message with string headers (value type 7), as Bedrock sends them. */
export function encodeMessage(headers: Record<string, string>, payload: Buffer | string): Buffer {
  const headerBytes = Buffer.concat(
    Object.entries(headers).map(([name, value]) => {
      const n = Buffer.from(name, 'utf8');
      const v = Buffer.from(value, 'utf8');
      const out = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
      out.writeUInt8(n.length, 0);
      n.copy(out, 1);
      out.writeUInt8(7, 1 + n.length);
      out.writeUInt16BE(v.length, 2 + n.length);
      v.copy(out, 4 + n.length);
      return out;
    }),
  );
  const body = Buffer.from(payload);
  const total = 12 + headerBytes.length + body.length + 4;
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32Reference(message.subarray(0, 8)), 8);
  headerBytes.copy(message, 12);
  body.copy(message, 12 + headerBytes.length);
  message.writeUInt32BE(crc32Reference(message.subarray(0, total - 4)), total - 4);
  return message;
}

// Bedrock pads every event with a "p" field so that sizes do not leak content.
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ';

export function eventFrame(eventType: string, payload: object): Buffer {
  return encodeMessage(
    { ':event-type': eventType, ':content-type': 'application/json', ':message-type': 'event' },
    JSON.stringify({ ...payload, p: PADDING.slice(0, 5 + (eventType.length % 20)) }),
  );
}

/** An exception frame; `type` is lower-camel-case, e.g. throttlingException. */
export function exceptionFrame(type: string, message: string): Buffer {
  return encodeMessage(
    { ':exception-type': type, ':content-type': 'application/json', ':message-type': 'exception' },
    JSON.stringify({ message }),
  );
}

export interface ToolUseInit {
  id: string;
  name: string;
  /** The input JSON text; each element is sent as one contentBlockDelta. */
  input: readonly string[];
}

export interface BedrockUsageInit {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export interface StreamInit {
  /** Text deltas of a leading text block. */
  text?: readonly string[];
  tools?: readonly ToolUseInit[];
  reasoning?: readonly string[];
  stopReason?: string;
  usage?: BedrockUsageInit;
  /** Leave out messageStop / metadata (a stream cut short). */
  noStop?: boolean;
  noMetadata?: boolean;
}

/** A ConverseStream answer in Bedrock's event order, one frame per element. */
export function converseStream(init: StreamInit): Buffer[] {
  const frames = [eventFrame('messageStart', { role: 'assistant' })];
  let block = 0;
  if (init.reasoning?.length) {
    for (const text of init.reasoning) {
      frames.push(
        eventFrame('contentBlockDelta', {
          contentBlockIndex: block,
          delta: { reasoningContent: { text } },
        }),
      );
    }
    frames.push(
      eventFrame('contentBlockDelta', {
        contentBlockIndex: block,
        delta: { reasoningContent: { signature: 'c2lnbmF0dXJl' } },
      }),
      eventFrame('contentBlockStop', { contentBlockIndex: block++ }),
    );
  }
  if (init.text?.length) {
    for (const text of init.text) {
      frames.push(eventFrame('contentBlockDelta', { contentBlockIndex: block, delta: { text } }));
    }
    frames.push(eventFrame('contentBlockStop', { contentBlockIndex: block++ }));
  }
  for (const tool of init.tools ?? []) {
    frames.push(
      eventFrame('contentBlockStart', {
        contentBlockIndex: block,
        start: { toolUse: { toolUseId: tool.id, name: tool.name } },
      }),
    );
    for (const input of tool.input) {
      frames.push(
        eventFrame('contentBlockDelta', {
          contentBlockIndex: block,
          delta: { toolUse: { input } },
        }),
      );
    }
    frames.push(eventFrame('contentBlockStop', { contentBlockIndex: block++ }));
  }
  const stopReason = init.stopReason ?? (init.tools?.length ? 'tool_use' : 'end_turn');
  if (!init.noStop) frames.push(eventFrame('messageStop', { stopReason }));
  if (!init.noMetadata) {
    frames.push(
      eventFrame('metadata', {
        usage: tokenUsage(init.usage ?? { inputTokens: 12, outputTokens: 6 }),
        metrics: { latencyMs: 321 },
      }),
    );
  }
  return frames;
}

export interface ResponseInit {
  text?: string;
  tools?: readonly { id: string; name: string; input: unknown }[];
  reasoning?: string;
  stopReason?: string;
  usage?: BedrockUsageInit;
}

/** A Converse (non-stream) response body. */
export function converseResponse(init: ResponseInit) {
  const content: object[] = [];
  if (init.reasoning) {
    content.push({
      reasoningContent: { reasoningText: { text: init.reasoning, signature: 'c2ln' } },
    });
  }
  if (init.text !== undefined) content.push({ text: init.text });
  for (const t of init.tools ?? []) {
    content.push({ toolUse: { toolUseId: t.id, name: t.name, input: t.input } });
  }
  return {
    output: { message: { role: 'assistant', content } },
    stopReason: init.stopReason ?? (init.tools?.length ? 'tool_use' : 'end_turn'),
    usage: tokenUsage(init.usage ?? { inputTokens: 12, outputTokens: 6 }),
    metrics: { latencyMs: 321 },
  };
}

function tokenUsage(u: BedrockUsageInit) {
  const total =
    u.inputTokens + u.outputTokens + (u.cacheReadInputTokens ?? 0) + (u.cacheWriteInputTokens ?? 0);
  return { ...u, totalTokens: total };
}

// ---------------------------------------------------------------------------------------------
// Bedrock's errors

const ERROR_STATUS: Record<string, number> = {
  AccessDeniedException: 403,
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 400,
  ValidationException: 400,
  ResourceNotFoundException: 404,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
};

export interface ErrorStep {
  error: string;
  message: string;
  status?: number;
  headers?: Record<string, string>;
}

export const bedrockErrors = {
  inputTooLong: (): ErrorStep => ({
    error: 'ValidationException',
    message: 'Input is too long for requested model.',
  }),
  throttled: (): ErrorStep => ({
    error: 'ThrottlingException',
    message: 'Too many requests, please wait before trying again.',
  }),
  accessDenied: (): ErrorStep => ({
    error: 'AccessDeniedException',
    message: "You don't have access to the model with the specified model ID.",
  }),
  modelNotFound: (): ErrorStep => ({
    error: 'ResourceNotFoundException',
    message: 'Could not resolve the foundation model from the provided model identifier.',
  }),
  unavailable: (): ErrorStep => ({
    error: 'ServiceUnavailableException',
    message: 'Bedrock is unable to process your request.',
  }),
  modelTimeout: (): ErrorStep => ({
    error: 'ModelTimeoutException',
    message: 'Model has timed out in processing the request. Try your request again.',
  }),
  internal: (): ErrorStep => ({
    error: 'InternalServerException',
    message:
      'The system encountered an unexpected error during processing. Try your request again.',
  }),
};

const validation = (message: string): ErrorStep => ({ error: 'ValidationException', message });

// ---------------------------------------------------------------------------------------------
// SigV4 verification, from the raw request (deliberately not sharing the sidecar's code)

export interface MockAwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const AUTHZ =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;
const FIVE_MINUTES_MS = 5 * 60 * 1000;

export interface SignatureCheck {
  canonicalRequest?: string;
  failure?: ErrorStep;
}

export function verifySignature(
  req: IncomingMessage,
  body: Buffer,
  creds: MockAwsCredentials,
  region: string,
  nowMs = Date.now(),
): SignatureCheck {
  const authorization = req.headers.authorization;
  if (authorization === undefined) {
    return {
      failure: {
        error: 'MissingAuthenticationTokenException',
        message: 'Missing Authentication Token',
      },
    };
  }
  const m = AUTHZ.exec(authorization);
  if (m === null) {
    return {
      failure: {
        error: 'IncompleteSignatureException',
        message: `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${authorization.split(' ')[0]}`,
      },
    };
  }
  const [, keyId, day, scopeRegion, service, signedList, signature] = m;
  if (keyId !== creds.accessKeyId) {
    return {
      failure: {
        error: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      },
    };
  }
  if (
    creds.sessionToken !== undefined &&
    req.headers['x-amz-security-token'] !== creds.sessionToken
  ) {
    return {
      failure: {
        error: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      },
    };
  }
  if (scopeRegion !== region) {
    return {
      failure: {
        error: 'InvalidSignatureException',
        message: `Credential should be scoped to a valid region. `,
      },
    };
  }
  if (service !== 'bedrock') {
    return {
      failure: {
        error: 'InvalidSignatureException',
        message: `Credential should be scoped to correct service: 'bedrock'. `,
      },
    };
  }
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const signed = signedList.split(';');
  if (
    !/^\d{8}T\d{6}Z$/.test(amzDate) ||
    !signed.includes('x-amz-date') ||
    !signed.includes('host')
  ) {
    return {
      failure: {
        error: 'IncompleteSignatureException',
        message:
          "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
      },
    };
  }
  const requestMs = Date.UTC(
    +amzDate.slice(0, 4),
    +amzDate.slice(4, 6) - 1,
    +amzDate.slice(6, 8),
    +amzDate.slice(9, 11),
    +amzDate.slice(11, 13),
    +amzDate.slice(13, 15),
  );
  if (Math.abs(nowMs - requestMs) > FIVE_MINUTES_MS) {
    return {
      failure: {
        error: 'InvalidSignatureException',
        message: `Signature expired: ${amzDate} is now earlier than ${basic(nowMs - FIVE_MINUTES_MS)} (${basic(nowMs)} - 5 min.)`,
      },
    };
  }

  // The canonical request, rebuilt from what actually arrived.
  const rawTarget = req.url ?? '/';
  const q = rawTarget.indexOf('?');
  const rawPath = q === -1 ? rawTarget : rawTarget.slice(0, q);
  const rawQuery = q === -1 ? '' : rawTarget.slice(q + 1);
  const received = new Map<string, string[]>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    received.set(name, [...(received.get(name) ?? []), req.rawHeaders[i + 1]]);
  }
  const headerLines = [...signed]
    .sort()
    .map((name) => `${name}:${(received.get(name) ?? []).map(squeeze).join(',')}\n`)
    .join('');
  const canonicalRequest = [
    req.method,
    rawPath.split('/').map(percentEncodeBytes).join('/') || '/',
    rawQuery
      .split('&')
      .filter(Boolean)
      .map((p) =>
        p
          .split('=')
          .map((s) => percentEncodeBytes(decodeURIComponent(s)))
          .join('='),
      )
      .sort()
      .join('&'),
    headerLines,
    [...signed].sort().join(';'),
    createHash('sha256').update(body).digest('hex'),
  ].join('\n');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    `${day}/${scopeRegion}/${service}/aws4_request`,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  let key: Buffer = Buffer.from(`AWS4${creds.secretAccessKey}`);
  for (const part of [day, scopeRegion, service, 'aws4_request']) {
    key = createHmac('sha256', key).update(part).digest();
  }
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  if (expected !== signature || signedList !== [...signed].sort().join(';')) {
    // AWS quotes both strings back; a gateway must never pass them to its client.
    return {
      canonicalRequest,
      failure: {
        error: 'InvalidSignatureException',
        message:
          'The request signature we calculated does not match the signature you provided. ' +
          'Check your AWS Secret Access Key and signing method. Consult the service ' +
          `documentation for details.\n\nThe Canonical String for this request should have been\n'${canonicalRequest}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`,
      },
    };
  }
  return { canonicalRequest };
}

/** Byte-wise RFC 3986 encoding; applied to the path as received, so segments end up twice encoded. */
function percentEncodeBytes(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function squeeze(value: string): string {
  return value.trim().split(/\s+/).join(' ');
}

function basic(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';
}

// ---------------------------------------------------------------------------------------------
// Converse request rules

const TOP_KEYS = new Set([
  'messages',
  'system',
  'inferenceConfig',
  'toolConfig',
  'guardrailConfig',
  'additionalModelRequestFields',
  'additionalModelResponseFieldPaths',
  'promptVariables',
  'requestMetadata',
  'performanceConfig',
  'outputConfig',
  'serviceTier',
]);
const INFERENCE_KEYS = new Set(['maxTokens', 'temperature', 'topP', 'stopSequences']);
const BLOCK_KEYS = new Set([
  'text',
  'image',
  'document',
  'video',
  'toolUse',
  'toolResult',
  'guardContent',
  'cachePoint',
  'reasoningContent',
  'citationsContent',
]);
const SYSTEM_KEYS = new Set(['text', 'guardContent', 'cachePoint']);
const RESULT_KEYS = new Set(['text', 'json', 'image', 'document', 'video']);
const FORMATS = new Set(['png', 'jpeg', 'gif', 'webp']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type Json = Record<string, unknown>;

/** Bedrock's words for a body that breaks a Converse rule, or undefined when it is valid. */
export function converseRejection(body: unknown): ErrorStep | undefined {
  if (!isObject(body))
    return validation('Malformed input request, please reformat your input and try again.');
  return (
    extraneous(body, TOP_KEYS) ??
    checkInference(body.inferenceConfig) ??
    checkSystem(body.system) ??
    checkMessages(body.messages) ??
    checkToolConfig(body) ??
    checkOutputConfig(body.outputConfig)
  );
}

function extraneous(obj: Json, allowed: Set<string>): ErrorStep | undefined {
  const key = Object.keys(obj).find((k) => !allowed.has(k));
  return key === undefined
    ? undefined
    : validation(
        `Malformed input request: extraneous key [${key}] is not permitted, please reformat your input and try again.`,
      );
}

function enumError(value: unknown, at: string, allowed: string): ErrorStep {
  return validation(
    `1 validation error detected: Value '${String(value)}' at '${at}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed}]`,
  );
}

function checkInference(config: unknown): ErrorStep | undefined {
  if (config === undefined) return undefined;
  if (!isObject(config)) return validation('inferenceConfig must be an object.');
  const bad = extraneous(config, INFERENCE_KEYS);
  if (bad) return bad;
  if (
    config.maxTokens !== undefined &&
    !(Number.isInteger(config.maxTokens) && Number(config.maxTokens) >= 1)
  ) {
    return validation(
      "1 validation error detected: Value at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
  }
  const stops = config.stopSequences;
  if (
    stops !== undefined &&
    (!Array.isArray(stops) || stops.some((s) => typeof s !== 'string' || s === ''))
  ) {
    return validation(
      "1 validation error detected: Value at 'inferenceConfig.stopSequences' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  }
  return undefined;
}

function checkSystem(system: unknown): ErrorStep | undefined {
  if (system === undefined) return undefined;
  if (!Array.isArray(system)) return validation('system must be a list.');
  for (const [i, block] of system.entries()) {
    if (!isObject(block)) return validation('system blocks must be objects.');
    const bad = extraneous(block, SYSTEM_KEYS);
    if (bad) return bad;
    if (typeof block.text === 'string' && block.text.trim() === '') {
      return validation(
        `The text field in the SystemContentBlock object at system.${i} is blank. Add text to the text field, and try again.`,
      );
    }
  }
  return undefined;
}

function checkMessages(messages: unknown): ErrorStep | undefined {
  if (!Array.isArray(messages) || messages.length === 0) {
    return validation(
      'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
    );
  }
  for (const [i, m] of messages.entries()) {
    if (!isObject(m)) return validation('messages must be objects.');
    const bad = extraneous(m, new Set(['role', 'content']));
    if (bad) return bad;
    if (m.role !== 'user' && m.role !== 'assistant') {
      return enumError(m.role, `messages.${i + 1}.member.role`, 'user, assistant');
    }
    if (i === 0 && m.role !== 'user') {
      return validation(
        'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
      );
    }
    if (i > 0 && (messages[i - 1] as Json).role === m.role) {
      return validation(
        'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
      );
    }
    if (!Array.isArray(m.content) || m.content.length === 0) {
      return validation(
        `The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`,
      );
    }
    for (const [j, block] of m.content.entries()) {
      const problem = checkBlock(block, i, j, m.role);
      if (problem) return problem;
    }
  }
  return checkToolPairs(messages as Json[]);
}

function checkBlock(block: unknown, i: number, j: number, role: unknown): ErrorStep | undefined {
  if (!isObject(block) || Object.keys(block).length !== 1) {
    return validation(
      `The ContentBlock object at messages.${i}.content.${j} must hold exactly one member.`,
    );
  }
  const bad = extraneous(block, BLOCK_KEYS);
  if (bad) return bad;
  if ('text' in block && (typeof block.text !== 'string' || block.text.trim() === '')) {
    return validation(
      `The text field in the ContentBlock object at messages.${i}.content.${j} is blank. Add text to the text field, and try again.`,
    );
  }
  if ('image' in block) return checkImage(block.image, i, j);
  if ('toolUse' in block) {
    const use = block.toolUse as Json;
    if (role !== 'assistant')
      return validation(
        `toolUse blocks are only allowed in assistant messages (messages.${i}.content.${j}).`,
      );
    return (
      extraneous(use, new Set(['toolUseId', 'name', 'input'])) ??
      (typeof use.toolUseId === 'string' && typeof use.name === 'string' && isObject(use.input)
        ? undefined
        : validation(
            `The toolUse at messages.${i}.content.${j} needs a toolUseId, a name and an input object.`,
          ))
    );
  }
  if ('toolResult' in block) {
    const result = block.toolResult as Json;
    if (role !== 'user')
      return validation(
        `toolResult blocks are only allowed in user messages (messages.${i}.content.${j}).`,
      );
    const bad2 = extraneous(result, new Set(['toolUseId', 'content', 'status']));
    if (bad2) return bad2;
    // An empty content list is valid (Claude on Bedrock takes it); a blank text block in it is
    // not: the Claude backend's refusal comes back as a ValidationException.
    if (!Array.isArray(result.content)) return validation('toolResult.content must be a list.');
    for (const part of result.content) {
      if (!isObject(part)) return validation('toolResult content blocks must be objects.');
      const bad3 = extraneous(part, RESULT_KEYS);
      if (bad3) return bad3;
      if ('text' in part && typeof part.text === 'string' && part.text.trim() === '') {
        return validation(
          `The model returned the following errors: messages.${i}.content.${j}: text content blocks must ${part.text === '' ? 'be non-empty' : 'contain non-whitespace text'}`,
        );
      }
    }
  }
  return undefined;
}

function checkImage(image: unknown, i: number, j: number): ErrorStep | undefined {
  if (!isObject(image)) return validation('image must be an object.');
  const bad = extraneous(image, new Set(['format', 'source']));
  if (bad) return bad;
  if (!FORMATS.has(String(image.format))) {
    return enumError(
      image.format,
      `messages.${i + 1}.member.content.${j + 1}.member.image.format`,
      'png, jpeg, gif, webp',
    );
  }
  const source = image.source;
  if (!isObject(source) || Object.keys(source).length !== 1)
    return validation('image.source must hold bytes or s3Location.');
  if (isObject(source.s3Location)) {
    return typeof source.s3Location.uri === 'string' && source.s3Location.uri.startsWith('s3://')
      ? undefined
      : validation('image.source.s3Location.uri must be an s3:// URI.');
  }
  if (typeof source.bytes !== 'string' || !BASE64.test(source.bytes)) {
    return {
      error: 'SerializationException',
      message: 'Unable to parse image bytes as base64.',
      status: 400,
    };
  }
  if (magicFormat(Buffer.from(source.bytes, 'base64')) !== image.format) {
    return validation('Could not process image');
  }
  return undefined;
}

function magicFormat(b: Buffer): string | undefined {
  if (b.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) return 'png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (
    b.subarray(0, 6).toString('latin1') === 'GIF89a' ||
    b.subarray(0, 6).toString('latin1') === 'GIF87a'
  )
    return 'gif';
  if (
    b.subarray(0, 4).toString('latin1') === 'RIFF' &&
    b.subarray(8, 12).toString('latin1') === 'WEBP'
  )
    return 'webp';
  return undefined;
}

/** Every toolUse is answered in the very next user message, and every toolResult answers one. */
function checkToolPairs(messages: Json[]): ErrorStep | undefined {
  for (const [i, m] of messages.entries()) {
    const blocks = m.content as Json[];
    if (m.role === 'assistant') {
      const ids = blocks
        .filter((b) => 'toolUse' in b)
        .map((b) => String((b.toolUse as Json).toolUseId));
      if (ids.length === 0) continue;
      const next = messages[i + 1];
      const answered = new Set(
        ((next?.content as Json[] | undefined) ?? [])
          .filter((b) => 'toolResult' in b)
          .map((b) => String((b.toolResult as Json).toolUseId)),
      );
      const missing = ids.filter((id) => !answered.has(id));
      if (missing.length > 0) {
        return validation(
          `Expected toolResult blocks at messages.${i + 1}.content for the following Ids: ${missing.join(', ')}`,
        );
      }
    } else {
      const previous = messages[i - 1]?.content as Json[] | undefined;
      const asked = new Set(
        (previous ?? [])
          .filter((b) => 'toolUse' in b)
          .map((b) => String((b.toolUse as Json).toolUseId)),
      );
      for (const [j, b] of blocks.entries()) {
        if (!('toolResult' in b)) continue;
        const id = String((b.toolResult as Json).toolUseId);
        if (!asked.has(id)) {
          return validation(
            `The model returned the following errors: messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
          );
        }
      }
    }
  }
  return undefined;
}

function checkToolConfig(body: Json): ErrorStep | undefined {
  const usesTools = (body.messages as Json[]).some((m) =>
    (m.content as Json[]).some((b) => 'toolUse' in b || 'toolResult' in b),
  );
  const config = body.toolConfig;
  if (config === undefined) {
    return usesTools
      ? validation(
          'The toolConfig field must be defined when using toolUse and toolResult content blocks.',
        )
      : undefined;
  }
  if (!isObject(config)) return validation('toolConfig must be an object.');
  const bad = extraneous(config, new Set(['tools', 'toolChoice']));
  if (bad) return bad;
  if (!Array.isArray(config.tools) || config.tools.length === 0) {
    return validation(
      "1 validation error detected: Value '[]' at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  }
  const names: string[] = [];
  for (const tool of config.tools) {
    if (!isObject(tool)) return validation('tools must be objects.');
    const bad2 = extraneous(tool, new Set(['toolSpec', 'cachePoint']));
    if (bad2) return bad2;
    if (tool.cachePoint) continue;
    const spec = tool.toolSpec;
    if (!isObject(spec)) return validation('A tool needs a toolSpec.');
    const bad3 = extraneous(spec, new Set(['name', 'description', 'inputSchema', 'strict']));
    if (bad3) return bad3;
    if (typeof spec.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(spec.name)) {
      return validation(
        `1 validation error detected: Value '${String(spec.name)}' at 'toolConfig.tools.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+`,
      );
    }
    if (
      !isObject(spec.inputSchema) ||
      !isObject(spec.inputSchema.json) ||
      Object.keys(spec.inputSchema).length !== 1
    ) {
      return validation('The toolSpec inputSchema must hold a json schema object.');
    }
    names.push(spec.name);
  }
  const choice = config.toolChoice;
  if (choice === undefined) return undefined;
  if (!isObject(choice) || Object.keys(choice).length !== 1)
    return validation('toolChoice must hold exactly one of auto, any, tool.');
  const bad4 = extraneous(choice, new Set(['auto', 'any', 'tool']));
  if (bad4) return bad4;
  if (isObject(choice.tool) && !names.includes(String(choice.tool.name))) {
    return validation(
      `The tool ${String(choice.tool.name)} in toolChoice was not found in toolConfig.tools.`,
    );
  }
  return undefined;
}

function checkOutputConfig(config: unknown): ErrorStep | undefined {
  if (config === undefined) return undefined;
  if (!isObject(config)) return validation('outputConfig must be an object.');
  const bad = extraneous(config, new Set(['textFormat']));
  if (bad) return bad;
  const format = config.textFormat as Json;
  if (!isObject(format) || format.type !== 'json_schema') {
    return enumError(format?.type, 'outputConfig.textFormat.type', 'json_schema');
  }
  const jsonSchema = (format.structure as Json | undefined)?.jsonSchema as Json | undefined;
  if (!isObject(jsonSchema) || typeof jsonSchema.schema !== 'string') {
    return validation('outputConfig.textFormat.structure.jsonSchema.schema must be a JSON string.');
  }
  try {
    JSON.parse(jsonSchema.schema);
  } catch {
    return validation('The JSON schema in outputConfig is not valid JSON.');
  }
  return extraneous(jsonSchema, new Set(['schema', 'name', 'description']));
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// The server

export interface BedrockRecordedRequest {
  method: string;
  /** The path exactly as received (still percent-encoded). */
  rawPath: string;
  /** The model id, decoded from the path; undefined for an unknown route. */
  modelId?: string;
  operation?: 'converse' | 'converse-stream';
  headers: Record<string, string>;
  body: Buffer;
  json: unknown;
  /** The canonical request the mock rebuilt, when the request was SigV4-signed. */
  canonicalRequest?: string;
  /** The error the mock answered before any script step, if it rejected the request. */
  rejected?: ErrorStep;
  clientAborted: boolean;
}

export interface JsonStep {
  status: number;
  json: unknown;
  headers?: Record<string, string>;
}

/** Any body as given, with only the headers given and the request id. */
export interface RawStep {
  status: number;
  body: string | Buffer;
  headers?: Record<string, string>;
}

export interface FramesStep {
  frames: readonly Buffer[];
  status?: number;
  /** Byte offsets into the concatenated frames where writes are cut (any offset at all). */
  splitAt?: readonly number[];
  /** Pause between writes. */
  delayMs?: number;
  /** 'destroy' closes the socket without the final chunk. */
  ending?: 'end' | 'destroy';
}

export type BedrockStep =
  | JsonStep
  | RawStep
  | ErrorStep
  | FramesStep
  | { destroyBeforeHeaders: true }
  | ((req: BedrockRecordedRequest) => BedrockStep);

export interface MockBedrockOptions {
  region?: string;
  /** Verify SigV4 with these; without them any signature passes unless apiKey matches. */
  credentials?: MockAwsCredentials;
  /** A Bedrock API key accepted as `Authorization: Bearer`. */
  apiKey?: string;
  /** Reject bodies that break Converse's rules (default true). */
  strict?: boolean;
  /** Text of default answers. */
  defaultText?: string;
}

export interface MockBedrock {
  url: string;
  region: string;
  requests: BedrockRecordedRequest[];
  script(...steps: BedrockStep[]): void;
  pending(): number;
  close(): Promise<void>;
}

const ROUTE = /^\/model\/([^/]+)\/(converse|converse-stream)$/;

export async function startMockBedrock(opts: MockBedrockOptions = {}): Promise<MockBedrock> {
  const region = opts.region ?? 'us-east-1';
  const server = await startMockServer<BedrockRecordedRequest, BedrockStep>({
    record: recordRequest,
    answer: (record, res, ctx, req) => {
      const rejection = reject(req, record, opts, region);
      if (rejection) record.rejected = rejection;
      const step = rejection ?? ctx.next() ?? defaultAnswer(record, opts);
      return play(step, record, res, ctx);
    },
  });

  return {
    url: server.origin,
    region,
    requests: server.requests,
    script: server.script,
    pending: server.pending,
    close: server.close,
  };
}

function recordRequest(req: IncomingMessage, body: Buffer): BedrockRecordedRequest {
  const rawPath = (req.url ?? '/').split('?')[0];
  const route = ROUTE.exec(rawPath);
  return {
    method: req.method ?? 'GET',
    rawPath,
    modelId: route ? decodeURIComponent(route[1]) : undefined,
    operation: route ? (route[2] as 'converse' | 'converse-stream') : undefined,
    headers: headerRecord(req),
    body,
    json: parseJson(body),
    clientAborted: false,
  };
}

function reject(
  req: IncomingMessage,
  record: BedrockRecordedRequest,
  opts: MockBedrockOptions,
  region: string,
): ErrorStep | undefined {
  const authorization = req.headers.authorization ?? '';
  if (authorization.startsWith('Bearer ')) {
    if (opts.apiKey === undefined || authorization.slice(7) !== opts.apiKey) {
      return {
        error: 'UnrecognizedClientException',
        message: 'Invalid API Key format: Must start with pre-defined prefix',
      };
    }
  } else if (opts.credentials !== undefined) {
    const check = verifySignature(req, record.body, opts.credentials, region);
    record.canonicalRequest = check.canonicalRequest;
    if (check.failure) return check.failure;
  }

  if (req.method !== 'POST' || record.operation === undefined) {
    return { error: 'UnknownOperationException', message: 'Unknown operation', status: 404 };
  }
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
    return { error: 'SerializationException', message: 'Unexpected content type', status: 400 };
  }
  return opts.strict === false ? undefined : converseRejection(record.json);
}

function defaultAnswer(req: BedrockRecordedRequest, opts: MockBedrockOptions): BedrockStep {
  const text = opts.defaultText ?? 'Hello from Bedrock.';
  if (req.operation === 'converse-stream') {
    return { frames: converseStream({ text: text.match(/\s*\S+/g) ?? [] }) };
  }
  return { status: 200, json: converseResponse({ text }) };
}

async function play(
  step: BedrockStep,
  req: BedrockRecordedRequest,
  res: ServerResponse,
  ctx: PlayContext,
): Promise<void> {
  if (typeof step === 'function') return play(step(req), req, res, ctx);
  const requestId = { 'x-amzn-requestid': randomUUID() };
  if ('destroyBeforeHeaders' in step) {
    ctx.markOurs();
    res.socket?.destroy();
    return;
  }
  if ('error' in step) {
    res.writeHead(step.status ?? ERROR_STATUS[step.error] ?? 400, {
      'content-type': 'application/json',
      'x-amzn-errortype': `${step.error}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      ...requestId,
      ...step.headers,
    });
    res.end(JSON.stringify({ message: step.message }));
    return;
  }
  if ('json' in step) {
    res.writeHead(step.status, {
      'content-type': 'application/json',
      ...requestId,
      ...step.headers,
    });
    res.end(JSON.stringify(step.json));
    return;
  }
  if ('body' in step) {
    res.writeHead(step.status, { ...requestId, ...step.headers });
    res.end(step.body);
    return;
  }

  res.writeHead(step.status ?? 200, {
    'content-type': 'application/vnd.amazon.eventstream',
    ...requestId,
  });
  res.flushHeaders();
  await writeStream(res, cut(step.frames, step.splitAt), {
    delayMs: step.delayMs,
    ending: step.ending,
    ctx,
  });
}

/** Re-cuts the frames at the given byte offsets; without offsets, one write per frame. */
export function cut(frames: readonly Buffer[], offsets?: readonly number[]): Buffer[] {
  return offsets === undefined ? [...frames] : cutWrites(frames, offsets);
}

// ---------------------------------------------------------------------------------------------
// A sidecar wired to the mock

/** Fake AWS credentials for tests; they open nothing. */
export const TEST_AWS: MockAwsCredentials = {
  accessKeyId: 'AKIAMODELGATETEST001',
  secretAccessKey: 'mgTestSecret/K7MDENG+bPxRfiCYTESTKEY0001',
};

export const TEST_BEDROCK_API_KEY = 'ABSKbW9kZWxnYXRlLXRlc3Qta2V5LTAxMjM0NTY3ODk=';

export const MODEL_IDS = {
  claude: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
  profile: 'us.anthropic.claude-3-7-sonnet-20250219-v1:0',
  arn: 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0',
};

export interface BedrockPolicyOptions {
  upstream: string;
  region?: string;
  /** Set to use a Bedrock API key from this variable instead of SigV4. */
  apiKeyEnv?: string;
  credentialsEnv?: string;
}

/** Public names: bedrock-claude, bedrock-profile, bedrock-arn; anything else passes through. */
export function bedrockPolicy(opts: BedrockPolicyOptions): Policy {
  return create(PolicySchema, {
    listen: { host: '127.0.0.1', port: 0 },
    providers: [
      {
        id: 'bedrock',
        protocol: Protocol.BEDROCK,
        baseUrl: opts.upstream,
        region: opts.region ?? 'us-east-1',
        apiKeyEnv: opts.apiKeyEnv ?? '',
        credentialsEnv: opts.credentialsEnv ?? '',
      },
    ],
    models: [
      { name: 'bedrock-claude', provider: 'bedrock', target: MODEL_IDS.claude },
      { name: 'bedrock-profile', provider: 'bedrock', target: MODEL_IDS.profile },
      { name: 'bedrock-arn', provider: 'bedrock', target: MODEL_IDS.arn },
      { name: '*', provider: 'bedrock', target: '*' },
    ],
  });
}

/** The environment a sidecar reads AWS keys from, under a prefix. */
export function awsEnv(creds: MockAwsCredentials, prefix = 'AWS_'): Record<string, string> {
  const env: Record<string, string> = {
    [`${prefix}ACCESS_KEY_ID`]: creds.accessKeyId,
    [`${prefix}SECRET_ACCESS_KEY`]: creds.secretAccessKey,
  };
  if (creds.sessionToken) env[`${prefix}SESSION_TOKEN`] = creds.sessionToken;
  return env;
}

/** Like startTestSidecar, with an environment of the test's choosing (AWS keys). */
export async function startBedrockSidecar(
  policy: Policy,
  env: Record<string, string>,
  http: HttpKind = 'auto',
): Promise<TestSidecar> {
  return startTestSidecar(policy, http, env);
}
