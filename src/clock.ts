/** Time as the relay sees it. Injected everywhere so tests control it instead of sleeping. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `callback` once after `delayMs`; the returned function cancels it. */
  schedule(delayMs: number, callback: () => void): () => void;
}

// setTimeout silently turns a delay above 2^31-1 ms into 1 ms (with a TimeoutOverflowWarning),
// so a long wait is taken in steps no longer than this.
const LONGEST_TIMER_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, callback) {
    const dueAt = Date.now() + delayMs;
    let timer: NodeJS.Timeout;
    const arm = (): void => {
      const remaining = dueAt - Date.now();
      if (remaining <= LONGEST_TIMER_MS) {
        timer = setTimeout(callback, Math.max(0, remaining));
      } else {
        timer = setTimeout(arm, LONGEST_TIMER_MS);
      }
      timer.unref();
    };
    arm();
    return () => clearTimeout(timer);
  },
};
