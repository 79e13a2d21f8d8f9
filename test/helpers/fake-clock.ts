import type { Clock } from '../../src/clock.js';

/** A clock that moves only when a test says so; timers fire in due order as it passes them. */
export class FakeClock implements Clock {
  private current: number;
  private timers: Array<{ due: number; order: number; callback: () => void }> = [];
  private added = 0;

  constructor(start = Date.UTC(2026, 0, 15, 12, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(delayMs: number, callback: () => void): () => void {
    const timer = { due: this.current + Math.max(0, delayMs), order: this.added++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((entry) => entry !== timer);
    };
  }

  /** When the earliest timer is due, or null when none is armed. */
  get nextDue(): number | null {
    return this.timers.reduce<number | null>(
      (min, timer) => (min === null || timer.due < min ? timer.due : min),
      null,
    );
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const next = this.timers
        .filter((timer) => timer.due <= end)
        .sort((a, b) => a.due - b.due || a.order - b.order)[0];
      if (next === undefined) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      this.current = Math.max(this.current, next.due);
      next.callback();
    }
    this.current = end;
  }
}
