import type { Clock } from './clock.js';
import type { Config } from './defaults.js';
import { CompactionAbandoned, type Journal } from './journal.js';
import type { Logger } from './log.js';
import type { RelayState } from './state.js';

const DAY_MS = 86_400_000;

export interface MaintenanceOptions {
  state: RelayState;
  journal: Journal;
  clock: Clock;
  logger: Logger;
  history: Config['history'];
  compaction: Config['compaction'];
}

/**
 * Keeps memory and the data file bounded: on a timer it forgets history beyond retention, and
 * when the file has grown past `compaction.ratio` times what its live records need, it has the
 * journal rewrite it with only those.
 */
export class Maintenance {
  private cancel: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: MaintenanceOptions) {}

  start(): void {
    if (this.stopped) return;
    this.cancel = this.options.clock.schedule(this.options.compaction.checkIntervalMs, () => {
      this.cancel = null;
      void this.run().finally(() => this.start());
    });
  }

  /**
   * Takes new retention and compaction settings (a config reload). They apply from the next
   * check, and the wait for it starts over with the new interval.
   */
  configure(history: Config['history'], compaction: Config['compaction']): void {
    this.options.history = history;
    this.options.compaction = compaction;
    if (this.cancel === null) return;
    this.cancel();
    this.cancel = null;
    this.start();
  }

  /** Stops the timer and waits for a run under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    await this.running;
  }

  /** Prunes, then compacts if it is worth it. Runs one at a time. */
  run(): Promise<void> {
    this.running ??= this.pruneAndCompact().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Forgets what is beyond retention; the data file keeps it until the next compaction. */
  prune(): void {
    const { state, clock, logger, history } = this.options;
    const rule = {
      before: clock.now() - history.retentionDays * DAY_MS,
      perTarget: history.maxPerTarget,
    };
    const pruned = state.prune(rule);
    if (pruned.deliveries + pruned.events > 0) {
      logger.info('history beyond retention forgotten', pruned);
    }
  }

  private async pruneAndCompact(): Promise<void> {
    const { state, journal, clock, logger, compaction } = this.options;
    this.prune();
    if (journal.size < compaction.minBytes || journal.size <= compaction.ratio * state.liveBytes) {
      return;
    }
    try {
      const result = await journal.compact(state.snapshot(clock.now()));
      if (result !== null) {
        logger.info('data file compacted', {
          file: journal.file,
          ...result,
          liveBytes: state.liveBytes,
        });
      }
    } catch (error) {
      if (error instanceof CompactionAbandoned) {
        logger.info('compaction abandoned as the relay stops; the data file is as it was');
        return;
      }
      logger.warn('compaction failed; it is tried again at the next check', { err: error });
    }
  }
}
