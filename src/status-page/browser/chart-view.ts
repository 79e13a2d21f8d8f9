import type { Outcome } from './api-types.js';
import { chartBars, describeCounts, outcomeTotals, STACK_ORDER, type ChartSize } from './chart.js';
import { setAttribute, setText, SVG_NAMESPACE } from './dom.js';

/**
 * A target's activity as an inline SVG of stacked bars, one per bucket. The elements are made
 * once and only their coordinates change on a refresh. Colours come from the stylesheet (a class
 * per outcome), so they follow the light or dark theme.
 */

export const CHART_SIZE: ChartSize = { width: 144, height: 28, gap: 2 };

/** The time buckets the counts belong to, for the tooltips. */
export interface BucketTimes {
  from: number;
  bucketMs: number;
  /** What the whole window is called in the chart's label, e.g. "last hour". */
  label: string;
}

interface BarElements {
  title: SVGTitleElement;
  slot: SVGRectElement;
  segments: SVGRectElement[];
}

export class ActivityChart {
  readonly element: SVGSVGElement;
  private bars: BarElements[] = [];

  constructor() {
    this.element = svg('svg');
    const { width, height } = CHART_SIZE;
    this.element.setAttribute('viewBox', `0 0 ${width} ${height}`);
    this.element.setAttribute('width', String(width));
    this.element.setAttribute('height', String(height));
    this.element.setAttribute('role', 'img');
    this.element.setAttribute('class', 'chart');
  }

  update(counts: Record<Outcome, number[]>, times: BucketTimes): void {
    const bars = chartBars(counts, CHART_SIZE);
    if (bars.length !== this.bars.length) this.rebuild(bars.length);
    const label = `${times.label}: ${describeCounts(outcomeTotals(counts))}`;
    setAttribute(this.element, 'aria-label', label);

    bars.forEach((bar, bucket) => {
      const elements = this.bars[bucket] as BarElements;
      const start = times.from + bucket * times.bucketMs;
      const described = describeCounts(countsOf(counts, bucket));
      setText(elements.title, `${timeRange(start, start + times.bucketMs)}: ${described}`);
      place(elements.slot, bar.x, 0, bar.width, CHART_SIZE.height);
      bar.segments.forEach((segment, index) => {
        const rect = elements.segments[index] as SVGRectElement;
        place(rect, bar.x, segment.y, bar.width, segment.height);
      });
    });
  }

  private rebuild(buckets: number): void {
    this.element.replaceChildren();
    this.bars = Array.from({ length: buckets }, () => {
      const group = svg('g');
      const title = svg('title');
      const slot = svg('rect');
      slot.setAttribute('class', 'slot');
      const segments = STACK_ORDER.map((outcome) => {
        const rect = svg('rect');
        rect.setAttribute('class', `segment ${outcome}`);
        return rect;
      });
      group.append(title, slot, ...segments);
      this.element.append(group);
      return { title, slot, segments };
    });
  }
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K): SVGElementTagNameMap[K] {
  return document.createElementNS(SVG_NAMESPACE, tag);
}

function place(rect: SVGRectElement, x: number, y: number, width: number, height: number): void {
  setAttribute(rect, 'x', String(x));
  setAttribute(rect, 'y', String(y));
  setAttribute(rect, 'width', String(width));
  setAttribute(rect, 'height', String(height));
}

function countsOf(counts: Record<Outcome, number[]>, bucket: number): Record<Outcome, number> {
  return {
    success: counts.success[bucket] ?? 0,
    failed: counts.failed[bucket] ?? 0,
    skipped: counts.skipped[bucket] ?? 0,
    pending: counts.pending[bucket] ?? 0,
  };
}

const CLOCK: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit' };

function timeRange(start: number, end: number): string {
  const format = (time: number): string => new Date(time).toLocaleTimeString([], CLOCK);
  return `${format(start)}–${format(end)}`;
}
