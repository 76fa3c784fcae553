import { describe, expect, it } from 'vitest';
import { badResponse } from '../../sidecar/providers/failures.js';
import {
  AMAZON_EVENT_STREAM,
  EVENT_STREAM,
  namingContentType,
  notEventStream,
  refusedStreamType,
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
    expect(refusedStreamType(contentType, expected)).toBeUndefined();
  });

  it.each([[undefined], [''], ['   '], ['; charset=utf-8']])(
    'takes a content type that names none (%j) on trust',
    (contentType) => {
      expect(refusedStreamType(contentType, EVENT_STREAM)).toBeUndefined();
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
    expect(refusedStreamType(contentType, expected)).toBe(media);
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

  it.each([
    ['text/event-stream; charset=utf-8', 'text/event-stream'],
    ['text/html', 'text/html'],
    [['application/json', 'text/plain'], 'text/plain'],
  ])('adds %j to the message as %s', (contentType, named) => {
    expect(namingContentType(unread, contentType)).toEqual({
      ...unread,
      message: `Provider "p" answered with a body that is not JSON. Its content type was "${named}".`,
    });
  });

  it.each([['application/json'], ['Application/JSON; charset=utf-8'], [undefined], ['']])(
    'leaves the message as it is for %j',
    (contentType) => {
      expect(namingContentType(unread, contentType)).toBe(unread);
    },
  );

  it('leaves a failure that is not an unread body as it is', () => {
    const refused = notEventStream('p', 'text/html', EVENT_STREAM);
    expect(namingContentType(refused, 'text/html')).toBe(refused);
  });
});
