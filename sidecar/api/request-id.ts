// Request ids for requests that bring none: random (version 4) UUIDs, as crypto.randomUUID
// makes them, but written as bytes and read back as one flat string. randomUUID joins its
// text from about twenty pieces, and every later use of the id (the response header, the
// log line) first had to copy those pieces into one string again.

import { randomFillSync } from 'node:crypto';

const IDS_PER_FILL = 256;
const pool = Buffer.alloc(16 * IDS_PER_FILL);
let next = pool.length;
const text = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

export function newRequestId(): string {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const at = next;
  next += 16;
  let out = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[out++] = 0x2d; // '-'
    let byte = pool[at + i];
    // The version (4) and the RFC 4122 variant, in the bits the format fixes.
    if (i === 6) byte = (byte & 0x0f) | 0x40;
    if (i === 8) byte = (byte & 0x3f) | 0x80;
    text[out++] = HEX[byte >> 4];
    text[out++] = HEX[byte & 0x0f];
  }
  return text.toString('latin1', 0, 36);
}
