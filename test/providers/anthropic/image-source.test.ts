import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../sidecar/errors.js';
import { imageSource, sniffImageType } from '../../../sidecar/providers/anthropic/image-source.js';

const bytes = (...b: number[]) => Uint8Array.from(b);
const b64 = (...b: number[]) => Buffer.from(b).toString('base64');

describe('sniffImageType', () => {
  it.each([
    ['image/png', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0)],
    ['image/jpeg', bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46)],
    ['image/gif', Buffer.from('GIF87a\x01\x00', 'latin1')],
    ['image/gif', Buffer.from('GIF89a\x01\x00', 'latin1')],
    ['image/webp', Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8 ', 'latin1')],
  ])('reads %s from the magic number', (type, head) => {
    expect(sniffImageType(head)).toBe(type);
  });

  it.each([
    ['a BMP', Buffer.from('BM6\x00\x00\x00', 'latin1')],
    ['a RIFF that is not WebP (WAV)', Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1')],
    ['GIF8 without a version', Buffer.from('GIF8xa', 'latin1')],
    ['too few bytes', bytes(0x89, 0x50)],
  ])('knows no type for %s', (_, head) => {
    expect(sniffImageType(head)).toBeUndefined();
  });
});

describe('imageSource', () => {
  const png = b64(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6);

  it('takes the media type from the bytes, not the label', () => {
    expect(imageSource(`data:image/jpeg;base64,${png}`, 'p')).toEqual({
      type: 'base64',
      media_type: 'image/png',
      data: png,
    });
  });

  it('passes http(s) URLs for Anthropic to fetch', () => {
    expect(imageSource('https://example.com/x.jpg', 'p')).toEqual({
      type: 'url',
      url: 'https://example.com/x.jpg',
    });
  });

  it.each([
    ['not base64', `data:image/png,${png}`],
    ['an unknown format', `data:image/png;base64,${b64(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)}`],
    ['another scheme', 'ftp://example.com/x.png'],
  ])('refuses %s with a 400 naming the field', (_, url) => {
    const err = (() => {
      try {
        imageSource(url, 'messages[0].content[1].image_url.url');
      } catch (e) {
        return e;
      }
    })() as GatewayError;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('GW_ERR_REQ_INVALID_FIELD');
    expect(err.param).toBe('messages[0].content[1].image_url.url');
  });
});
