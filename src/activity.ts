import type { Outcome } from './records.js';

/**
 * Deliveries of the recent past counted by outcome in equal time buckets, for the status page's
 * charts. A target's history is kept in the order its deliveries were created, which is the order
 * their events were accepted, so counting walks back from the newest delivery and stops at the
 * first one older than the window: the cost is the deliveries inside the window, however long
 * the history is. A wall clock set back can leave a delivery out of order; it is then counted in
 * its place or, behind an older one, not at all, which a chart can afford.
 */

export const OUTCOMES: readonly Outcome[] = ['success', 'failed', 'skipped', 'pending'];

/** The buckets `[from, from + bucketMs)`, `[from + bucketMs, …)`, … up to the present one. */
export interface ActivityWindow {
  from: number;
  bucketMs: number;
  buckets: number;
}

/** One count per bucket for each outcome, oldest bucket first. */
export type OutcomeCounts = Record<Outcome, number[]>;

/** What counting needs of a delivery: when its event was accepted, and where it stands. */
export interface CountedDelivery {
  outcome: Outcome;
  event: { at: number };
}

/**
 * `buckets` buckets covering `minutes` minutes and ending with the one that holds `now`. Bucket
 * edges fall on multiples of the bucket's length, so the bars of a chart refreshed every few
 * seconds stay where they are until a bucket is complete.
 */
export function activityWindow(now: number, minutes: number, buckets: number): ActivityWindow {
  const bucketMs = (minutes * 60_000) / buckets;
  const end = (Math.floor(now / bucketMs) + 1) * bucketMs;
  return { from: end - buckets * bucketMs, bucketMs, buckets };
}

/** The end of the window: the start of the bucket after the present one. */
export function windowEnd(window: ActivityWindow): number {
  return window.from + window.buckets * window.bucketMs;
}

/** Counts the deliveries of one history (oldest first) whose events fall inside the window. */
export function countActivity(
  history: ArrayLike<CountedDelivery>,
  window: ActivityWindow,
): OutcomeCounts {
  const counts = emptyCounts(window.buckets);
  for (let index = history.length - 1; index >= 0; index -= 1) {
    const delivery = history[index] as CountedDelivery;
    const at = delivery.event.at;
    if (at < window.from) break;

    const bucket = Math.floor((at - window.from) / window.bucketMs);
    // Accepted after the window ends: only a clock set back since then leaves one there.
    if (bucket >= window.buckets) continue;
    (counts[delivery.outcome][bucket] as number) += 1;
  }
  return counts;
}

function emptyCounts(buckets: number): OutcomeCounts {
  const zeros = (): number[] => new Array<number>(buckets).fill(0);
  return { success: zeros(), failed: zeros(), skipped: zeros(), pending: zeros() };
}
