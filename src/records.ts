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
}

export type JournalRecord = HeaderRecord | TargetRecord | TargetDeletedRecord | EventRecord | DeliveryRecord;

const CRC_FIELD = ',"crc":"';
/** `,"crc":"` + 8 hex digits + `"}`. */
const CRC_SUFFIX_BYTES = CRC_FIELD.length + 8 + 2;

/** One line of the file, newline included. */
export function encodeRecord(seq: number, record: JournalRecord): string {
  const json = JSON.stringify({ seq, ...record });
  const head = json.slice(0, -1);
  return `${head}${CRC_FIELD}${crc32(head).toString(16).padStart(8, '0')}"}\n`;
}

export type Decoded = { seq: number; record: JournalRecord } | { error: string };

/** Decodes one line (no newline). Checks the CRC before parsing anything. */
export function decodeLine(line: Buffer): Decoded {
  const end = line.length - CRC_SUFFIX_BYTES;
  if (end < 2 || line.toString('latin1', end, end + CRC_FIELD.length) !== CRC_FIELD) {
    return { error: 'no checksum at the end of the line' };
  }
  const stored = line.toString('latin1', end + CRC_FIELD.length, line.length - 2);
  if (!/^[0-9a-f]{8}$/.test(stored) || line.toString('latin1', line.length - 2) !== '"}') {
    return { error: 'malformed checksum' };
  }
  if (crc32(line.subarray(0, end)) !== parseInt(stored, 16)) return { error: 'checksum mismatch' };

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
