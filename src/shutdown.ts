import type { Clock } from './clock.js';
import type { Logger } from './log.js';

/**
 * Waits for `close` at most `limitMs`, for a process about to exit. What is still under way then
 * (a compaction, a sync on a stalled disk) is left to the exit, which the data file survives as
 * it survives a crash: a compaction writes a separate file and renames it only once it is whole
 * and synced, and the next start removes an unfinished one. Nothing acknowledged is lost, since
 * a 202 is only sent after its fdatasync.
 */
export async function closeWithin(
  close: () => Promise<void>,
  limitMs: number,
  options: { clock: Clock; logger: Logger },
): Promise<'closed' | 'abandoned'> {
  let cancel = (): void => {};
  const limit = new Promise<'abandoned'>((resolve) => {
    cancel = options.clock.schedule(limitMs, () => resolve('abandoned'));
  });
  try {
    const outcome = await Promise.race([close().then(() => 'closed' as const), limit]);
    if (outcome === 'abandoned') {
      const message = 'exiting before the data file was closed; the next start reads it as a crash';
      options.logger.warn(message, { limitMs });
    }
    return outcome;
  } finally {
    cancel();
  }
}
