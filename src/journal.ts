import { mkdirSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from './clock.js';
import { nodeFileSystem, type FileSystem } from './files.js';
import { readJournal, type ReadReport } from './journal-reader.js';
import type { Logger } from './log.js';
import { encodeRecord, JOURNAL_FORMAT, JOURNAL_VERSION, type JournalRecord } from './records.js';

/**
 * The append-only data file. One writer: records queue up while a write is in progress and go
 * out together as one write and, when any of them must be durable, one fdatasync (group commit,
 * as Redis does before replying). A durable append resolves only after its fdatasync.
 *
 * When a write or a sync fails, the file is cut back to a length known to be good and every
 * record of the batch is refused; the next batch tries again. A sync is never retried for data
 * it already failed to sync (PostgreSQL's "fsyncgate": the kernel may have dropped the pages).
 */
export class Journal {
  private readonly queue: Array<Pending> = [];
  private writing = false;
  private idle: Promise<void> = Promise.resolve();
  private closed = false;
  /** Length and next sequence number as far as the writes went. */
  private length: number;
  private nextSeq: number;
  /** Length and next sequence number at the last successful fdatasync. */
  private syncedLength: number;
  private syncedSeq: number;
  private failure: Error | null = null;
  /** Set when the file could not be cut back after a failure; nothing more is written. */
  private broken: Error | null = null;

  private constructor(
    readonly file: string,
    private readonly fd: number,
    private readonly files: FileSystem,
    private readonly onFatal: (error: Error) => void,
    report: { length: number; nextSeq: number },
  ) {
    this.length = report.length;
    this.syncedLength = report.length;
    this.nextSeq = report.nextSeq;
    this.syncedSeq = report.nextSeq;
  }

  /**
   * Reads the file (creating it and its folder when missing), hands every record to `onRecord`,
   * cuts off a torn tail, and opens the file for appending.
   */
  static async open(file: string, options: JournalOptions): Promise<{ journal: Journal; report: ReadReport | null }> {
    const files = options.files ?? nodeFileSystem;
    mkdirSync(dirname(file), { recursive: true });

    const report = readJournal(file, options.onRecord);
    if (report?.tornTail) {
      const dropped = report.fileLength - report.goodLength;
      options.logger.warn('dropped a torn last line of the data file', {
        file,
        line: report.tornTail.line,
        reason: report.tornTail.reason,
        bytesDropped: dropped,
      });
      truncateSync(file, report.goodLength);
    }

    const fd = await files.open(file, 'a', 0o600);
    if (report?.tornTail) await files.datasync(fd);
    const fresh = report === null || report.goodLength === 0;
    const start = { length: fresh ? 0 : report.goodLength, nextSeq: fresh ? 0 : report.nextSeq };
    const journal = new Journal(file, fd, files, options.onFatal, start);
    if (fresh) {
      const header = { type: 'header', format: JOURNAL_FORMAT, version: JOURNAL_VERSION, created: options.clock.now() };
      await journal.append(header as JournalRecord, true);
    }
    if (fresh || report?.tornTail) await files.syncDirectory(dirname(file));
    return { journal, report };
  }

  /** Bytes in the file, counting writes not yet synced. */
  get size(): number {
    return this.length;
  }

  /** False after a failed write or sync, until a later one succeeds. */
  get healthy(): boolean {
    return this.failure === null && this.broken === null;
  }

  get lastError(): Error | null {
    return this.broken ?? this.failure;
  }

  /**
   * Queues a record. With `durable`, resolves once it is on disk (fdatasync'd); otherwise once it
   * is written, which survives a crash of the process but not of the machine.
   */
  append(record: JournalRecord, durable: boolean): Promise<void> {
    if (this.broken !== null) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new Error('the data file is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ record, durable, resolve, reject });
      if (!this.writing) this.idle = this.drain();
    });
  }

  /** Waits for queued records, syncs what was written lazily, and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle;
    try {
      if (this.length !== this.syncedLength) await this.files.datasync(this.fd);
    } finally {
      await this.files.close(this.fd);
    }
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.queue.length);
      await this.writeBatch(batch);
    }
    this.writing = false;
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    if (this.broken !== null) {
      for (const pending of batch) pending.reject(this.broken);
      return;
    }
    const start = { length: this.length, seq: this.nextSeq };
    let text = '';
    for (const pending of batch) text += encodeRecord(this.nextSeq++, pending.record);
    const bytes = Buffer.from(text);
    const durable = batch.some((pending) => pending.durable);

    let stage = 'write';
    try {
      await this.writeAll(bytes);
      this.length += bytes.length;
      if (durable) {
        stage = 'fdatasync';
        await this.files.datasync(this.fd);
        this.syncedLength = this.length;
        this.syncedSeq = this.nextSeq;
      }
    } catch (error) {
      // After a failed sync nothing written since the last good sync can be trusted.
      await this.rollBack(stage === 'write' ? start : { length: this.syncedLength, seq: this.syncedSeq });
      const failure = new StorageError(stage, error as NodeJS.ErrnoException);
      this.failure = failure;
      for (const pending of batch) pending.reject(failure);
      return;
    }

    this.failure = null;
    for (const pending of batch) pending.resolve();
  }

  private async writeAll(bytes: Buffer): Promise<void> {
    // A write may be short (disk nearly full): continue from where it stopped, as Redis does.
    for (let offset = 0; offset < bytes.length; ) {
      offset += await this.files.write(this.fd, bytes, offset, bytes.length - offset);
    }
  }

  private async rollBack(to: { length: number; seq: number }): Promise<void> {
    // The cut is made durable by the next successful fdatasync. Should the machine fail before
    // that, the bytes cut off may come back, but they are whole records in sequence that were
    // refused to their senders: a catalog retry of them is answered as a duplicate.
    try {
      await this.files.truncate(this.fd, to.length);
    } catch (error) {
      // The file may now end in a partial record that cannot be cut off: refuse everything from
      // here on and let the relay exit, so that a restart reads the file and drops the torn tail.
      this.broken = new StorageError('truncate', error as NodeJS.ErrnoException);
      this.onFatal(this.broken);
      return;
    }
    this.length = to.length;
    this.nextSeq = to.seq;
    this.syncedLength = Math.min(this.syncedLength, to.length);
  }
}

export interface JournalOptions {
  clock: Clock;
  logger: Logger;
  onRecord: (record: JournalRecord, seq: number) => void;
  /** Called when the file cannot be brought back to a consistent state; the relay must exit. */
  onFatal: (error: Error) => void;
  files?: FileSystem;
}

interface Pending {
  record: JournalRecord;
  durable: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** A failed write, sync or truncate of the data file. */
export class StorageError extends Error {
  readonly code: string | undefined;

  constructor(stage: string, cause: NodeJS.ErrnoException) {
    super(`${stage} of the data file failed: ${cause.code ?? cause.message}`);
    this.name = 'StorageError';
    this.code = cause.code;
  }
}
