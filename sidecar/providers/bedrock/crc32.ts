import * as zlib from 'node:zlib';

// CRC-32 (ISO-HDLC, the gzip one) for event-stream frames. node:zlib has it natively from
// Node 20.15; `engines` allows any Node 20, so older ones get the table-driven version. A
// namespace import keeps a missing export from failing the module at link time.

let table: Uint32Array | undefined;

/** The portable version; check value crc32("123456789") = 0xcbf43926. */
export function crc32Table(bytes: Uint8Array): number {
  table ??= new Uint32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

export const crc32: (bytes: Uint8Array) => number = native ?? crc32Table;
