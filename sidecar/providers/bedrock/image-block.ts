import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';

// OpenAI `image_url` parts to Converse ImageBlocks. Converse takes an image as its bytes
// (base64 in JSON) or as an S3 location, never as a web URL, and it needs the format named:
// png, jpeg, gif or webp (Converse API reference, ImageBlock and ImageSource).

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

const DATA_URI = /^data:([^,]*?),/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const EXTENSIONS: Record<string, ImageFormat> = {
  png: 'png',
  jpg: 'jpeg',
  jpeg: 'jpeg',
  gif: 'gif',
  webp: 'webp',
};

/** `param` names the part for the client's error, e.g. messages[1].content[0].image_url.url. */
export function toImageBlock(url: string, param: string): JsonObject {
  const data = DATA_URI.exec(url);
  if (data !== null) return fromDataUri(url, data, param);

  if (url.startsWith('s3://')) {
    const ext = /\.([A-Za-z0-9]+)$/.exec(url)?.[1].toLowerCase() ?? '';
    const format = EXTENSIONS[ext];
    if (format === undefined) {
      throw invalid(param, 'An s3:// image needs a .png, .jpg, .jpeg, .gif or .webp name.');
    }
    return { image: { format, source: { s3Location: { uri: url } } } };
  }

  throw new GatewayError(
    'GW_ERR_REQ_UNSUPPORTED_PARAM',
    'Bedrock Converse takes images as bytes or from S3, not from web URLs: send the image ' +
      'as a data: URI (base64) or an s3:// URI.',
    { param },
  );
}

function fromDataUri(url: string, match: RegExpExecArray, param: string): JsonObject {
  if (!match[1].split(';').includes('base64')) {
    throw invalid(param, 'An image data: URI must be base64-encoded.');
  }
  const payload = url.slice(match[0].length);
  if (payload.length === 0 || payload.length % 4 === 1 || !BASE64.test(payload)) {
    throw invalid(param, 'The image data: URI does not hold valid base64.');
  }

  // The label may lie (a JPEG sent as image/png); the first bytes cannot.
  const format = sniffImageFormat(Buffer.from(payload.slice(0, 16), 'base64'));
  if (format === undefined) {
    throw invalid(param, 'The image is not a PNG, JPEG, GIF or WebP file.');
  }
  return { image: { format, source: { bytes: payload } } };
}

/** Reads the format from the file signature; undefined for anything else. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const starts = (sig: readonly number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (starts([0xff, 0xd8, 0xff])) return 'jpeg';
  if (starts([0x47, 0x49, 0x46, 0x38]) && (bytes[4] === 0x37 || bytes[4] === 0x39)) return 'gif';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  return undefined;
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_INVALID_FIELD', message, { param });
}
