import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';

// Anthropic takes images as base64 with a media type, or as a URL it fetches itself
// (https://docs.anthropic.com/en/docs/build-with-claude/vision). It checks the declared
// media type against the bytes and answers 400 on a mismatch, and clients mislabel often
// (a PNG sent as `data:image/jpeg`), so the type is read from the bytes, never the label.

export type ImageMediaType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

/** Reads the media type from an image's first bytes; undefined for any other format. */
export function sniffImageType(head: Uint8Array): ImageMediaType | undefined {
  const at = (i: number, ...bytes: number[]) => bytes.every((b, k) => head[i + k] === b);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (at(0, 0x47, 0x49, 0x46, 0x38) && (head[4] === 0x37 || head[4] === 0x39) && head[5] === 0x61) {
    return 'image/gif';
  }
  // RIFF....WEBP
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  return undefined;
}

const DATA_URI = /^data:([^,]*?)(;base64)?,/i;

/** An OpenAI `image_url.url` (data URI or http(s) URL) as an Anthropic image `source`. */
export function imageSource(url: string, param: string): JsonObject {
  if (/^https?:\/\//i.test(url)) return { type: 'url', url };

  const match = DATA_URI.exec(url);
  if (match === null) {
    throw invalid(param, `'${param}' must be an http(s) URL or a base64 data URI.`);
  }
  if (match[2] === undefined) {
    throw invalid(param, `'${param}' must be base64-encoded (data:<type>;base64,...).`);
  }
  const data = url.slice(match[0].length);
  // 16 base64 characters decode to the 12 bytes the longest signature (WebP) needs.
  const mediaType = sniffImageType(Buffer.from(data.slice(0, 16), 'base64'));
  if (mediaType === undefined) {
    throw invalid(param, `'${param}' is not a PNG, JPEG, GIF or WebP image.`);
  }
  return { type: 'base64', media_type: mediaType, data };
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_INVALID_FIELD', message, { param });
}
