// Vertex AI access tokens, minted by the sidecar from a service account: a signed assertion
// is exchanged at the key file's token_uri (RFC 7523 JWT bearer grant) for a token that
// lives about an hour. The token is cached until shortly before it expires; concurrent
// requests that find it stale share one exchange; a 401 from Vertex drops it so the next
// request mints afresh. The token is a credential: it is never logged or put in a message.

import { GatewayError } from '../../errors.js';
import { ACCEPT_ENCODING } from '../adapter.js';
import { Cancel } from '../cancel.js';
import { HttpTransport } from '../http-transport.js';
import { CLOUD_PLATFORM_SCOPE, signAssertion } from './jwt.js';
import type { ServiceAccount } from './service-account.js';

/** Refresh this long before expiry (Google's own client libraries use 5 minutes). */
const REFRESH_MARGIN_MS = 5 * 60_000;
const EXCHANGE_TIMEOUT_MS = 10_000;
const GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** POSTs a form and reads the answer; injectable so unit tests need no server. */
export type FormPoster = (url: string, form: string) => Promise<{ status: number; body: string }>;

export interface AccessTokenSourceOptions {
  providerId: string;
  account: ServiceAccount;
  clock: () => number;
  post?: FormPoster;
}

interface Cached {
  token: string;
  /** When to stop using it: expiry less the refresh margin. */
  refreshAtMs: number;
}

export class AccessTokenSource {
  private cached: Cached | undefined;
  private inflight: Promise<string> | undefined;
  private readonly post: FormPoster;

  constructor(private readonly opts: AccessTokenSourceOptions) {
    this.post = opts.post ?? postForm;
  }

  /** A valid access token: the cached one, or one fresh exchange shared by all callers. */
  token(): Promise<string> {
    const cached = this.cached;
    if (cached !== undefined && this.opts.clock() < cached.refreshAtMs) {
      return Promise.resolve(cached.token);
    }
    this.inflight ??= this.exchange().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Vertex refused the token (revoked, or the clock lied): the next caller mints anew. */
  invalidate(): void {
    this.cached = undefined;
  }

  private async exchange(): Promise<string> {
    const { account, clock, providerId } = this.opts;
    const assertion = signAssertion(account, CLOUD_PLATFORM_SCOPE, clock());
    const form = `grant_type=${encodeURIComponent(GRANT_TYPE)}&assertion=${assertion}`;

    let res: { status: number; body: string };
    try {
      res = await this.post(account.tokenUri, form);
    } catch (err) {
      if (err instanceof UnreadAnswer) {
        throw tokenFailure(providerId, `the token endpoint answered HTTP ${err.status} ${err.why}`);
      }
      throw tokenFailure(providerId, `the token endpoint could not be reached`, err);
    }
    const answer = parse(res.body);
    if (res.status !== 200 || typeof answer.access_token !== 'string') {
      // OAuth error codes (invalid_grant, ...) are safe to log; descriptions stay out.
      const code = typeof answer.error === 'string' ? answer.error : `HTTP ${res.status}`;
      throw tokenFailure(providerId, `the token endpoint refused the service account (${code})`);
    }

    const lifetimeMs = (typeof answer.expires_in === 'number' ? answer.expires_in : 3600) * 1000;
    const issuedAt = clock();
    this.cached = {
      token: answer.access_token,
      // A short-lived token is still used for half its life rather than never.
      refreshAtMs: issuedAt + lifetimeMs - Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2),
    };
    return answer.access_token;
  }
}

function parse(body: string): Record<string, unknown> {
  try {
    const value = JSON.parse(body) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function tokenFailure(providerId: string, why: string, cause?: unknown): GatewayError {
  return new GatewayError(
    'GW_ERR_UPSTREAM_AUTH',
    `Provider "${providerId}": could not obtain a Google access token: ${why}.`,
    { cause },
  );
}

/**
 * The endpoint answered, but its body could not be read: past the size limit (not a token,
 * nor an OAuth error worth reading), cut off, or stalled. Its status is still worth naming.
 */
class UnreadAnswer extends Error {
  constructor(
    readonly status: number,
    readonly why: string,
  ) {
    super(`the token endpoint answered HTTP ${status} ${why}`);
  }
}

/** A token answer is a few hundred bytes; anything past this is not one. */
const MAX_EXCHANGE_BODY_BYTES = 64 * 1024;

/** One exchange on a connection of its own: they come about once an hour. */
async function postForm(url: string, form: string): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const transport = new HttpTransport({ connectTimeoutMs: EXCHANGE_TIMEOUT_MS, connections: 1 });
  const cancel = new Cancel();
  const timer = setTimeout(() => cancel.abort(new Error('timed out')), EXCHANGE_TIMEOUT_MS);
  try {
    const res = await transport.request(
      {
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'accept-encoding': ACCEPT_ENCODING,
        },
        body: form,
      },
      {
        cancel,
        connectTimeoutMs: EXCHANGE_TIMEOUT_MS,
        firstByteTimeoutMs: EXCHANGE_TIMEOUT_MS,
        idleTimeoutMs: EXCHANGE_TIMEOUT_MS,
      },
    );
    let body: Buffer | undefined;
    try {
      body = await res.readAll?.(MAX_EXCHANGE_BODY_BYTES);
    } catch {
      const why = cancel.aborted ? 'and its body stalled' : 'and its body was cut off';
      throw new UnreadAnswer(res.status, why);
    }
    if (body === undefined) {
      throw new UnreadAnswer(res.status, `with a body over ${MAX_EXCHANGE_BODY_BYTES} bytes`);
    }
    return { status: res.status, body: body.toString('utf8') };
  } finally {
    clearTimeout(timer);
    void transport.close();
  }
}
