import fs from 'node:fs';

/**
 * The file calls the data file makes, behind one seam so tests can make any of them fail
 * (ENOSPC, EIO) at a chosen moment, as SQLite's and write-file-atomic's test suites do.
 */
export interface FileSystem {
  open(path: string, flags: string, mode: number): Promise<number>;
  /**
   * Writes at `position` of the file; may write fewer bytes than asked and answers how many it
   * wrote. The position matters after a failure: the file is cut back to its last good length,
   * and the next write must start there, not where the failed one left the file offset.
   */
  write(
    fd: number,
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<number>;
  datasync(fd: number): Promise<void>;
  truncate(fd: number, length: number): Promise<void>;
  close(fd: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** fsync of a folder, which makes a new or renamed name in it durable. */
  syncDirectory(path: string): Promise<void>;
}

function promised<T>(
  call: (done: (error: NodeJS.ErrnoException | null, value: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) =>
    call((error, value) => (error ? reject(error) : resolve(value))),
  );
}

export const nodeFileSystem: FileSystem = {
  open: (path, flags, mode) => promised((done) => fs.open(path, flags, mode, done)),
  // Written at once rather than on the thread pool: copying a batch into the page cache takes
  // microseconds, while a round trip through the pool would delay the fdatasync that follows,
  // and with it every acknowledgement waiting for it, by a turn of the event loop. A disk that
  // stalls in a write then stalls the event loop too, where it would stall every ingest anyway.
  write: (fd, buffer, offset, length, position) => {
    try {
      return Promise.resolve(fs.writeSync(fd, buffer, offset, length, position));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  },
  datasync: (fd) => promised((done) => fs.fdatasync(fd, (error) => done(error, undefined))),
  truncate: (fd, length) =>
    promised((done) => fs.ftruncate(fd, length, (error) => done(error, undefined))),
  close: (fd) => promised((done) => fs.close(fd, (error) => done(error, undefined))),
  rename: (from, to) => promised((done) => fs.rename(from, to, (error) => done(error, undefined))),
  async syncDirectory(path) {
    const fd = await nodeFileSystem.open(path, 'r', 0);
    try {
      await promised<void>((done) => fs.fsync(fd, (error) => done(error, undefined)));
    } finally {
      await nodeFileSystem.close(fd);
    }
  },
};
