import { randomFillSync } from 'node:crypto';

/**
 * Random 128-bit ids as 32 lowercase hex digits, the form of Tiled's event ids. Every delivery
 * gets one, so they are cut from a pool filled by the system's CSPRNG a few hundred at a time:
 * one call of randomBytes per id cost a few percent of the relay's time when fanning out.
 */

const ID_BYTES = 16;
const POOL_IDS = 256;
const pool = Buffer.alloc(ID_BYTES * POOL_IDS);
let offset = pool.length;

export function randomId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('hex', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
