import * as zlib from 'node:zlib';

// Writes AWS event-stream messages (`application/vnd.amazon.eventstream`), the framing of
// Bedrock's ConverseStream, so the bench can feed the decoder real frames. Layout (AWS "Event
// stream encoding"): total length u32, headers length u32, CRC-32 of those 8 bytes, headers,
// payload, CRC-32 of everything before it; all integers big-endian. Headers here are strings
// only (value type 7): name length u8, name, 7, value length u16, value.

const PRELUDE_BYTES = 12;
const CRC_BYTES = 4;
const STRING_TYPE = 7;

// node:zlib has crc32 from Node 20.15; a namespace import keeps older ones loading.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
let crcTable: Int32Array | undefined;

/** CRC-32 as gzip computes it (reflected 0xEDB88320); crc32("123456789") = 0xcbf43926. */
export function crc32(bytes: Uint8Array): number {
  if (nativeCrc32 !== undefined) return nativeCrc32(bytes);
  crcTable ??= buildTable();
  let crc = -1;
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

function buildTable(): Int32Array {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    table[n] = c;
  }
  return table;
}

/** One whole message: string headers, then the payload. */
export function encodeEventMessage(headers: Record<string, string>, payload: string): Buffer {
  const headerBytes = Buffer.concat(Object.entries(headers).map(([n, v]) => encodeHeader(n, v)));
  const payloadBytes = Buffer.from(payload);
  const total = PRELUDE_BYTES + headerBytes.length + payloadBytes.length + CRC_BYTES;

  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  headerBytes.copy(message, PRELUDE_BYTES);
  payloadBytes.copy(message, PRELUDE_BYTES + headerBytes.length);
  message.writeUInt32BE(crc32(message.subarray(0, total - CRC_BYTES)), total - CRC_BYTES);
  return message;
}

function encodeHeader(name: string, value: string): Buffer {
  const nameBytes = Buffer.from(name);
  const valueBytes = Buffer.from(value);
  if (nameBytes.length > 0xff || valueBytes.length > 0xffff) {
    throw new Error(`event-stream header ${name} is too long`);
  }
  const out = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
  out[0] = nameBytes.length;
  nameBytes.copy(out, 1);
  out[1 + nameBytes.length] = STRING_TYPE;
  out.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
  valueBytes.copy(out, 4 + nameBytes.length);
  return out;
}

/** A ConverseStream event frame, as Bedrock sends it. */
export function converseEvent(eventType: string, payload: object): Buffer {
  const headers = {
    ':event-type': eventType,
    ':content-type': 'application/json',
    ':message-type': 'event',
  };
  return encodeEventMessage(headers, JSON.stringify(payload));
}
