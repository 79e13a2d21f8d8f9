import { chmodSync, mkdirSync, rmSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from './clock.js';
import { nodeFileSystem, type FileSystem } from './files.js';
import { readJournal, type ReadReport } from './journal-reader.js';
import type { Logger } from './log.js';
import {
  encodeRecord,
  encodeSeenLine,
  JOURNAL_FORMAT,
  JOURNAL_VERSION,
  type JournalRecord,
} from './records.js';

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
  /** While compacting: records written to the old file since the snapshot, to carry over. */
  private carried: JournalRecord[] | null = null;
  /** While set, the writer starts no new batch (compaction is switching files). */
  private paused: { until: Promise<void>; resume: () => void } | null = null;
  private batchUnderWay: Promise<void> = Promise.resolve();
  private compaction: Promise<unknown> = Promise.resolve();
  /** Set when the relay stops: a compaction under way gives up before its switch. */
  private abandoning = false;
  /** Told how long each group commit's fdatasync took, in seconds, whether or not it failed. */
  onSync: (seconds: number) => void = () => {};

  private constructor(
    readonly file: string,
    private fd: number,
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
  static async open(
    file: string,
    options: JournalOptions,
  ): Promise<{ journal: Journal; report: ReadReport | null }> {
    const files = options.files ?? nodeFileSystem;
    mkdirSync(dirname(file), { recursive: true });
    removeUnfinishedCompaction(file, options.logger);

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
    // The mode given to open only applies to a new file: one copied in or restored from a
    // backup keeps its own, and it holds event bodies and (without secretKeys) target secrets.
    chmodSync(file, 0o600);
    if (report?.tornTail) await files.datasync(fd);
    const fresh = report === null || report.goodLength === 0;
    const start = { length: fresh ? 0 : report.goodLength, nextSeq: fresh ? 0 : report.nextSeq };
    const journal = new Journal(file, fd, files, options.onFatal, start);
    if (fresh) {
      const header = {
        type: 'header',
        format: JOURNAL_FORMAT,
        version: JOURNAL_VERSION,
        created: options.clock.now(),
      };
      options.onRecord(
        header as JournalRecord,
        await journal.append(header as JournalRecord, true),
      );
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

  get compacting(): boolean {
    return this.carried !== null;
  }

  /**
   * Queues a record and resolves with the length of its line. With `durable`, resolves once it
   * is on disk (fdatasync'd); otherwise once it is written, which survives a crash of the
   * process but not of the machine.
   */
  append(record: JournalRecord, durable: boolean): Promise<number> {
    if (this.broken !== null) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new Error('the data file is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ record, durable, resolve, reject });
      if (!this.writing) this.idle = this.drain();
    });
  }

  /**
   * Replaces the file with one that holds `snapshot` (the live state, header first) followed by
   * every record appended while it was being written. The new file is written beside the old
   * one, synced, renamed over it, and the folder is synced: a crash at any step leaves either the
   * old file or the new one, each complete. The snapshot is read a chunk at a time, between
   * writes, so appends go on meanwhile, except for the moment of the switch. Answers null when a
   * compaction is already under way.
   */
  compact(snapshot: Iterable<JournalRecord>): Promise<{ before: number; after: number } | null> {
    if (this.carried !== null || this.closed || this.abandoning || this.broken !== null) {
      return Promise.resolve(null);
    }
    this.carried = [];
    const running = this.replaceWith(snapshot);
    this.compaction = running.catch(() => {});
    return running;
  }

  private async replaceWith(
    snapshot: Iterable<JournalRecord>,
  ): Promise<{ before: number; after: number }> {
    const carried = this.carried ?? [];
    const before = this.length;
    const temporary = compactionFile(this.file);

    let fd: number | null = null;
    let replaced = false;
    try {
      fd = await this.files.open(temporary, 'w', 0o600);
      const output: SnapshotOutput = { fd, seq: 0, length: 0 };
      for (const chunk of encodedChunks(snapshot, output.seq)) {
        await this.writeChunk(output, chunk);
        // Writes finish at once (see files.ts): a turn of the event loop lets ingest go on.
        await nextTurn();
        this.throwIfAbandoned();
      }
      // Most of what was appended meanwhile is copied before the writer is held, so that the
      // pause covers only the last few records.
      while (carried.length > SNAPSHOT_CHUNK) {
        await this.writeRecords(output, carried.splice(0, carried.length));
      }
      await this.files.datasync(fd);
      this.throwIfAbandoned();

      await this.pause();
      await this.writeRecords(output, carried.splice(0, carried.length));
      await this.files.datasync(fd);
      await this.files.rename(temporary, this.file);
      replaced = true;
      await this.files.syncDirectory(dirname(this.file));

      await this.files.close(this.fd).catch(() => {});
      this.fd = fd;
      this.length = this.syncedLength = output.length;
      this.nextSeq = this.syncedSeq = output.seq;
      return { before, after: this.length };
    } catch (error) {
      if (replaced) {
        // The new file has its name, but the rename may not be durable and the old descriptor
        // writes to a file that is gone: stop, and let a restart read whichever file is there.
        this.broken = new StorageError('compaction', error as NodeJS.ErrnoException);
        this.onFatal(this.broken);
      } else if (fd !== null) {
        await this.files.close(fd).catch(() => {});
        rmSync(temporary, { force: true });
      }
      throw error;
    } finally {
      this.carried = null;
      this.resume();
    }
  }

  /**
   * Makes a compaction under way give up at its next step before the switch, leaving the data
   * file as it is, so that stopping waits for one chunk of the snapshot rather than all of it.
   */
  abandonCompaction(): void {
    this.abandoning = true;
  }

  private throwIfAbandoned(): void {
    if (this.abandoning) throw new CompactionAbandoned();
  }

  /** Appends records to the file a compaction is writing. */
  private async writeRecords(output: SnapshotOutput, records: JournalRecord[]): Promise<void> {
    for (const chunk of encodedChunks(records, output.seq)) await this.writeChunk(output, chunk);
  }

  private async writeChunk(output: SnapshotOutput, chunk: EncodedChunk): Promise<void> {
    await writeAll(this.files, output.fd, chunk.bytes, output.length);
    output.seq += chunk.records;
    output.length += chunk.bytes.length;
  }

  /** Waits for queued records, syncs what was written lazily, and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abandonCompaction();
    await this.compaction;
    await this.idle;
    try {
      if (this.length !== this.syncedLength && this.broken === null) {
        await this.files.datasync(this.fd);
      }
    } finally {
      await this.files.close(this.fd);
    }
  }

  /**
   * Writes batch after batch while records keep coming. A batch's senders are answered only once
   * the next batch is on its way to the disk: what they do with the answer (a 202 written to a
   * socket, say) then runs while that batch syncs instead of holding up its start.
   */
  private async drain(): Promise<void> {
    this.writing = true;
    let settle: (() => void) | null = null;
    while (this.queue.length > 0) {
      if (this.paused !== null) {
        settle?.();
        settle = null;
        await this.paused.until;
      }
      const batch = this.queue.splice(0, this.queue.length);
      const written = this.writeBatch(batch);
      settle?.();
      this.batchUnderWay = written.then(() => {});
      settle = await written;
    }
    settle?.();
    this.writing = false;
  }

  /** Holds the writer between two batches. */
  private async pause(): Promise<void> {
    let resume = (): void => {};
    const until = new Promise<void>((resolve) => (resume = resolve));
    this.paused = { until, resume };
    await this.batchUnderWay;
  }

  private resume(): void {
    this.paused?.resume();
    this.paused = null;
  }

  /** Writes one batch and answers how to tell its senders the outcome. */
  private async writeBatch(batch: Pending[]): Promise<() => void> {
    if (this.broken !== null) return rejectAll(batch, this.broken);
    const start = { length: this.length, seq: this.nextSeq };
    // Filled by push rather than made by Array.prototype.map, whose arrays V8 gave more than one
    // shape: the optimized writer was thrown away and compiled again while the relay warmed up.
    const lines: string[] = [];
    for (const pending of batch) lines.push(encodeRecord(this.nextSeq++, pending.record));
    const text = lines.join('');
    const bytes = Buffer.from(text);
    // Lines are nearly always ASCII, and then each one's length in bytes is its length.
    const ascii = bytes.length === text.length;
    const lineBytes = ascii ? (line: string) => line.length : Buffer.byteLength;
    const durable = batch.some((pending) => pending.durable);

    let stage = 'write';
    try {
      await writeAll(this.files, this.fd, bytes, this.length);
      this.length += bytes.length;
      if (durable) {
        stage = 'fdatasync';
        await this.syncBatch();
        this.syncedLength = this.length;
        this.syncedSeq = this.nextSeq;
      }
    } catch (error) {
      // After a failed sync nothing written since the last good sync can be trusted.
      await this.rollBack(
        stage === 'write' ? start : { length: this.syncedLength, seq: this.syncedSeq },
      );
      const failure = new StorageError(stage, error as NodeJS.ErrnoException);
      this.failure = failure;
      return rejectAll(batch, failure);
    }

    this.failure = null;
    this.carried?.push(...batch.map((pending) => pending.record));
    return () => {
      batch.forEach((pending, index) => pending.resolve(lineBytes(lines[index] ?? '')));
    };
  }

  private async syncBatch(): Promise<void> {
    const started = performance.now();
    try {
      await this.files.datasync(this.fd);
    } finally {
      this.onSync((performance.now() - started) / 1000);
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
  /** Receives every record read at startup, with the length of its line. */
  onRecord: (record: JournalRecord, bytes: number) => void;
  /** Called when the file cannot be brought back to a consistent state; the relay must exit. */
  onFatal: (error: Error) => void;
  files?: FileSystem;
}

interface Pending {
  record: JournalRecord;
  durable: boolean;
  resolve: (bytes: number) => void;
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

function rejectAll(batch: readonly Pending[], error: Error): () => void {
  return () => {
    for (const pending of batch) pending.reject(error);
  };
}

/** A compaction given up because the relay is stopping; the data file was left as it was. */
export class CompactionAbandoned extends Error {
  constructor() {
    super('compaction abandoned: the data file is closing');
    this.name = 'CompactionAbandoned';
  }
}

/** Records, and about how many bytes, per write while a snapshot is written. */
const SNAPSHOT_CHUNK = 2_000;
const SNAPSHOT_CHUNK_BYTES = 1 << 20;
/** Room for a line of 4,096 remembered ids (87 KB), as a snapshot writes them. */
const SEEN_LINE_BYTES = 96 * 1024;

interface SnapshotOutput {
  fd: number;
  seq: number;
  length: number;
}

interface EncodedChunk {
  bytes: Buffer;
  records: number;
}

export function compactionFile(file: string): string {
  return `${file}.compacting`;
}

/** Writes all of `bytes` at `position`. */
async function writeAll(
  files: FileSystem,
  fd: number,
  bytes: Buffer,
  position: number,
): Promise<void> {
  // A write may be short (disk nearly full): continue from where it stopped, as Redis does.
  for (let offset = 0; offset < bytes.length;) {
    offset += await files.write(fd, bytes, offset, bytes.length - offset, position + offset);
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Lines of the file for `records`, numbered from `firstSeq`, in chunks of at most SNAPSHOT_CHUNK
 * records or about SNAPSHOT_CHUNK_BYTES: a snapshot holds records of every size, up to the ids
 * of the events it remembers (4,096 to a record), and one chunk of those written in one piece
 * swelled the relay's memory by tens of megabytes at every compaction. A line of remembered ids
 * is a chunk of its own, made in one buffer reused for each: a chunk's bytes are written
 * before the next chunk is asked for.
 */
function* encodedChunks(
  records: Iterable<JournalRecord>,
  firstSeq: number,
): Generator<EncodedChunk> {
  let lines: string[] = [];
  let length = 0;
  let seq = firstSeq;
  let scratch: Buffer | null = null;
  /** The lines so far as one chunk, and a fresh start. */
  const joined = (): EncodedChunk => {
    const chunk = { bytes: Buffer.from(lines.join('')), records: lines.length };
    lines = [];
    length = 0;
    return chunk;
  };
  for (const record of records) {
    if (record.type === 'seen') {
      // A line of remembered ids is large: it goes out on its own, made straight into bytes.
      if (lines.length > 0) yield joined();
      scratch ??= Buffer.allocUnsafe(SEEN_LINE_BYTES);
      yield { bytes: encodeSeenLine(seq++, record, scratch), records: 1 };
      continue;
    }
    const line = encodeRecord(seq++, record);
    lines.push(line);
    length += line.length;
    if (lines.length >= SNAPSHOT_CHUNK || length >= SNAPSHOT_CHUNK_BYTES) yield joined();
  }
  if (lines.length > 0) yield joined();
}

/** A compaction that did not reach its rename leaves a partial file; the data file is whole. */
function removeUnfinishedCompaction(file: string, logger: Logger): void {
  const temporary = compactionFile(file);
  try {
    rmSync(temporary);
    logger.info('removed the file of an unfinished compaction', { file: temporary });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
