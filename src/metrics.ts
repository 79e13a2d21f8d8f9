/**
 * The Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` lines, then one
 * sample a line. Pure: it renders numbers it is given, so the format is tested without a relay.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

interface FamilyHeader {
  name: string;
  help: string;
}

export type MetricFamily =
  | (FamilyHeader & { type: 'counter' | 'gauge'; samples: readonly Sample[] })
  | (FamilyHeader & { type: 'histogram'; histogram: Histogram });

/**
 * Observations counted into buckets with upper bounds. Each bucket counts only its own range
 * here; the cumulative counts the format wants are summed when rendered, so `observe` stays a
 * few comparisons and one increment.
 */
export class Histogram {
  /** One count per bound, and a last one for values above every bound. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let index = 0;
    while (index < this.bounds.length && value > (this.bounds[index] as number)) index += 1;
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.sum += value;
    this.count += 1;
  }
}

/** A sample with no labels. */
export function single(value: number): Sample[] {
  return [{ labels: {}, value }];
}

export function renderMetrics(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.type === 'histogram') {
      lines.push(...histogramLines(family.name, family.histogram));
    } else {
      for (const sample of family.samples) {
        lines.push(sampleLine(family.name, sample.labels, sample.value));
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

function histogramLines(name: string, histogram: Histogram): string[] {
  const lines: string[] = [];
  let cumulative = 0;
  histogram.bounds.forEach((bound, index) => {
    cumulative += histogram.counts[index] ?? 0;
    lines.push(sampleLine(`${name}_bucket`, { le: formatNumber(bound) }, cumulative));
  });
  lines.push(sampleLine(`${name}_bucket`, { le: '+Inf' }, histogram.count));
  lines.push(sampleLine(`${name}_sum`, {}, histogram.sum));
  lines.push(sampleLine(`${name}_count`, {}, histogram.count));
  return lines;
}

function sampleLine(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(
    ([label, text]) => `${label}="${escapeLabelValue(text)}"`,
  );
  const labelText = pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
  return `${name}${labelText} ${formatNumber(value)}`;
}

/** Label values escape backslash, double quote and line feed, as the format requires. */
export function escapeLabelValue(text: string): string {
  return text.replace(/[\\"\n]/g, (character) => (character === '\n' ? '\\n' : `\\${character}`));
}

/** Help text escapes backslash and line feed only. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (character) => (character === '\n' ? '\\n' : '\\\\'));
}

/** Go's ParseFloat reads what String(number) writes, except for the infinities and NaN. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
