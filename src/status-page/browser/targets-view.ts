import type { Activity, Outcome, TargetActivity, TargetDetail } from './api-types.js';
import { ActivityChart, type BucketTimes } from './chart-view.js';
import { make, setAttribute, setText, setTime, tableRows } from './dom.js';
import { formatAge, formatCount, formatPath, targetState } from './format.js';
import { KeyedRows } from './keyed-rows.js';
import { matchesFilter } from './target-filter.js';

/**
 * The table of every target: path, URL, state, failures in a row, last success and the chart of
 * its recent deliveries. A target's path is a button that chooses it for the panel below.
 */

interface RowParts {
  choose: HTMLButtonElement;
  name: HTMLSpanElement;
  url: HTMLTableCellElement;
  badge: HTMLSpanElement;
  reason: HTMLSpanElement;
  failures: HTMLTableCellElement;
  lastSuccess: HTMLTimeElement;
  chart: ActivityChart;
}

/** What each refresh brings to the table besides the targets. */
export interface TargetsContext {
  activity: Activity | null;
  chosen: number | null;
  now: number;
  filter: string;
}

export class TargetsView {
  private readonly parts = new WeakMap<HTMLTableRowElement, RowParts>();
  private readonly rows: KeyedRows<TargetDetail, HTMLTableRowElement>;
  private context: TargetsContext = { activity: null, chosen: null, now: 0, filter: '' };
  private activity = new Map<number, TargetActivity>();

  constructor(
    body: HTMLTableSectionElement,
    private readonly onChoose: (id: number) => void,
  ) {
    this.rows = new KeyedRows(tableRows(body), {
      key: (target) => String(target.id),
      create: (target) => this.create(target),
      update: (row, target) => this.update(row, target),
    });
  }

  /** Draws the targets; answers how many the filter shows. */
  render(targets: readonly TargetDetail[], context: TargetsContext): number {
    this.context = context;
    this.activity = new Map((context.activity?.targets ?? []).map((entry) => [entry.id, entry]));
    this.rows.sync(targets);
    return targets.filter((target) => matchesFilter(target, context.filter)).length;
  }

  private create(target: TargetDetail): HTMLTableRowElement {
    const row = make('tr');
    const choose = make('button', 'choose');
    choose.type = 'button';
    choose.addEventListener('click', () => this.onChoose(target.id));
    const name = make('span', 'name');
    const pathCell = make('th');
    pathCell.scope = 'row';
    pathCell.append(choose, name);

    const badge = make('span', 'badge');
    const reason = make('span', 'reason');
    const stateCell = make('td');
    stateCell.append(badge, reason);
    const lastSuccess = make('time');
    const successCell = make('td');
    successCell.append(lastSuccess);
    const chart = new ActivityChart();
    const chartCell = make('td', 'activity');
    chartCell.append(chart.element);

    const url = make('td', 'url');
    const failures = make('td', 'number');
    row.append(pathCell, url, stateCell, failures, successCell, chartCell);
    this.parts.set(row, { choose, name, url, badge, reason, failures, lastSuccess, chart });
    return row;
  }

  private update(row: HTMLTableRowElement, target: TargetDetail): void {
    const parts = this.parts.get(row) as RowParts;
    const { now, chosen, filter } = this.context;
    row.hidden = !matchesFilter(target, filter);
    setAttribute(row, 'class', target.id === chosen ? 'chosen' : null);
    setAttribute(parts.choose, 'aria-current', target.id === chosen ? 'true' : null);
    setText(parts.choose, formatPath(target.path));
    const label = `Show target ${target.id}, ${formatPath(target.path)}`;
    setAttribute(parts.choose, 'aria-label', label);
    setText(parts.name, target.name === null ? `#${target.id}` : `#${target.id} ${target.name}`);
    setText(parts.url, target.url);
    setAttribute(parts.url, 'title', target.url);

    const state = targetState(target, now);
    setText(parts.badge, state.kind);
    setAttribute(parts.badge, 'class', `badge ${state.kind}`);
    setText(parts.reason, state.reason);
    setAttribute(parts.reason, 'title', state.reason === '' ? null : state.reason);
    const failures = target.health.consecutive_failures;
    setText(parts.failures, formatCount(failures));
    setAttribute(parts.failures, 'class', failures > 0 ? 'number alarm' : 'number');
    const lastSuccess = target.health.last_success_at;
    setTime(parts.lastSuccess, lastSuccess, formatAge(lastSuccess, now));
    this.drawChart(parts.chart, target.id);
  }

  private drawChart(chart: ActivityChart, id: number): void {
    const activity = this.context.activity;
    if (activity === null) return;
    chart.update(this.activity.get(id) ?? emptyCounts(activity), bucketTimes(activity));
  }
}

export function bucketTimes(activity: Activity): BucketTimes {
  const from = Date.parse(activity.from);
  const minutes = (Date.parse(activity.to) - from) / 60_000;
  const label = minutes === 60 ? 'last hour' : `last ${minutes} minutes`;
  return { from, bucketMs: activity.bucket_seconds * 1000, label };
}

/** A target registered since the activity was counted has none yet. */
function emptyCounts(activity: Activity): Record<Outcome, number[]> {
  const windowMs = Date.parse(activity.to) - Date.parse(activity.from);
  const buckets = windowMs / (activity.bucket_seconds * 1000);
  const zeros = (): number[] => new Array<number>(buckets).fill(0);
  return { success: zeros(), failed: zeros(), skipped: zeros(), pending: zeros() };
}
