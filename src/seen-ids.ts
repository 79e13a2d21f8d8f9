import { createHash, randomBytes } from 'node:crypto';

/**
 * The ids of accepted events that nothing else is kept for any more, remembered only so that a
 * repeat of one is refused for `history.retentionDays`. A busy catalog sends millions of events
 * in that time, so each id is kept as 16 bytes in typed arrays rather than as a string in a Map
 * (about 140 bytes each): Tiled's ids, 32 lowercase hex digits, are their own 16 bytes, exactly;
 * any other id is represented by the first 16 bytes of its SHA-256.
 *
 * Ids go into a fixed-size hash table (the open segment) in the order they are retired, which is
 * roughly the order their events were accepted. Once three quarters full it is sealed: its ids
 * are sorted into an array with no empty slots, 16 bytes an id instead of 21, since they make
 * up nearly all of the relay's growth between compactions (1,000,000 ids are 17 MB, not 23).
 * A segment is forgotten as a whole once its newest id is beyond retention, so nothing is ever
 * deleted from inside one.
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
 * searching them.
 */
const FILTER_BITS_LOG2 = 19;
const FILTER_BITS = 1 << FILTER_BITS_LOG2;

interface Segment {
  readonly size: number;
  /** Acceptance time of the newest id in the segment. */
  readonly newest: number;
  /** `hash` is hashOf(key). */
  has(key: Key, hash: number): boolean;
  /** The keys held, one after another. */
  words(): Uint32Array;
}

/** The segment ids are added to: a hash table, sealed when three quarters full. */
class OpenSegment implements Segment {
  readonly table = new Uint32Array(SLOTS * WORDS);
  private readonly filter = new Uint32Array(FILTER_BITS / 32);
  size = 0;
  newest = -Infinity;

  /** The slot holding `key`, or the empty slot where it would go, probing from `first`. */
  slotOf(key: Key, first: number): number {
    const table = this.table;
    for (let slot = first; ; slot = (slot + 1) & (SLOTS - 1)) {
      const at = slot * WORDS;
      if (compareAt(table, slot, key) === 0 || isEmpty(table, slot)) return slot;
    }
  }

  has(key: Key, hash: number): boolean {
    if (!inFilter(this.filter, hash)) return false;
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

  /** The same ids in a quarter less memory. */
  seal(): SealedSegment {
    return new SealedSegment(sortKeys(this.words()), this.filter, this.newest);
  }

  /** The keys held, one after another, in table order. */
  words(): Uint32Array {
    const keys = new Uint32Array(this.size * WORDS);
    let count = 0;
    for (let slot = 0; slot < SLOTS; slot += 1) {
      if (isEmpty(this.table, slot)) continue;
      copyKey(this.table, slot, keys, count);
      count += 1;
    }
    return keys;
  }
}

/**
 * A full segment: its keys in the order of their hashes, 16 bytes an id, with where each range
 * of hashes begins (a fifth of a byte an id). A lookup reads its range's start, then halves a
 * range of about a dozen keys that lie together. Ordering by the seeded hash rather than by the
 * ids themselves spreads the ranges evenly whatever the ids look like: ids that share their
 * first digits, as a sender's own numbering does, would otherwise share one range.
 */
class SealedSegment implements Segment {
  readonly size: number;
  private readonly starts: Uint16Array;

  constructor(
    private readonly keys: Uint32Array,
    private readonly filter: Uint32Array,
    readonly newest: number,
  ) {
    this.size = keys.length / WORDS;
    this.starts = new Uint16Array(RANGES + 1);
    let index = 0;
    for (let range = 0; range <= RANGES; range += 1) {
      while (index < this.size && rangeOf(hashAt(keys, index)) < range) index += 1;
      this.starts[range] = index;
    }
  }

  has(key: Key, hash: number): boolean {
    if (!inFilter(this.filter, hash)) return false;
    const range = rangeOf(hash);
    let low = this.starts[range] as number;
    let high = (this.starts[range + 1] as number) - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const order = hashAt(this.keys, middle) - hash || compareAt(this.keys, middle, key);
      if (order === 0) return true;
      if (order < 0) low = middle + 1;
      else high = middle - 1;
    }
    return false;
  }

  words(): Uint32Array {
    return this.keys;
  }
}

/** Ranges of hashes in a sealed segment's index: the top RANGE_BITS bits of the hash. */
const RANGE_BITS = 12;
const RANGES = 1 << RANGE_BITS;

/** The range of a signed hash, in the order of the hashes: the sign bit is flipped first. */
function rangeOf(hash: number): number {
  return (hash ^ 0x80000000) >>> (32 - RANGE_BITS);
}

/** The id's hash (signed, 32 bits), alike in all segments: its low bits choose the first slot. */
function hashOf(key: Key): number {
  return mix(key[0], key[1], key[2], key[3]);
}

/** The hash of the key at `index` of `keys`. */
function hashAt(keys: Uint32Array, index: number): number {
  const at = index * WORDS;
  const word = (offset: number): number => keys[at + offset] as number;
  return mix(word(0), word(1), word(2), word(3));
}

function mix(first: number, second: number, third: number, fourth: number): number {
  let hash = SEED;
  hash = Math.imul(hash ^ first, 0x9e3779b1) ^ (hash >>> 15);
  hash = Math.imul(hash ^ second, 0x9e3779b1) ^ (hash >>> 15);
  hash = Math.imul(hash ^ third, 0x9e3779b1) ^ (hash >>> 15);
  hash = Math.imul(hash ^ fourth, 0x9e3779b1) ^ (hash >>> 15);
  return hash ^ (hash >>> 16);
}

/** The id's bit in a segment's filter, mixed again so that it does not follow the slot. */
function filterBit(hash: number): number {
  return Math.imul(hash, 0x85ebca6b) >>> (32 - FILTER_BITS_LOG2);
}

function inFilter(filter: Uint32Array, hash: number): boolean {
  const bit = filterBit(hash);
  return (((filter[bit >>> 5] as number) >>> (bit & 31)) & 1) === 1;
}

function isEmpty(table: Uint32Array, slot: number): boolean {
  const at = slot * WORDS;
  return table[at] === 0 && table[at + 1] === 0 && table[at + 2] === 0 && table[at + 3] === 0;
}

/** Where the key at `index` of `keys` sorts against `key`: negative before, 0 equal. */
function compareAt(keys: Uint32Array, index: number, key: Key): number {
  const at = index * WORDS;
  return (
    (keys[at] as number) - key[0] ||
    (keys[at + 1] as number) - key[1] ||
    (keys[at + 2] as number) - key[2] ||
    (keys[at + 3] as number) - key[3]
  );
}

/**
 * `keys` (one after another, as words) in the order of their hashes. Each key's hash and its
 * position, packed into one number, go through the engine's own numeric sort, which takes a
 * few milliseconds; the rare keys that share a hash are then put in order among themselves.
 */
function sortKeys(keys: Uint32Array): Uint32Array {
  const count = keys.length / WORDS;
  const order = new Float64Array(count);
  for (let index = 0; index < count; index += 1) {
    order[index] = (hashAt(keys, index) + 2 ** 31) * SLOTS + index;
  }
  order.sort();

  const sorted = new Uint32Array(keys.length);
  for (let index = 0; index < count; index += 1) {
    copyKey(keys, (order[index] as number) % SLOTS, sorted, index);
  }
  // Keys that share a hash share the part of their number above the position.
  const sharedHash = (index: number): number => Math.floor((order[index] as number) / SLOTS);
  for (let start = 0; start < count;) {
    let end = start + 1;
    while (end < count && sharedHash(end) === sharedHash(start)) end += 1;
    if (end - start > 1) sortRun(sorted, start, end);
    start = end;
  }
  return sorted;
}

function copyKey(from: Uint32Array, fromIndex: number, to: Uint32Array, toIndex: number): void {
  for (let word = 0; word < WORDS; word += 1) {
    to[toIndex * WORDS + word] = from[fromIndex * WORDS + word] as number;
  }
}

/** Sorts the keys from `start` to `end` (exclusive) in place, by all their words. */
function sortRun(keys: Uint32Array, start: number, end: number): void {
  const run: Key[] = [];
  for (let index = start; index < end; index += 1) {
    const at = index * WORDS;
    run.push(Array.from(keys.subarray(at, at + WORDS)) as Key);
  }
  run.sort((left, right) => {
    return left[0] - right[0] || left[1] - right[1] || left[2] - right[2] || left[3] - right[3];
  });
  run.forEach((key, offset) => keys.set(key, (start + offset) * WORDS));
}

/** `words` from `start` to `end` into `bytes`, big-endian as the data file holds them. */
function writeBigEndian(words: Uint32Array, start: number, end: number, bytes: Buffer): number {
  for (let index = start; index < end; index += 1) {
    bytes.writeUInt32BE(words[index] as number, (index - start) * 4);
  }
  return (end - start) * 4;
}

export class SeenIds {
  private segments: Segment[] = [];
  /** The last segment, while it takes ids; null once it is sealed or before the first id. */
  private open: OpenSegment | null = null;

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
      const key: Key = [
        keys.readUInt32BE(offset),
        keys.readUInt32BE(offset + 4),
        keys.readUInt32BE(offset + 8),
        keys.readUInt32BE(offset + 12),
      ];
      this.addKey(key, at);
    }
  }

  /**
   * Forgets every segment whose newest id was accepted before `time`; answers how many
   * ids went.
   */
  forgetBefore(time: number): number {
    const kept = this.segments.filter((segment) => segment.newest >= time);
    const forgotten = this.size - kept.reduce((total, segment) => total + segment.size, 0);
    this.segments = kept;
    if (this.open !== null && !kept.includes(this.open)) this.open = null;
    return forgotten;
  }

  /**
   * The ids in groups of at most `perChunk`, in base64 as the data file holds them, each with
   * the newest acceptance time of its segment, for writing into a compacted file. The bytes of
   * every group go through one buffer: a buffer for each segment, kept while its groups were
   * written, left some 16 MB per million ids for the next full collection to find.
   */
  *chunks(perChunk: number): Generator<{ at: number; keys: string }> {
    const bytes = Buffer.allocUnsafe(perChunk * WORDS * 4);
    for (const segment of this.segments) {
      const words = segment.words();
      for (let start = 0; start < words.length; start += perChunk * WORDS) {
        const end = Math.min(words.length, start + perChunk * WORDS);
        const length = writeBigEndian(words, start, end, bytes);
        yield { at: segment.newest, keys: bytes.toString('base64', 0, length) };
      }
    }
  }

  private addKey(key: Key, at: number): void {
    if (this.open === null) {
      this.open = new OpenSegment();
      this.segments.push(this.open);
    }
    this.open.add(key, at);
    if (this.open.size >= SEGMENT_CAPACITY) {
      this.segments[this.segments.length - 1] = this.open.seal();
      this.open = null;
    }
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
  return [
    digest.readUInt32BE(0),
    digest.readUInt32BE(4),
    digest.readUInt32BE(8),
    digest.readUInt32BE(12),
  ];
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
