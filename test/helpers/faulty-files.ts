import { nodeFileSystem, type FileSystem } from '../../src/files.js';

type Operation = keyof FileSystem;

/**
 * The real file calls, counted, with failures a test can inject: fail the next call of an
 * operation (or every call until healed) with an errno code, or hold calls until released.
 */
export class FaultyFiles implements FileSystem {
  readonly calls: Record<Operation, number> = {
    open: 0,
    write: 0,
    datasync: 0,
    truncate: 0,
    close: 0,
    rename: 0,
    syncDirectory: 0,
  };
  private readonly failures = new Map<Operation, { code: string; remaining: number }>();
  private readonly gates = new Map<Operation, Array<() => void>>();
  private readonly held = new Set<Operation>();
  /** After this many more calls, every call hangs: the process "died" at that point. */
  private callsBeforeFreeze = Infinity;
  private readonly frozen: Array<() => void> = [];

  /** Makes the next `times` calls of `operation` fail with `code` (Infinity: until healed). */
  fail(operation: Operation, code: string, times = 1): void {
    this.failures.set(operation, { code, remaining: times });
  }

  heal(operation?: Operation): void {
    if (operation === undefined) this.failures.clear();
    else this.failures.delete(operation);
  }

  /** Holds every call of `operation` until `release` is called. */
  hold(operation: Operation): void {
    this.held.add(operation);
  }

  release(operation: Operation): void {
    this.held.delete(operation);
    for (const resume of this.gates.get(operation)?.splice(0) ?? []) resume();
  }

  /** Lets `calls` more calls through, then stops every call for good (until thawed). */
  freezeAfter(calls: number): void {
    this.callsBeforeFreeze = calls;
  }

  /** Lets every stopped call go on, for closing the test down. */
  thaw(): void {
    this.callsBeforeFreeze = Infinity;
    for (const resume of this.frozen.splice(0)) resume();
  }

  /** Calls stopped by freezeAfter so far. */
  get frozenCalls(): number {
    return this.frozen.length;
  }

  get totalCalls(): number {
    return Object.values(this.calls).reduce((sum, count) => sum + count, 0);
  }

  /** How many calls of `operation` are waiting at the gate. */
  waiting(operation: Operation): number {
    return this.gates.get(operation)?.length ?? 0;
  }

  private async enter(operation: Operation): Promise<void> {
    if (this.callsBeforeFreeze <= 0) await new Promise<void>((resume) => this.frozen.push(resume));
    this.callsBeforeFreeze -= 1;
    this.calls[operation] += 1;
    if (this.held.has(operation)) {
      await new Promise<void>((resume) => {
        const queue = this.gates.get(operation) ?? [];
        queue.push(resume);
        this.gates.set(operation, queue);
      });
    }
    const failure = this.failures.get(operation);
    if (failure !== undefined && failure.remaining > 0) {
      failure.remaining -= 1;
      throw Object.assign(new Error(`${failure.code}: injected failure of ${operation}`), { code: failure.code });
    }
  }

  async open(path: string, flags: string, mode: number): Promise<number> {
    await this.enter('open');
    return nodeFileSystem.open(path, flags, mode);
  }

  async write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    await this.enter('write');
    return nodeFileSystem.write(fd, buffer, offset, length, position);
  }

  async datasync(fd: number): Promise<void> {
    await this.enter('datasync');
    return nodeFileSystem.datasync(fd);
  }

  async truncate(fd: number, length: number): Promise<void> {
    await this.enter('truncate');
    return nodeFileSystem.truncate(fd, length);
  }

  async close(fd: number): Promise<void> {
    await this.enter('close');
    return nodeFileSystem.close(fd);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.enter('rename');
    return nodeFileSystem.rename(from, to);
  }

  async syncDirectory(path: string): Promise<void> {
    await this.enter('syncDirectory');
    return nodeFileSystem.syncDirectory(path);
  }
}
