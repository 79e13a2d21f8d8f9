import { crc32 } from './crc32.js';

/**
 * The data file's records. Each line is one JSON object: `seq` first (0 for the header, then one
 * more per line), the record's fields, and `crc` last: the CRC-32 of every byte of the line before
 * `,"crc"`. A line that fails its CRC was torn or damaged; a wrong `seq` means a lost or repeated
 * line. The header names the format and its version so a later format can be told apart.
 */

export const JOURNAL_FORMAT = 'hookrelay-journal';
export const JOURNAL_VERSION = 1;

export type Outcome = 'pending' | 'success' | 'failed' | 'skipped';

export interface HeaderRecord {
  type: 'header';
  format: string;
  version: number;
  created: number;
  /**
   * Set by compaction, which may drop the targets and deliveries with the highest ids: the
   * counters carry on from here so that an id is never given out twice.
   */
  nextTargetId?: number;
  nextDeliveryId?: number;
}

export interface StoredTarget {
  id: number;
  path: string[];
  url: string;
  events: string[] | null;
  /** Sealed by SecretBox, never the plain secret. */
  secret: string | null;
  active: boolean;
  name: string | null;
  managedBy: 'api' | 'config';
  created: number;
  disabledReason: string | null;
  /** Deliveries go one at a time in ingest order (absent in files written before it existed). */
  ordered?: boolean;
  /** The secret replaced by the latest rotation, sealed; it keeps signing until the time below. */
  previousSecret?: string | null;
  previousSecretUntil?: number | null;
  /** When the current run of failed attempts began; null while the target succeeds. */
  failingSince?: number | null;
}

export interface TargetRecord {
  type: 'target';
  target: StoredTarget;
}

export interface TargetDeletedRecord {
  type: 'target-deleted';
  id: number;
}

export interface NewDelivery {
  id: number;
  target: number;
  /** The X-Tiled-Event-ID this target sees, fixed for every attempt and after restarts. */
  eventId: string;
  outcome: 'pending' | 'skipped';
}

export interface EventRecord {
  type: 'event';
  /** The catalog's event id (or one the relay made up), used to refuse repeats. */
  id: string;
  eventType: string;
  /** Milliseconds since the epoch when the event was accepted. */
  at: number;
  /** The exact body received, delivered byte for byte. */
  body: string;
  deliveries: NewDelivery[];
}

/** The state of one delivery after an attempt (or a change such as a replay): replaces the old. */
export interface DeliveryRecord {
  type: 'delivery';
  id: number;
  outcome: Outcome;
  attempts: number;
  status: number | null;
  error: string | null;
  /** When the next attempt is due (pending only). */
  next: number | null;
  /** When the delivery reached its outcome. */
  done: number | null;
  /**
   * Attempts made before a replay or redelivery queued it again, so that the retry schedule
   * starts over while `attempts` keeps counting. Written only when not 0.
   */
  prior?: number;
}

/**
 * Ids of events whose deliveries are all gone from the history, written by compaction so that a
 * repeat of them is still refused after a restart (see SeenIds).
 */
export interface SeenRecord {
  type: 'seen';
  /** Acceptance time of the newest of these events. */
  at: number;
  /** The ids' 16-byte keys, concatenated, in base64. */
  keys: string;
}

export type JournalRecord =
  | HeaderRecord
  | TargetRecord
  | TargetDeletedRecord
  | EventRecord
  | DeliveryRecord
  | SeenRecord;

const CRC_FIELD = ',"crc":"';
const CRC_FIELD_BYTES = Buffer.from(CRC_FIELD, 'latin1');
/** `,"crc":"` + 8 hex digits + `"}`. */
const CRC_SUFFIX_BYTES = CRC_FIELD.length + 8 + 2;

/** One line of the file, newline included. */
export function encodeRecord(seq: number, record: JournalRecord): string {
  // Every line goes through here, so the number is put in front of the record's own JSON
  // instead of copying the record into a new object. A record read back from a file (by repair)
  // still carries the `seq` and `crc` of its old line: those are left out.
  const fields = 'seq' in record ? { ...record, seq: undefined, crc: undefined } : record;
  const json = JSON.stringify(fields);
  const head = `{"seq":${seq},${json.slice(1, -1)}`;
  return `${head}${checksumSuffix(head)}`;
}

/** What follows a line's head: its CRC field and the line's end. */
function checksumSuffix(head: string | Uint8Array): string {
  return `${CRC_FIELD}${crc32(head).toString(16).padStart(8, '0')}"}\n`;
}

/**
 * The line `encodeRecord` makes for a `seen` record, made straight into bytes, in `into` when
 * it is large enough. A compaction writes a million remembered ids as some 250 such lines of
 * 87 KB each; through strings each was copied five times, and each copy lived until a full
 * collection, swelling the relay's memory at every compaction.
 */
export function encodeSeenLine(seq: number, record: SeenRecord, into?: Buffer): Buffer {
  const plain = Number.isFinite(record.at) && !('seq' in record) && BASE64.test(record.keys);
  if (!plain) return Buffer.from(encodeRecord(seq, record));

  const prefix = `{"seq":${seq},"type":"seen","at":${record.at},"keys":"`;
  const headLength = prefix.length + record.keys.length + 1;
  const size = headLength + CRC_SUFFIX_BYTES + 1;
  const roomy = into !== undefined && into.length >= size;
  const line = roomy ? into.subarray(0, size) : Buffer.allocUnsafe(size);
  line.write(prefix, 0, 'latin1');
  line.write(record.keys, prefix.length, 'latin1');
  line[headLength - 1] = 0x22; // the closing quote of the keys
  line.write(checksumSuffix(line.subarray(0, headLength)), headLength, 'latin1');
  return line;
}

/** Base64 needs no escaping in JSON. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export type Decoded = { seq: number; record: JournalRecord } | { error: string };

/** Decodes one line (no newline). Checks the CRC before parsing anything. */
export function decodeLine(line: Buffer): Decoded {
  // Startup reads every line of the file through here, so the suffix is checked byte by byte
  // rather than through strings and regular expressions.
  const end = line.length - CRC_SUFFIX_BYTES;
  const digits = end + CRC_FIELD_BYTES.length;
  if (end < 2 || line.compare(CRC_FIELD_BYTES, 0, CRC_FIELD_BYTES.length, end, digits) !== 0) {
    return { error: 'no checksum at the end of the line' };
  }
  const stored = readHex(line, digits);
  if (stored === null || line[line.length - 2] !== 0x22 || line[line.length - 1] !== 0x7d) {
    return { error: 'malformed checksum' };
  }
  if (crc32(line.subarray(0, end)) !== stored) return { error: 'checksum mismatch' };

  let parsed: unknown;
  try {
    parsed = JSON.parse(line.toString('utf8'));
  } catch {
    return { error: 'invalid JSON' };
  }
  // The parsed object keeps its `seq` and `crc` members: copying a million records to drop two
  // fields would cost more than carrying them.
  const { seq, type } = parsed as { seq: unknown; type: unknown };
  if (!Number.isSafeInteger(seq) || typeof type !== 'string') {
    return { error: 'not a record (no seq or type)' };
  }
  return { seq: seq as number, record: parsed as JournalRecord };
}

/** Eight lowercase hex digits at `offset` as a number, or null. */
function readHex(bytes: Buffer, offset: number): number | null {
  let value = 0;
  for (let index = offset; index < offset + 8; index += 1) {
    const byte = bytes[index] ?? 0;
    const digit =
      byte >= 0x30 && byte <= 0x39 ? byte - 0x30 : byte >= 0x61 && byte <= 0x66 ? byte - 0x57 : -1;
    if (digit < 0) return null;
    value = value * 16 + digit;
  }
  return value;
}
