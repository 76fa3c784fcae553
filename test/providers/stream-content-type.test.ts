import { describe, expect, it } from 'vitest';
import { badResponse } from '../../sidecar/providers/failures.js';
import { Redactor } from '../../sidecar/providers/redact.js';
import {
  AMAZON_EVENT_STREAM,
  EVENT_STREAM,
  namingContentType,
  notEventStream,
  otherMediaType,
} from '../../sidecar/providers/stream-content-type.js';

describe('whether a 200 to a stream request is a stream', () => {
  it.each([
    ['text/event-stream', EVENT_STREAM],
    ['text/event-stream; charset=utf-8', EVENT_STREAM],
    ['text/event-stream;charset=UTF-8', EVENT_STREAM],
    ['Text/Event-Stream', EVENT_STREAM],
    [' text/event-stream ; charset=utf-8', EVENT_STREAM],
    ['application/vnd.amazon.eventstream', AMAZON_EVENT_STREAM],
    [['text/event-stream', 'text/event-stream; charset=utf-8'], EVENT_STREAM],
  ])('takes %j as the stream %s', (contentType, expected) => {
    expect(otherMediaType(contentType, expected)).toBeUndefined();
  });

  it.each([[undefined], [''], ['   '], ['; charset=utf-8']])(
    'takes a content type that names none (%j) on trust',
    (contentType) => {
      expect(otherMediaType(contentType, EVENT_STREAM)).toBeUndefined();
    },
  );

  it.each([
    ['application/json', EVENT_STREAM, 'application/json'],
    ['application/json; charset=utf-8', EVENT_STREAM, 'application/json'],
    ['TEXT/HTML; charset=ISO-8859-1', EVENT_STREAM, 'TEXT/HTML'],
    ['text/event-streams', EVENT_STREAM, 'text/event-streams'],
    ['text/plain', EVENT_STREAM, 'text/plain'],
    // Each protocol's own stream type: an SSE stream is not a Bedrock stream, nor the reverse.
    ['text/event-stream', AMAZON_EVENT_STREAM, 'text/event-stream'],
    ['application/vnd.amazon.eventstream', EVENT_STREAM, 'application/vnd.amazon.eventstream'],
    [['application/json', 'text/event-stream'], EVENT_STREAM, 'application/json'],
    // Two content types (a field sent once, RFC 9110 section 5.3): a stream only when both
    // say so, whichever comes first.
    [['text/event-stream', 'application/json'], EVENT_STREAM, 'application/json'],
  ])('refuses %j where %s is the stream, naming %s', (contentType, expected, media) => {
    expect(otherMediaType(contentType, expected)).toBe(media);
  });

  it('says which provider answered what, as a bad response logged not_event_stream', () => {
    expect(notEventStream('up', 'text/html', EVENT_STREAM)).toEqual({
      code: 'GW_ERR_UPSTREAM_BAD_RESPONSE',
      status: 502,
      message:
        'Provider "up" answered a stream request with content type "text/html", ' +
        'not text/event-stream.',
      detail: 'not_event_stream',
    });
  });
});

describe('naming the content type of a whole answer that could not be read', () => {
  const unread = badResponse('p', 'a body that is not JSON');
  const redactor = new Redactor(['configured-secret']);

  it.each([
    ['text/event-stream; charset=utf-8', 'text/event-stream'],
    ['text/html', 'text/html'],
    [['application/json', 'text/plain'], 'text/plain'],
  ])('adds %j to the message as %s', (contentType, named) => {
    expect(namingContentType(unread, contentType, redactor)).toEqual({
      ...unread,
      message: `Provider "p" answered with a body that is not JSON. Its content type was "${named}".`,
    });
  });

  it.each([['application/json'], ['Application/JSON; charset=utf-8'], [undefined], ['']])(
    'leaves the message as it is for %j',
    (contentType) => {
      expect(namingContentType(unread, contentType, redactor)).toBe(unread);
    },
  );

  it('leaves a failure that is not an unread body as it is', () => {
    const refused = notEventStream('p', 'text/html', EVENT_STREAM);
    expect(namingContentType(refused, 'text/html', redactor)).toBe(refused);
  });

  // The attempt's last pass masks the configured secrets only: a minted Vertex token or
  // another vendor's key in the type must be masked here, as the stream path masks it.
  it.each([
    ['text/x-configured-secret', 'text/x-***'],
    ['text/x-sk-otherVendorKey123456', 'text/x-sk-***'],
    ['ya29.a0AfH6SMBtoken1234', 'ya29.***'],
    ['Bearer abcdefghijk', 'Bearer ***'],
  ])('names %j as %j, as a stream request would see it', (contentType, named) => {
    expect(namingContentType(unread, contentType, redactor).message).toBe(
      `Provider "p" answered with a body that is not JSON. Its content type was "${named}".`,
    );
    const refused = otherMediaType(contentType, EVENT_STREAM)!;
    expect(notEventStream('p', redactor.value(refused), EVENT_STREAM).message).toContain(
      `"${named}"`,
    );
  });

  it('cuts a long type to what a log value may hold', () => {
    const long = `text/${'a'.repeat(300)}`;
    expect(namingContentType(unread, long, redactor).message).toContain(`"${long.slice(0, 128)}"`);
  });
});
