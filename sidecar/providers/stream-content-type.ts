// Whether a 200 to a stream request is a stream. A provider (or a proxy in front of it) may
// answer a stream request with a whole JSON completion, or an HTML page: fed to a stream
// decoder, that reads as a stream which ended before its first event, and was reported as
// an interrupted stream. The content type says so before a byte is read.

import type { UpstreamFailure, UpstreamHeaders } from './adapter.js';
import { revised } from './failures.js';
import type { Redactor } from './redact.js';

/** The streams of the SSE protocols: OpenAI's, Anthropic's, Gemini's, Cohere's (WHATWG). */
export const EVENT_STREAM = 'text/event-stream';

/** Bedrock's ConverseStream: AWS event-stream framing. */
export const AMAZON_EVENT_STREAM = 'application/vnd.amazon.eventstream';

/** What every protocol answers a request that is not a stream with. */
const JSON_TYPE = 'application/json';

const SEMICOLON = 0x3b;

/**
 * The media type of `contentType` (as sent, without parameters) when it is present and not
 * `expected`; undefined when the answer may be read as `expected` (a stream type, or JSON for
 * a whole answer). A missing or empty content type is taken on trust: it names no other
 * format, and the stream decoder still reports a body that is no stream (as one that ended
 * before its finish).
 */
export function otherMediaType(
  contentType: UpstreamHeaders[string],
  expected: string,
): string | undefined {
  if (contentType === undefined) return undefined;
  if (!Array.isArray(contentType)) return otherValue(contentType, expected);
  // Content-Type is sent once (RFC 9110 section 5.3); an answer with two is a stream only
  // when each says so, whichever comes first.
  for (const value of contentType) {
    const refused = otherValue(value, expected);
    if (refused !== undefined) return refused;
  }
  return undefined;
}

function otherValue(value: string, expected: string): string | undefined {
  // The usual answers, `text/event-stream` and `text/event-stream; charset=utf-8`: no slice.
  if (value.startsWith(expected)) {
    if (value.length === expected.length || value.charCodeAt(expected.length) === SEMICOLON) {
      return undefined;
    }
  }
  // The type and subtype are case-insensitive (RFC 9110 section 8.3.1), and whitespace may
  // come before the parameters (section 5.6.6). The media type goes back as the provider
  // spelled it: that is how a Redactor matches a credential quoted in it.
  const semicolon = value.indexOf(';');
  const media = (semicolon < 0 ? value : value.slice(0, semicolon)).trim();
  return media === '' || media.toLowerCase() === expected ? undefined : media;
}

/**
 * The failure of a stream request answered with another content type. `media` is the
 * provider's text: the caller passes it through its Redactor first.
 */
export function notEventStream(
  providerId: string,
  media: string,
  expected: string,
): UpstreamFailure {
  return {
    code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
    status: 502,
    message:
      `Provider "${providerId}" answered a stream request with content type "${media}", ` +
      `not ${expected}.`,
    detail: 'not_event_stream',
  };
}

/**
 * A whole answer that the adapter could not read (`bad_body`), told with the content type it
 * came with when that is not JSON: a stream sent to a request that asked for none, or a
 * proxy's HTML page, reads "text/event-stream" or "text/html" instead of only "not JSON".
 * The media type is the provider's text: it goes through `redactor` as notEventStream's
 * does (key shapes masked, cut to a log value's length). The attempt's own pass over a
 * failure message masks only the configured secrets, not a minted token (Vertex's `ya29.`)
 * or another vendor's key, and cuts nothing.
 */
export function namingContentType(
  failure: UpstreamFailure,
  contentType: UpstreamHeaders[string],
  redactor: Pick<Redactor, 'value'>,
): UpstreamFailure {
  if (failure.detail !== 'bad_body') return failure;
  const media = otherMediaType(contentType, JSON_TYPE);
  if (media === undefined) return failure;
  const named = redactor.value(media);
  return revised(failure, { message: `${failure.message} Its content type was "${named}".` });
}
