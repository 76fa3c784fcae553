// One attempt of a chat request on one endpoint, with its timeouts on the clock. It either
// answers the client, or fails without having sent anything (so the caller may move on),
// or fails after the commit point (the client already has an error event).

import { GatewayError } from '../errors.js';
import type {
  ChatCall,
  UpstreamFailure,
  UpstreamRequest,
  UpstreamResponse,
} from '../providers/adapter.js';
import { Cancel } from '../providers/cancel.js';
import { badResponse, cutAnswer, revised, transportFailure } from '../providers/failures.js';
import { REQUEST_ID_HEADERS } from '../providers/header-names.js';
import type { Redactor } from '../providers/redact.js';
import {
  namingContentType,
  notEventStream,
  otherMediaType,
} from '../providers/stream-content-type.js';
import { sendJson } from '../http/respond.js';
import type { HeaderList, HttpReply } from '../http/types.js';
import type { Endpoint, RouteTimeouts } from '../routing/model-table.js';
import type { ChatRequest } from './chat-request.js';
import { StreamRelay } from './chat-stream.js';
import type { RequestContext } from './context.js';

export type AttemptOutcome = (
  | { kind: 'answered' }
  /**
   * `callerCredential`: the provider refused the credential the caller sent as x-pass-*, so
   * the failure is the caller's, says nothing about the endpoint, and no other may try.
   */
  | { kind: 'failed'; failure: UpstreamFailure; callerCredential?: true }
  | { kind: 'broken'; failure: UpstreamFailure; callerCredential?: true }
  | { kind: 'aborted' }
) & {
  /** The provider's response headers, when it answered at all (rate-limit headroom). */
  headers?: UpstreamResponse['headers'];
  /** Milliseconds from the attempt's start to its first content chunk (streams). */
  ttftMs?: number;
};

export interface AttemptInput {
  endpoint: Endpoint;
  call: ChatCall;
  chat: ChatRequest;
  reply: HttpReply;
  ctx: RequestContext;
  timeouts: RouteTimeouts;
  /** The request's own flag: client gone, or the total deadline passed. */
  deadline: Cancel;
  /** Response headers naming this endpoint and attempt number. */
  served: HeaderList;
  maxResponseBytes: number;
}

const ERROR_BODY_BYTES = 64 * 1024;

export async function attempt(input: AttemptInput): Promise<AttemptOutcome> {
  const redactor = input.endpoint.provider.redactor.withPassed(input.call.passHeaders);
  const outcome = await attemptOnce(input, redactor);
  // Every failure leaves here, to the client and the log line, with no credential in it. A
  // broken stream's was masked already, by the relay that sent it as an error event.
  if (outcome.kind === 'failed') outcome.failure = redactor.failure(outcome.failure);
  return outcome;
}

async function attemptOnce(input: AttemptInput, redactor: Redactor): Promise<AttemptOutcome> {
  const { endpoint, reply, timeouts } = input;
  // A stream needs its own flag for the first-token clock; it follows the request's. A
  // plain answer can use the request's flag as it is.
  const local = input.chat.stream ? new Cancel() : undefined;
  const unfollow = local && input.deadline.onAbort(() => local.abort(input.deadline.reason));
  const cancel = local ?? input.deadline;
  // First token is the commit point of a stream; a non-stream answer has no earlier one.
  const firstToken =
    local !== undefined
      ? setTimeout(() => local.abort('first_token'), timeouts.firstTokenMs)
      : undefined;
  const timedOut = (): UpstreamFailure | undefined => timeoutFailure(input, cancel);
  const started = performance.now();

  try {
    let request: UpstreamRequest;
    try {
      const built = endpoint.provider.adapter.buildChat(input.call);
      // Most adapters build synchronously: no await, no extra turn of the microtask queue.
      request = built instanceof Promise ? await built : built;
    } catch (err) {
      // A request the client got wrong is the client's to hear about at once; a credential
      // that could not be minted (Vertex) is this endpoint's fault, and the next may answer.
      if (!(err instanceof GatewayError) || err.status < 500) throw err;
      const failure = {
        code: err.code,
        status: err.status,
        message: err.message,
        detail: 'credential',
      };
      return { kind: 'failed', failure };
    }
    // Undefined unless the caller's x-pass-* headers were the request's only credential.
    const passed = passedCredential(input.call, request, endpoint.provider.configuredHeaders);
    const id = endpoint.provider.id;

    let res: UpstreamResponse;
    try {
      res = await endpoint.provider.transport.request(request, {
        cancel,
        connectTimeoutMs: timeouts.connectMs,
        firstByteTimeoutMs: timeouts.firstByteMs,
        idleTimeoutMs: timeouts.idleMs,
      });
    } catch (err) {
      if (reply.aborted) return { kind: 'aborted' };
      return { kind: 'failed', failure: timedOut() ?? transportFailure(err, endpoint.provider.id) };
    }
    input.ctx.upstreamRequestId = upstreamRequestId(res.headers, redactor);

    const headers = res.headers;
    if (res.status >= 300 && res.status < 400) {
      res.discard();
      return { kind: 'failed', failure: redirected(id, res.status), headers };
    }
    if (res.status < 200 || res.status >= 300) {
      const body = await readBody(res, ERROR_BODY_BYTES, true).catch(() => Buffer.alloc(0));
      const failure = endpoint.provider.adapter.classifyError(res.status, res.headers, body);
      return blameCaller({ kind: 'failed', failure, headers }, passed, id);
    }
    // The outcomes are fresh objects: what the attempt learned is set on them, not spread
    // into copies (see `settle`).
    if (!input.chat.stream) {
      return blameCaller(settle(await answer(input, res, timedOut, redactor), headers), passed, id);
    }
    // A whole JSON answer or a proxy's page is no stream: refused before a byte is read, so
    // the next endpoint may answer, and never taken for a stream that broke off.
    const streamType = endpoint.provider.adapter.streamContentType;
    const refused = otherMediaType(headers['content-type'], streamType);
    if (refused !== undefined) {
      res.discard();
      const failure = notEventStream(id, redactor.value(refused), streamType);
      return { kind: 'failed', failure, headers };
    }
    let ttftMs: number | undefined;
    const onCommit = (): void => {
      clearTimeout(firstToken);
      ttftMs = performance.now() - started;
    };
    const outcome = await relay(input, res, onCommit, timedOut, redactor);
    return blameCaller(settle(outcome, headers, ttftMs), passed, id);
  } finally {
    clearTimeout(firstToken);
    unfollow?.();
  }
}

/** Header names that carry a provider credential in any protocol the sidecar speaks. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'api-key', 'x-api-key', 'x-goog-api-key']);

/**
 * The `x-pass-*` names of the caller's headers that went upstream as the request's
 * credential, when they were its only credential: undefined when any credential header came
 * from the sidecar (its key, a signature, a minted token, a header its config adds), since
 * then a refusal may be ours.
 */
function passedCredential(
  call: ChatCall,
  request: UpstreamRequest,
  configured: ReadonlySet<string>,
): string[] | undefined {
  if (call.passHeaders.length === 0) return undefined;
  const passed: string[] = [];
  for (const [header, value] of Object.entries(request.headers)) {
    const name = header.toLowerCase();
    const fromCaller = call.passHeaders.some(([n, v]) => n === name && v === value);
    // A header the provider's config adds may be a credential under any name: when one
    // went upstream as configured, the refusal may be of it.
    if (configured.has(name) && !fromCaller) return undefined;
    if (!CREDENTIAL_HEADERS.has(name)) continue;
    if (!fromCaller) return undefined;
    passed.push(`x-pass-${name}`);
  }
  return passed.length > 0 ? passed : undefined;
}

/**
 * A credential refusal of the caller's own credential is the caller's to fix: 401 rather
 * than the 502 that blames the sidecar's configuration, naming the header, never its value.
 */
function blameCaller(
  outcome: AttemptOutcome,
  passed: readonly string[] | undefined,
  providerId: string,
): AttemptOutcome {
  if (passed === undefined) return outcome;
  if (outcome.kind !== 'failed' && outcome.kind !== 'broken') return outcome;
  if (outcome.failure.code !== 'GW_ERR_UPSTREAM_AUTH') return outcome;
  const headers = passed.length === 1 ? `${passed[0]} header` : `${passed.join(' and ')} headers`;
  outcome.failure = revised(outcome.failure, {
    status: 401,
    message: `Provider "${providerId}" refused the credential passed in the ${headers}.`,
  });
  outcome.callerCredential = true;
  return outcome;
}

/**
 * The response headers (and time to first token) of an attempt, set on its outcome. Not
 * `{ ...outcome, headers }`, which builds a new hidden class every time (see revised() in
 * providers/failures.ts): on the request path that cost 1.8 µs a stream.
 */
function settle(
  outcome: AttemptOutcome,
  headers: UpstreamResponse['headers'],
  ttftMs?: number,
): AttemptOutcome {
  outcome.headers = headers;
  if (ttftMs !== undefined) outcome.ttftMs = ttftMs;
  return outcome;
}

async function answer(
  input: AttemptInput,
  res: UpstreamResponse,
  timedOut: () => UpstreamFailure | undefined,
  redactor: Redactor,
): Promise<AttemptOutcome> {
  const { endpoint, reply, ctx } = input;
  let body: Buffer;
  try {
    body = await readBody(res, input.maxResponseBytes, false);
  } catch (err) {
    if (reply.aborted) return { kind: 'aborted' };
    const failure =
      err instanceof TooLarge
        ? tooLarge(endpoint)
        : (timedOut() ?? cutAnswer(err, endpoint.provider.id));
    return { kind: 'failed', failure };
  }
  let parsed: ReturnType<typeof endpoint.provider.adapter.parseChat>;
  try {
    parsed = endpoint.provider.adapter.parseChat(body, input.call);
  } catch {
    // JSON of the right outline with something else inside (a null where its protocol has
    // a content block): the provider's bad answer, which the next endpoint may replace.
    return { kind: 'failed', failure: untranslatable(endpoint.provider.id, 'an answer') };
  }
  if ('code' in parsed) {
    return {
      kind: 'failed',
      failure: namingContentType(parsed, res.headers['content-type'], redactor),
    };
  }
  ctx.usage = parsed.usage;
  sendJson(reply, ctx, 200, parsed.bytes, input.served);
  return { kind: 'answered' };
}

async function relay(
  input: AttemptInput,
  res: UpstreamResponse,
  onCommit: () => void,
  timedOut: () => UpstreamFailure | undefined,
  redactor: Redactor,
): Promise<AttemptOutcome> {
  const { endpoint, reply, ctx, chat } = input;
  const decoder = endpoint.provider.adapter.openStream(input.call);
  const relay = new StreamRelay({
    reply,
    ctx,
    headers: [
      ['content-type', 'text/event-stream; charset=utf-8'],
      ['cache-control', 'no-cache'],
      ['x-request-id', ctx.requestId],
      ...input.served,
    ],
    clientWantsUsage: chat.includeUsage,
    choices: chat.n,
    onCommit,
    redactor,
  });

  // A decoder that throws met an event its protocol does not describe: the provider's bad
  // answer, not a stream that broke off (which is what an error of the body's read means).
  const unreadable = (): void =>
    relay.fail(untranslatable(endpoint.provider.id, 'a stream event', 'untranslatable_event'));
  try {
    for await (const bytes of res.body) {
      if (relay.ended) break; // bytes after [DONE]: not worth waiting for the close
      let items;
      try {
        items = decoder.push(bytes);
      } catch {
        unreadable();
        await relay.flush();
        break;
      }
      for (const item of items) relay.handle(item);
      await relay.flush();
      // After [DONE] the provider closes at once: reading on to its end is cheaper than a
      // break, which destroys undici's body with an AbortError and its stack trace.
      if (reply.aborted || relay.failure !== undefined) break;
    }
    if (!relay.ended && !reply.aborted) {
      let ending;
      try {
        ending = decoder.end();
      } catch {
        unreadable();
      }
      if (ending !== undefined) {
        for (const item of ending.items) relay.handle(item);
        relay.upstreamEnded(ending.cut);
      }
      await relay.flush();
    }
  } catch (err) {
    if (!reply.aborted) {
      relay.fail(streamFailure(err, input, timedOut));
      await relay.flush();
    }
  } finally {
    if (!relay.ended || reply.aborted) res.discard();
  }

  if (reply.aborted) return { kind: 'aborted' };
  if (relay.failure === undefined) return { kind: 'answered' };
  return relay.committed
    ? { kind: 'broken', failure: relay.failure }
    : { kind: 'failed', failure: relay.failure };
}

function streamFailure(
  err: unknown,
  input: AttemptInput,
  timedOut: () => UpstreamFailure | undefined,
): UpstreamFailure {
  const failure = timedOut() ?? transportFailure(err, input.endpoint.provider.id);
  if (failure.code !== 'GW_ERR_UPSTREAM_UNREACHABLE') return failure;
  return revised(failure, {
    code: 'GW_ERR_STREAM_INTERRUPTED',
    message: 'The provider stream broke off before the answer was complete.',
  });
}

/** Our own clocks (first token, total deadline) abort with a reason; name it. */
function timeoutFailure(input: AttemptInput, local: Cancel): UpstreamFailure | undefined {
  const which = local.aborted ? String(local.reason) : undefined;
  if (which === 'draining') {
    return {
      code: 'GW_ERR_SERVER_DRAINING',
      status: 503,
      message: 'This sidecar is shutting down and its drain deadline passed; retry.',
      detail: 'drain_deadline',
    };
  }
  if (which !== 'first_token' && which !== 'total') return undefined;
  return {
    code: 'GW_ERR_UPSTREAM_TIMEOUT',
    status: 504,
    message: `Provider "${input.endpoint.provider.id}" did not answer in time (${which} timeout).`,
    detail: `${which}_timeout`,
  };
}

/**
 * A provider's redirect is never followed: the request, with its credential, would go
 * wherever the redirect points. It says nothing about the client's request either (it is
 * not a 4xx): the endpoint is misconfigured, or a proxy in front of it is, so the next
 * endpoint may try.
 */
function redirected(providerId: string, status: number): UpstreamFailure {
  return {
    code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    status: 502,
    message:
      `Provider "${providerId}" answered with a redirect (HTTP ${status}), which the sidecar ` +
      'does not follow: check its base_url.',
    detail: `http_${status}:redirect`,
    upstreamStatus: status,
  };
}

/** A 200 whose body (or one of its stream events) its protocol's translator could not read. */
function untranslatable(
  providerId: string,
  what: string,
  detail = 'untranslatable_body',
): UpstreamFailure {
  return revised(badResponse(providerId, `${what} the sidecar could not translate`), { detail });
}

class TooLarge extends Error {}

function tooLarge(endpoint: Endpoint): UpstreamFailure {
  return {
    code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    status: 502,
    message: `Provider "${endpoint.provider.id}" answered with a body larger than the sidecar accepts.`,
    detail: 'response_too_large',
  };
}

/** Reads a body up to a limit: truncating (error bodies) or refusing (answers). */
async function readBody(res: UpstreamResponse, limit: number, truncate: boolean): Promise<Buffer> {
  if (!truncate && res.readAll !== undefined) {
    const whole = await res.readAll(limit);
    if (whole === undefined) throw new TooLarge();
    return whole;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.length;
    if (size > limit) {
      res.discard();
      if (!truncate) throw new TooLarge();
      chunks.push(chunk.subarray(0, chunk.length - (size - limit)));
      size = limit;
      break;
    }
    chunks.push(chunk);
  }
  // One read (the usual answer): that read's memory is the answer's own, no copy needed.
  if (chunks.length === 1 && Buffer.isBuffer(chunks[0])) return chunks[0];
  return Buffer.concat(chunks, size);
}

/** The provider's id for the request, for the log line: it is the provider's text. */
function upstreamRequestId(
  headers: UpstreamResponse['headers'],
  redactor: Redactor,
): string | undefined {
  for (const name of REQUEST_ID_HEADERS) {
    const value = headers[name];
    if (value !== undefined) return redactor.value(Array.isArray(value) ? value[0] : value);
  }
  return undefined;
}
