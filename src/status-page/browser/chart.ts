import type { Outcome } from './api-types.js';

/**
 * The geometry of a target's activity chart: one stacked bar per time bucket, scaled so that the
 * busiest bucket fills the height. Pure, so it is unit-tested; chart-view.ts draws it.
 */

/** Bottom to top: successes at the base, where a healthy target's bars are all one colour. */
export const STACK_ORDER: readonly Outcome[] = ['success', 'failed', 'skipped', 'pending'];

export interface ChartSize {
  width: number;
  height: number;
  /** Space between two bars. */
  gap: number;
}

export interface Segment {
  outcome: Outcome;
  y: number;
  height: number;
}

export interface Bar {
  x: number;
  width: number;
  total: number;
  /** One per outcome, in STACK_ORDER; an outcome without deliveries has height 0. */
  segments: Segment[];
}

/**
 * Whole pixels throughout, so bars stay crisp. A bucket with any delivery of an outcome gets at
 * least one pixel of it, so a single failure among hundreds of successes stays visible.
 */
export function chartBars(counts: Record<Outcome, readonly number[]>, size: ChartSize): Bar[] {
  const buckets = counts.success.length;
  const totals = Array.from({ length: buckets }, (_, bucket) => bucketTotal(counts, bucket));
  const scale = size.height / Math.max(1, ...totals);
  const pitch = size.width / Math.max(1, buckets);
  const width = Math.max(1, Math.floor(pitch - size.gap));

  return totals.map((total, bucket) => {
    let top = size.height;
    const segments = STACK_ORDER.map((outcome) => {
      const count = counts[outcome][bucket] ?? 0;
      const height = count === 0 ? 0 : Math.max(1, Math.round(count * scale));
      top -= height;
      return { outcome, y: top, height };
    });
    return { x: Math.round(bucket * pitch), width, total, segments };
  });
}

function bucketTotal(counts: Record<Outcome, readonly number[]>, bucket: number): number {
  return STACK_ORDER.reduce((sum, outcome) => sum + (counts[outcome][bucket] ?? 0), 0);
}

/** Deliveries in the whole window, by outcome. */
export function outcomeTotals(counts: Record<Outcome, readonly number[]>): Record<Outcome, number> {
  const sum = (values: readonly number[]): number =>
    values.reduce((total, value) => total + value, 0);
  return {
    success: sum(counts.success),
    failed: sum(counts.failed),
    skipped: sum(counts.skipped),
    pending: sum(counts.pending),
  };
}

/** What a screen reader hears for a chart, and a tooltip shows: the counts in words. */
export function describeCounts(totals: Record<Outcome, number>): string {
  const parts = STACK_ORDER.filter((outcome) => totals[outcome] > 0).map(
    (outcome) => `${totals[outcome]} ${outcome}`,
  );
  return parts.length === 0 ? 'no deliveries' : parts.join(', ');
}
