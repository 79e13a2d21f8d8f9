import {
  closeSync,
  copyFileSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import {
  decodeLine,
  encodeRecord,
  JOURNAL_FORMAT,
  JOURNAL_VERSION,
  type JournalRecord,
} from './records.js';

/**
 * Gets a damaged data file past its damage on purpose (`hookrelay repair`, or `--repair`):
 * every line that fails its checksum, or repeats a sequence number, is dropped, the rest are
 * renumbered, and the damaged file is kept beside the repaired one. The report says exactly what
 * was dropped and which sequence numbers were already missing, so nothing is lost silently.
 */

export interface DroppedLine {
  line: number;
  offset: number;
  bytes: number;
  reason: string;
  /** What the line seems to have held, when enough of it parses to tell. */
  held: string | null;
}

export interface RepairReport {
  file: string;
  /** Where the damaged file was kept; null when nothing needed repair. */
  copy: string | null;
  kept: number;
  dropped: DroppedLine[];
  /** Ranges of sequence numbers no line carries. */
  missing: Array<{ from: number; to: number }>;
}

export function repairJournal(file: string, now: number): RepairReport {
  const content = readFileSync(file);
  const kept: JournalRecord[] = [];
  const dropped: DroppedLine[] = [];
  const missing: Array<{ from: number; to: number }> = [];
  let expected = 0;
  /** Damaged lines since the last good one: they stand for that many sequence numbers. */
  let droppedSinceGood = 0;

  let offset = 0;
  let line = 0;
  while (offset < content.length) {
    const end = content.indexOf(10, offset);
    const stop = end === -1 ? content.length : end;
    const bytes = content.subarray(offset, stop);
    line += 1;

    const decoded = end === -1 ? { error: 'last line has no newline' } : decodeLine(bytes);
    const drop = (reason: string): void => {
      dropped.push({
        line,
        offset,
        bytes: stop - offset + (end === -1 ? 0 : 1),
        reason,
        held: describe(bytes),
      });
    };
    if ('error' in decoded) {
      drop(decoded.error);
      droppedSinceGood += 1;
    } else if (decoded.seq < expected) {
      drop(`repeats sequence number ${decoded.seq}`);
    } else {
      const read = decoded.record as JournalRecord & { seq: number; crc: string };
      const { seq, crc: _crc, ...record } = read;
      if (record.type === 'header' && !supported(record)) {
        throw new Error(
          `${file} is not a hookrelay data file this version reads; it was not changed`,
        );
      }
      // The header itself may be what was lost: then a new one is written.
      if (kept.length === 0 && record.type !== 'header') kept.push(newHeader(now));
      const gapStart = expected + droppedSinceGood;
      if (seq > gapStart) missing.push({ from: gapStart, to: seq - 1 });
      kept.push(record as JournalRecord);
      expected = seq + 1;
      droppedSinceGood = 0;
    }
    offset = stop + 1;
  }

  if (dropped.length === 0 && missing.length === 0) {
    return { file, copy: null, kept: kept.length, dropped, missing };
  }
  if (kept.length === 0) kept.push(newHeader(now));

  const copy = `${file}.damaged-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
  const repaired = `${file}.repairing`;
  writeFileSync(repaired, kept.map((record, seq) => encodeRecord(seq, record)).join(''), {
    mode: 0o600,
  });
  syncPath(repaired);
  // The copy is made first, under a name of its own, and the rename then replaces the data file
  // in one step: a crash at any moment leaves a data file, damaged or repaired, under its name.
  keepCopy(file, copy);
  renameSync(repaired, file);
  syncPath(dirname(file));
  return { file, copy, kept: kept.length, dropped, missing };
}

/** The report as lines for a person: what was dropped, what was missing, where the copy is. */
export function describeRepair(report: RepairReport): string[] {
  if (report.copy === null) return [`${report.file} has no damage; nothing was changed`];
  return [
    `repaired ${report.file}; the damaged file is kept as ${report.copy}`,
    ...report.dropped.map(
      (entry) =>
        `dropped line ${entry.line} (byte ${entry.offset}, ${entry.bytes} bytes): ${entry.reason}` +
        (entry.held ? `; it held ${entry.held}` : ''),
    ),
    ...report.missing.map((range) =>
      range.from === range.to
        ? `record ${range.from} was already missing from the file`
        : `records ${range.from} to ${range.to} were already missing from the file`,
    ),
    `kept ${report.kept} records`,
  ];
}

function supported(header: Extract<JournalRecord, { type: 'header' }>): boolean {
  return header.format === JOURNAL_FORMAT && header.version === JOURNAL_VERSION;
}

function newHeader(now: number): JournalRecord {
  return { type: 'header', format: JOURNAL_FORMAT, version: JOURNAL_VERSION, created: now };
}

/** A damaged line may still parse well enough to say what it was. */
function describe(bytes: Buffer): string | null {
  const text = bytes.toString('utf8');
  const type = /"type":"([a-z-]+)"/.exec(text)?.[1];
  if (type === undefined) return null;
  const id = /"type":"[a-z-]+","(?:id|target)":(\{"id":)?("[^"]{1,128}"|\d{1,15})/.exec(text)?.[2];
  const article = /^[aeiou]/.test(type) ? 'an' : 'a';
  return `${article} ${type} record${id === undefined ? '' : ` (id ${id})`}`;
}

function keepCopy(file: string, copy: string): void {
  try {
    linkSync(file, copy);
  } catch {
    // A file system without hard links: a copy of the bytes does as well.
    copyFileSync(file, copy);
    syncPath(copy);
  }
  syncPath(dirname(file));
}

function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
