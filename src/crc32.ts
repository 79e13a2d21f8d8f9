import zlib from 'node:zlib';

/**
 * CRC-32 (the zlib/PNG polynomial) of a string's UTF-8 bytes or of raw bytes. Uses zlib.crc32
 * where Node has it (20.15 and later) and a table-driven version on older 20.x releases.
 */
export const crc32: (data: string | Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : tableCrc32;

let table: Uint32Array | undefined;

export function tableCrc32(data: string | Uint8Array): number {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  table ??= buildTable();
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (table[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function buildTable(): Uint32Array {
  const entries = new Uint32Array(256);
  for (let index = 0; index < 256; index += 1) {
    let value = index;
    for (let bit = 0; bit < 8; bit += 1) {
      value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    }
    entries[index] = value >>> 0;
  }
  return entries;
}
