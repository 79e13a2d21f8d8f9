import { createHash, randomBytes } from 'node:crypto';

/**
 * The ids of accepted events that nothing else is kept for any more, remembered only so that a
 * repeat of one is refused for `history.retentionDays`. A busy catalog sends millions of events
 * in that time, so each id is kept as 16 bytes in typed arrays rather than as a string in a Map
 * (about 140 bytes each): Tiled's ids, 32 lowercase hex digits, are their own 16 bytes, exactly;
 * any other id is represented by the first 16 bytes of its SHA-256.
 *
 * Ids go into fixed-size hash tables (segments) in the order they are retired, which is roughly
 * the order their events were accepted; a segment is forgotten as a whole once its newest id is
 * beyond retention, so nothing is ever deleted from inside a table.
 */

/** Slots per segment; a segment is sealed when three quarters of them are used. */
const SLOTS = 1 << 16;
export const SEGMENT_CAPACITY = (SLOTS * 3) / 4;
const WORDS = 4;
/**
 * Mixed into every slot choice, so that ids picked to share slots (by a sender of unsigned events)
 * cannot turn the tables into long chains.
 */
const SEED = randomBytes(4).readUInt32BE(0);

/** One id as four 32-bit words; never all zero (see `keyOf`). */
type Key = [number, number, number, number];

/**
 * Bits in a segment's filter: one per id is set, so a lookup that misses (nearly every one: a
 * new event) passes over about 91% of the sealed segments after reading one bit, instead of
 * probing their tables, which at three quarters full takes 8 or 9 slots on average.
 */
const FILTER_BITS_LOG2 = 19;
const FILTER_BITS = 1 << FILTER_BITS_LOG2;

class Segment {
  readonly table = new Uint32Array(SLOTS * WORDS);
  private readonly filter = new Uint32Array(FILTER_BITS / 32);
  size = 0;
  /** Acceptance time of the newest id in the segment. */
  newest = -Infinity;

  /** The slot holding `key`, or the empty slot where it would go, probing from `first`. */
  slotOf(key: Key, first: number): number {
    for (let slot = first; ; slot = (slot + 1) & (SLOTS - 1)) {
      const at = slot * WORDS;
      const table = this.table;
      if (table[at] === key[0] && table[at + 1] === key[1] && table[at + 2] === key[2] && table[at + 3] === key[3]) {
        return slot;
      }
      if (table[at] === 0 && table[at + 1] === 0 && table[at + 2] === 0 && table[at + 3] === 0) return slot;
    }
  }

  /** `hash` is hashOf(key). */
  has(key: Key, hash: number): boolean {
    const bit = filterBit(hash);
    if ((((this.filter[bit >>> 5] as number) >>> (bit & 31)) & 1) === 0) return false;
    return !isEmpty(this.table, this.slotOf(key, hash & (SLOTS - 1)));
  }

  add(key: Key, at: number): void {
    const hash = hashOf(key);
    const slot = this.slotOf(key, hash & (SLOTS - 1));
    if (isEmpty(this.table, slot)) {
      this.table.set(key, slot * WORDS);
      const bit = filterBit(hash);
      this.filter[bit >>> 5] = (this.filter[bit >>> 5] as number) | (1 << (bit & 31));
      this.size += 1;
    }
    if (at > this.newest) this.newest = at;
  }

  /** The 16-byte keys held, in table order. */
  keys(): Buffer {
    const bytes = Buffer.allocUnsafe(this.size * WORDS * 4);
    let offset = 0;
    for (let slot = 0; slot < SLOTS; slot += 1) {
      if (isEmpty(this.table, slot)) continue;
      for (let word = 0; word < WORDS; word += 1) {
        offset = bytes.writeUInt32BE(this.table[slot * WORDS + word] as number, offset);
      }
    }
    return bytes;
  }
}

/** The id's hash, the same in every segment: its low bits choose the first slot. */
function hashOf(key: Key): number {
  let hash = SEED;
  for (let index = 0; index < WORDS; index += 1) {
    hash = Math.imul(hash ^ (key[index] as number), 0x9e3779b1) ^ (hash >>> 15);
  }
  return hash ^ (hash >>> 16);
}

/** The id's bit in a segment's filter, mixed again so that it does not follow the slot. */
function filterBit(hash: number): number {
  return Math.imul(hash, 0x85ebca6b) >>> (32 - FILTER_BITS_LOG2);
}

function isEmpty(table: Uint32Array, slot: number): boolean {
  const at = slot * WORDS;
  return table[at] === 0 && table[at + 1] === 0 && table[at + 2] === 0 && table[at + 3] === 0;
}

export class SeenIds {
  private segments: Segment[] = [];

  get size(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.size;
    return total;
  }

  has(id: string): boolean {
    const key = keyOf(id);
    // Every segment hashes alike, so the hash is found once for all of them.
    const hash = hashOf(key);
    for (let index = this.segments.length - 1; index >= 0; index -= 1) {
      if ((this.segments[index] as Segment).has(key, hash)) return true;
    }
    return false;
  }

  /** Remembers an id; `at` is when its event was accepted. */
  add(id: string, at: number): void {
    this.addKey(keyOf(id), at);
  }

  /** Remembers ids given as concatenated 16-byte keys, as `chunks` writes them. */
  addKeys(keys: Buffer, at: number): void {
    for (let offset = 0; offset + 16 <= keys.length; offset += 16) {
      const key: Key = [keys.readUInt32BE(offset), keys.readUInt32BE(offset + 4), keys.readUInt32BE(offset + 8), keys.readUInt32BE(offset + 12)];
      this.addKey(key, at);
    }
  }

  /** Forgets every segment whose newest id was accepted before `time`; answers how many ids went. */
  forgetBefore(time: number): number {
    const kept = this.segments.filter((segment) => segment.newest >= time);
    const forgotten = this.size - kept.reduce((total, segment) => total + segment.size, 0);
    this.segments = kept;
    return forgotten;
  }

  /**
   * The ids in groups of at most `perChunk`, each with the newest acceptance time of its
   * segment, for writing into a compacted file.
   */
  *chunks(perChunk: number): Generator<{ at: number; keys: Buffer }> {
    for (const segment of this.segments) {
      const keys = segment.keys();
      for (let start = 0; start < keys.length; start += perChunk * 16) {
        yield { at: segment.newest, keys: keys.subarray(start, start + perChunk * 16) };
      }
    }
  }

  private addKey(key: Key, at: number): void {
    let segment = this.segments[this.segments.length - 1];
    if (segment === undefined || segment.size >= SEGMENT_CAPACITY) {
      segment = new Segment();
      this.segments.push(segment);
    }
    segment.add(key, at);
  }
}

/**
 * An id's 16 bytes as four words. The all-zero key marks an empty slot, so the one id whose
 * bytes are all zero is hashed like any id that is not hex.
 */
function keyOf(id: string): Key {
  // Every ingest looks its id up, so Tiled's form is read digit by digit rather than by a
  // regular expression and four parseInt calls.
  if (id.length === 32) {
    const key: Key = [hexWord(id, 0), hexWord(id, 8), hexWord(id, 16), hexWord(id, 24)];
    if (key[0] >= 0 && key[1] >= 0 && key[2] >= 0 && key[3] >= 0) {
      if (key[0] !== 0 || key[1] !== 0 || key[2] !== 0 || key[3] !== 0) return key;
    }
  }
  const digest = createHash('sha256').update(id).digest();
  return [digest.readUInt32BE(0), digest.readUInt32BE(4), digest.readUInt32BE(8), digest.readUInt32BE(12)];
}

/** Eight lowercase hex digits of `text` from `start` as an unsigned number, or -1. */
function hexWord(text: string, start: number): number {
  let word = 0;
  for (let index = start; index < start + 8; index += 1) {
    const code = text.charCodeAt(index);
    let digit: number;
    if (code >= 0x30 && code <= 0x39) digit = code - 0x30;
    else if (code >= 0x61 && code <= 0x66) digit = code - 0x57;
    else return -1;
    word = word * 16 + digit;
  }
  return word;
}
