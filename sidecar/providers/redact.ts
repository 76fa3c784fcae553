// A provider may quote the credential it was sent in anything it sends back: an error's
// message, param or code, an in-stream error, a response header. A Redactor knows the
// credentials of one provider (and, per request, the caller's x-pass-* ones) and is the one
// place such values pass before they reach a client or a log line.

import type { UpstreamFailure } from './adapter.js';
import { maskSecrets, mayHoldSecret, revised, scrubMessage } from './failures.js';

/**
 * Upstream text bound for a log line (or the client's `param`) is cut to this many
 * characters. Provider request ids run to about 40 and error codes to about 30; past 128 a
 * value is noise or an attempt to bloat the log, and 128 is also the most the sidecar takes
 * of a client's own x-request-id (api/context.ts).
 */
export const UPSTREAM_VALUE_CHARS = 128;

/** `<scheme> <token>`, as in `Bearer <token>`: the token is a secret on its own. */
const SCHEME_AND_TOKEN = /^\s*\S+\s+(\S+)\s*$/;

export class Redactor {
  /** Longest first: a secret that holds a shorter one is masked whole, not around it. */
  private readonly secrets: readonly string[];

  /** `values`: credentials and header values that may be credentials, as sent upstream. */
  constructor(values: Iterable<string>) {
    const secrets = new Set<string>();
    for (const value of values) {
      secrets.add(value);
      const token = SCHEME_AND_TOKEN.exec(value)?.[1];
      if (token !== undefined) secrets.add(token);
    }
    this.secrets = [...secrets].sort((a, b) => b.length - a.length);
  }

  /**
   * This redactor, and the values of the caller's x-pass-* headers besides: the caller's own
   * credential is a secret like the configured ones, not to be quoted back even to the caller.
   */
  withPassed(passHeaders: ReadonlyArray<readonly [string, string]>): Redactor {
    if (passHeaders.length === 0) return this;
    return new Redactor([...this.secrets, ...passHeaders.map(([, value]) => value)]);
  }

  /**
   * An upstream value fit for a log line or a client: known secrets and key shapes masked,
   * at most UPSTREAM_VALUE_CHARS. A clean value of usual length costs one search per secret
   * and three regular-expression tests, and is returned as it is: the request id of every
   * answer comes through here.
   */
  value(text: string): string {
    if (text.length <= UPSTREAM_VALUE_CHARS && !mayHoldSecret(text, this.secrets)) return text;
    // Masked, then cut: cut first, a key across the cut would leave its head behind.
    return scrubMessage(text, this.secrets).slice(0, UPSTREAM_VALUE_CHARS);
  }

  /**
   * A failure as a client and the log may see it. `param` and `detail` (which carries the
   * upstream's error code or type) are upstream values: each goes through value(); a
   * `retryAfter` that is not seconds or an HTTP date is dropped. The message was scrubbed
   * by the adapter that wrote it, which knows only the key it holds; here the configured
   * headers' values and the caller's are masked too. Key shapes are not searched for
   * again: the message opens with the provider's configured name, which one might match.
   */
  failure(f: UpstreamFailure): UpstreamFailure {
    return revised(f, {
      message: maskSecrets(f.message, this.secrets),
      param: typeof f.param === 'string' ? this.value(f.param) : f.param,
      detail: f.detail === undefined ? undefined : this.value(f.detail),
      retryAfter: f.retryAfter === undefined ? undefined : retryAfterValue(f.retryAfter),
    });
  }
}

/** delta-seconds, or an HTTP date (RFC 9110 section 10.2.3), as the client's header may carry. */
const DELTA_SECONDS = /^\d{1,10}$/;
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * The provider's Retry-After when it is one: it goes to the client as a header of its own,
 * so anything else (a quoted credential, text) is dropped rather than masked, which would
 * send a header no client can read.
 */
function retryAfterValue(text: string): string | undefined {
  const value = text.trim();
  return DELTA_SECONDS.test(value) || HTTP_DATE.test(value) ? value : undefined;
}
