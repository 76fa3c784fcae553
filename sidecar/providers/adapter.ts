// The adapter contract. The OpenAI chat schema is the canonical form inside the sidecar;
// an adapter is the only code that knows a provider's wire format.

import type { Provider } from '../../proto/gen/modelgate/v1/policy_pb.js';
import type { ErrorCode } from '../errors.js';
import type { Cancel } from './cancel.js';
import type { SseScanKernel } from './openai/sse-scan-kernel.js';

export type JsonObject = Record<string, unknown>;

/** What a chat handler asks an adapter to send. */
export interface ChatCall {
  /** The client's body as received, and parsed. */
  readonly raw: Buffer;
  readonly body: JsonObject;
  /**
   * Where `raw` holds the body's one top-level `"model"` key, or -1 (from scanJsonBody);
   * undefined when the caller did not scan it, and the adapter must.
   */
  readonly modelKeyAt?: number;
  /** The public model name the client asked for, and the provider's name for it. */
  readonly model: string;
  readonly target: string;
  readonly stream: boolean;
  /** Client headers forwarded on purpose (`x-pass-*`, prefix removed), already checked. */
  readonly passHeaders: ReadonlyArray<readonly [string, string]>;
}

export interface UpstreamRequest {
  /** Default POST. */
  readonly method?: 'POST' | 'GET';
  readonly origin: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | string;
}

/**
 * Token counts in OpenAI's semantics, whatever the provider reported: promptTokens holds
 * every input token (cache reads and writes included), completionTokens every output token
 * (reasoning included); the detail fields say how many of those were which. Cost is
 * computed from these (sidecar/cost/), so an adapter must never count a token twice.
 */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Prompt-cache reads, part of promptTokens. */
  cachedTokens?: number;
  /** Prompt-cache writes (5-minute TTL), part of promptTokens. */
  cacheWriteTokens?: number;
  /** Prompt-cache writes with a 1-hour TTL, part of promptTokens. */
  cacheWrite1hTokens?: number;
  /** Reasoning (thinking) tokens, part of completionTokens. */
  reasoningTokens?: number;
}

/** Why an upstream attempt failed, already mapped to what the client should see. */
export interface UpstreamFailure {
  readonly code: ErrorCode;
  readonly status: number;
  /** Safe for clients: no upstream body, no credential. */
  readonly message: string;
  /**
   * param, retryAfter and detail may hold the provider's own values as it sent them: they
   * reach a client or a log line only through a Redactor (redact.ts).
   */
  readonly param?: string | null;
  readonly retryAfter?: string;
  /** Upstream status or error type, for the log line only. */
  readonly detail?: string;
  /** The provider's HTTP status (or its in-stream equivalent), for failover rules. */
  readonly upstreamStatus?: number;
}

/** One canonical item decoded from an upstream stream. */
export type StreamItem =
  | {
      readonly kind: 'chunk';
      /** The canonical chunk's JSON text, ready to frame as `data: ...`. */
      readonly data: string;
      readonly shape: ChunkShape;
      readonly usage?: Usage;
      /** Indices of choices that reached a finish_reason in this chunk. */
      readonly finished?: readonly number[];
      /**
       * The upstream's own `data: <data>\n\n` bytes, when the event came framed exactly so
       * and as plain ASCII: forwarded as they are, with no text to encode again.
       */
      readonly raw?: Uint8Array;
    }
  | {
      /**
       * Whole `data: ...\n\n` events to forward exactly as they are: ordinary chunks (text
       * or empty deltas; no finish, usage or error) after one with text already went out.
       */
      readonly kind: 'frames';
      /** Text, or the bytes as read when they are plain ASCII. */
      readonly frames: string | Uint8Array;
    }
  | {
      readonly kind: 'done';
      /** The upstream's own `data: [DONE]\n\n` bytes, as for a chunk's `raw`. */
      readonly raw?: Uint8Array;
    }
  | { readonly kind: 'error'; readonly failure: UpstreamFailure };

/**
 * How a chunk matters to the relay: `content` commits the stream (text, tool calls,
 * refusal); `lifecycle` may be held back (role-only, empty, finish); `usage` is the
 * final `choices: []` usage chunk; `noise` is dropped (provider annotations).
 */
export type ChunkShape = 'content' | 'lifecycle' | 'usage' | 'noise';

export interface StreamDecoder {
  /**
   * Feeds upstream bytes; returns the items they completed, in order. Items may hold views
   * of `bytes` (forwarded events): the relay writes them, or copies the ones it holds back,
   * before it asks for the next read.
   */
  push(bytes: Uint8Array): StreamItem[];
  /** At upstream EOF: items still pending, and whether an event was cut in half. */
  end(): { items: StreamItem[]; cut: boolean };
}

export interface ChatAdapter {
  /** May be async where a credential must be minted first (Vertex OAuth tokens). */
  buildChat(call: ChatCall): UpstreamRequest | Promise<UpstreamRequest>;
  /**
   * A 2xx non-streamed body into canonical bytes plus usage; a failure when unusable. The
   * call is there for protocols whose answers do not name the model.
   */
  parseChat(body: Buffer, call?: ChatCall): { bytes: Uint8Array; usage?: Usage } | UpstreamFailure;
  openStream(call?: ChatCall): StreamDecoder;
  classifyError(status: number, headers: UpstreamHeaders, body: Buffer): UpstreamFailure;
  /**
   * The media type of this protocol's streams (stream-content-type.ts). A 200 to a stream
   * request that names another content type is not read: it is a bad response.
   */
  readonly streamContentType: string;
  /**
   * Credentials the adapter read beyond api_key_env and the configured headers (Bedrock's
   * AWS keys): masked, with those, wherever the provider's answers could quote them.
   */
  readonly secrets?: readonly string[];
}

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

/**
 * What a transport returns once the provider's headers are in. It may be the transport's
 * own object, with methods on its prototype: call `readAll` and `discard` on it, never
 * detached, and do not spread or serialise it.
 */
export interface UpstreamResponse {
  readonly status: number;
  /**
   * Names in lower case. For a 2xx answer the HTTP transport keeps only the headers the
   * sidecar reads from answers (its request id, rate-limit headroom and content type:
   * header-names.ts); for any other status, all of them.
   */
  readonly headers: UpstreamHeaders;
  readonly body: AsyncIterable<Uint8Array>;
  /**
   * The whole body at once, when the transport can gather it without a turn per read;
   * undefined when it is over `limit` bytes (the rest is then discarded). Use either this
   * or `body`, not both.
   */
  readAll?(limit: number): Promise<Buffer | undefined>;
  /** Drops the rest of the body and frees the connection. */
  discard(): void;
}

export interface TransportOptions {
  /** Aborted when the client leaves or one of our clocks runs out; the reason says which. */
  readonly cancel: Cancel;
  readonly connectTimeoutMs?: number;
  readonly firstByteTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

/** How bytes reach a provider: an undici pool, or the in-process demo provider. */
export interface Transport {
  request(req: UpstreamRequest, opts: TransportOptions): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

/** What every adapter factory is given: one policy provider, its credential resolved. */
export interface AdapterInit {
  /** The policy entry (protocol, headers, region, project, credentials_env, ...). */
  readonly provider: Provider;
  /** base_url, or the catalog's default for this protocol when the policy left it empty. */
  readonly baseUrl: string;
  /** The value of api_key_env, when set. */
  readonly apiKey?: string;
  /** For credentials named by credentials_env (Vertex key file, AWS keys). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly maxStreamEventBytes: number;
  /** The stream run matcher kernel, when loaded; OpenAI-protocol decoders use it. */
  readonly sseScan?: SseScanKernel;
  /** Milliseconds since the epoch; injectable for request signing and token expiry. */
  readonly clock: () => number;
}

export type AdapterFactory = (init: AdapterInit) => ChatAdapter;

/**
 * The `accept-encoding` of every upstream request. Without one a server may choose any
 * content coding (RFC 9110 section 12.5.3), and the sidecar decodes none: it reads answers
 * as JSON or SSE and relays their bytes.
 */
export const ACCEPT_ENCODING = 'identity';
