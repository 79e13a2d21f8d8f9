import { closeSync, openSync, readSync } from 'node:fs';
import { decodeLine, JOURNAL_FORMAT, JOURNAL_VERSION, type JournalRecord } from './records.js';

/**
 * Reads the data file at startup. A crash in mid-write can only damage the end of the file, so
 * bad lines at the end are a torn tail, reported for the caller to cut off. A bad line with good
 * lines after it, or a sequence number out of step, is damage that no crash explains: reading
 * stops with the line number (Redis and etcd draw the same line).
 */

export interface DamagedLine {
  /** 1-based line number. */
  line: number;
  /** Byte offset where the line starts. */
  offset: number;
  reason: string;
}

export interface ReadReport {
  /** Bytes that hold good records; the file should be cut to this length. */
  goodLength: number;
  /** Total bytes in the file. */
  fileLength: number;
  records: number;
  /** The sequence number the next record must carry. */
  nextSeq: number;
  /** The first bad line of a torn tail, when the file has one. */
  tornTail: DamagedLine | null;
}

export class JournalDamage extends Error {
  readonly file: string;
  readonly damage: DamagedLine;

  constructor(file: string, damage: DamagedLine) {
    super(`${file}, line ${damage.line} (byte ${damage.offset}): ${damage.reason}`);
    this.name = 'JournalDamage';
    this.file = file;
    this.damage = damage;
  }
}

const CHUNK_BYTES = 1 << 20;

/**
 * Calls `onRecord` for every good record in order, with the length of its line. Answers null
 * when the file does not exist.
 * Throws JournalDamage for damage before the tail.
 */
export function readJournal(
  file: string,
  onRecord: (record: JournalRecord, bytes: number) => void,
): ReadReport | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }

  const scan = new Scan(file, onRecord);
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let carry: Buffer = Buffer.alloc(0);
    for (;;) {
      const read = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (read === 0) break;
      const data =
        carry.length === 0
          ? chunk.subarray(0, read)
          : Buffer.concat([carry, chunk.subarray(0, read)]);
      const consumed = scan.lines(data);
      carry = Buffer.from(data.subarray(consumed));
    }
    if (carry.length > 0) scan.unfinished(carry.length);
  } finally {
    closeSync(fd);
  }
  return scan.report();
}

class Scan {
  private line = 0;
  private offset = 0;
  private nextSeq = 0;
  private suspect: DamagedLine | null = null;

  constructor(
    private readonly file: string,
    private readonly onRecord: (record: JournalRecord, bytes: number) => void,
  ) {}

  /** Handles every complete line in `data`; answers how many bytes that used. */
  lines(data: Buffer): number {
    let start = 0;
    for (let end = data.indexOf(10, start); end !== -1; end = data.indexOf(10, start)) {
      this.one(data.subarray(start, end));
      this.offset += end - start + 1;
      start = end + 1;
    }
    return start;
  }

  unfinished(bytes: number): void {
    this.line += 1;
    this.suspect ??= { line: this.line, offset: this.offset, reason: 'last line has no newline' };
    this.offset += bytes;
  }

  report(): ReadReport {
    return {
      goodLength: this.suspect?.offset ?? this.offset,
      fileLength: this.offset,
      records: this.nextSeq,
      nextSeq: this.nextSeq,
      tornTail: this.suspect,
    };
  }

  private one(bytes: Buffer): void {
    this.line += 1;
    const decoded = decodeLine(bytes);
    if ('error' in decoded) {
      this.suspect ??= { line: this.line, offset: this.offset, reason: decoded.error };
      return;
    }
    if (this.suspect !== null) {
      throw new JournalDamage(this.file, {
        ...this.suspect,
        reason: `${this.suspect.reason}, and good records follow it`,
      });
    }
    if (decoded.seq !== this.nextSeq) {
      const what =
        decoded.seq < this.nextSeq ? 'repeats an earlier record' : 'records are missing before it';
      this.fail(`sequence number ${decoded.seq} where ${this.nextSeq} was expected (${what})`);
    }
    if (this.nextSeq === 0) this.checkHeader(decoded.record);

    this.onRecord(decoded.record, bytes.length + 1);
    this.nextSeq += 1;
  }

  private checkHeader(record: JournalRecord): void {
    if (record.type !== 'header' || record.format !== JOURNAL_FORMAT) {
      this.fail(`not a hookrelay data file (the first line is not a ${JOURNAL_FORMAT} header)`);
    }
    if (record.type === 'header' && record.version !== JOURNAL_VERSION) {
      this.fail(
        `format version ${record.version} is not supported (this relay reads ${JOURNAL_VERSION})`,
      );
    }
  }

  private fail(reason: string): never {
    throw new JournalDamage(this.file, { line: this.line, offset: this.offset, reason });
  }
}
