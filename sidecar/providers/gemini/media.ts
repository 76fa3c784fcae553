// OpenAI media parts (image_url, input_audio, file) as Gemini parts. Inline data goes as
// `inlineData` with the MIME type read from the bytes themselves, because clients often
// label a PNG as image/jpeg and Gemini decodes by the label. URLs go as `fileData`: the
// sidecar never fetches a client-supplied URL (that would let a client aim the sidecar at
// internal addresses), so Gemini fetches it, and its type is guessed from the extension.

import { GatewayError } from '../../errors.js';
import type { JsonObject } from '../adapter.js';

const DATA_URI = /^data:([^;,]*)((?:;[^;,]*)*),/;

// Enough base64 for every signature below (HEIF brands sit at bytes 8-11).
const SNIFF_BASE64_CHARS = 24;

const EXTENSIONS: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

/** An `image_url` part; `param` names it in the request for error messages. */
export function imagePart(imageUrl: JsonObject, param: string): JsonObject {
  const url = imageUrl.url;
  if (typeof url !== 'string' || url.length === 0) {
    throw new GatewayError('GW_ERR_REQ_MISSING_FIELD', `'${param}.url' is required.`, {
      param: `${param}.url`,
    });
  }
  if (url.startsWith('data:')) return inlinePart(url, `${param}.url`);
  if (/^(https?|gs):\/\//i.test(url)) {
    return { fileData: { mimeType: mimeFromUrl(url) ?? 'image/jpeg', fileUri: url } };
  }
  throw invalid(`${param}.url`, 'must be an http(s) URL or a base64 data URI');
}

/** An `input_audio` part: `{data: base64, format: "wav" | "mp3"}`. */
export function audioPart(audio: JsonObject, param: string): JsonObject {
  if (typeof audio.data !== 'string' || typeof audio.format !== 'string') {
    throw invalid(param, 'must hold base64 `data` and a `format`');
  }
  return { inlineData: { mimeType: `audio/${audio.format}`, data: audio.data } };
}

/** A `file` part: inline `file_data` only; uploaded `file_id`s live at OpenAI, not Gemini. */
export function filePart(file: JsonObject, param: string): JsonObject {
  const data = file.file_data;
  if (typeof data !== 'string') {
    throw new GatewayError(
      'GW_ERR_REQ_UNSUPPORTED_PARAM',
      `'${param}' must carry file_data; OpenAI file ids cannot be sent to Gemini.`,
      { param },
    );
  }
  if (data.startsWith('data:')) return inlinePart(data, `${param}.file_data`);
  const name = typeof file.filename === 'string' ? file.filename : '';
  const mimeType = sniff(data) ?? mimeFromUrl(name);
  if (mimeType === undefined) throw invalid(`${param}.file_data`, 'is of an unknown type');
  return { inlineData: { mimeType, data } };
}

function inlinePart(uri: string, param: string): JsonObject {
  const head = DATA_URI.exec(uri);
  if (head === null || !head[2].split(';').includes('base64')) {
    throw invalid(param, 'must be a base64 data URI (data:<type>;base64,...)');
  }
  const data = uri.slice(head[0].length);
  const mimeType = sniff(data) ?? (head[1] || undefined);
  if (mimeType === undefined) throw invalid(param, 'is of an unknown type');
  return { inlineData: { mimeType, data } };
}

/** The MIME type announced by the first bytes of base64 `data`, if it is one we know. */
export function sniff(data: string): string | undefined {
  const b = Buffer.from(data.slice(0, SNIFF_BASE64_CHARS), 'base64');
  const ascii = (from: number, to: number) => b.subarray(from, to).toString('latin1');

  if (b[0] === 0x89 && ascii(1, 4) === 'PNG') return 'image/png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (ascii(0, 4) === 'GIF8') return 'image/gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'audio/wav';
  if (ascii(0, 4) === '%PDF') return 'application/pdf';
  if (ascii(4, 8) === 'ftyp') {
    const brand = ascii(8, 12);
    if (/^(heic|heix|hevc|hevx|heim|heis)$/.test(brand)) return 'image/heic';
    if (/^(mif1|msf1|heif)$/.test(brand)) return 'image/heif';
  }
  return undefined;
}

function mimeFromUrl(url: string): string | undefined {
  const path = url.split(/[?#]/, 1)[0];
  const dot = path.lastIndexOf('.');
  return dot < 0 ? undefined : EXTENSIONS[path.slice(dot + 1).toLowerCase()];
}

function invalid(param: string, what: string): GatewayError {
  return new GatewayError('GW_ERR_REQ_INVALID_FIELD', `'${param}' ${what}.`, { param });
}
