// Outgoing Server-Sent Events frames, as bytes ready to write.
//
// A payload holding a line break would end its `data:` line early and split the frame, so
// each break starts a new `data:` line; a parser joins them back with '\n'. JSON only has
// breaks as whitespace (never inside strings), so the JSON itself is unchanged. Upstream
// bytes passed through may be pretty-printed, which is why this is checked, not assumed.

const utf8 = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF in the payload instead of dropping it.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const BREAK = /\r\n|\r|\n/g;
const LF = 0x0a;
const CR = 0x0d;
const DATA_PREFIX = utf8.encode('data: ');
const FRAME_END = utf8.encode('\n\n');

/** `data: [DONE]\n\n`, the OpenAI end-of-stream frame. Shared: do not write into it. */
export const DONE_FRAME: Uint8Array = utf8.encode('data: [DONE]\n\n');

/** Encodes `data: <payload>\n\n`. Bytes are copied once; a string is encoded once. */
export function encodeData(payload: string | Uint8Array): Uint8Array {
  if (typeof payload === 'string') return utf8.encode(`data: ${dataLines(payload)}\n\n`);
  if (payload.indexOf(LF) >= 0 || payload.indexOf(CR) >= 0) {
    return encodeData(utf8Decoder.decode(payload));
  }

  const frame = new Uint8Array(DATA_PREFIX.length + payload.length + FRAME_END.length);
  frame.set(DATA_PREFIX);
  frame.set(payload, DATA_PREFIX.length);
  frame.set(FRAME_END, DATA_PREFIX.length + payload.length);
  return frame;
}

/** Encodes `event: <event>\ndata: <data>\n\n`, as Anthropic-style streams are framed. */
export function encodeEvent(event: string, data: string): Uint8Array {
  if (event.includes('\n') || event.includes('\r')) {
    throw new TypeError('An SSE event name cannot hold a line break.');
  }
  return utf8.encode(`event: ${event}\ndata: ${dataLines(data)}\n\n`);
}

function dataLines(data: string): string {
  return data.includes('\n') || data.includes('\r') ? data.replace(BREAK, '\ndata: ') : data;
}

/** `data: [DONE]\n\n` as text, for frames batched as one string. */
export const DONE_TEXT = 'data: [DONE]\n\n';

/** `data: <payload>\n\n` as text; a payload with line breaks becomes several data lines. */
export function frameData(payload: string): string {
  return `data: ${dataLines(payload)}\n\n`;
}
