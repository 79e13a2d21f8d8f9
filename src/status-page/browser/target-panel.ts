import type { DeliveryView, Outcome, TargetDetail } from './api-types.js';
import { byId, make, setAttribute, setText, setTime, tableRows } from './dom.js';
import { formatAge, formatPath, targetState } from './format.js';
import { KeyedRows } from './keyed-rows.js';
import type { ReplayRequest } from './operator-actions.js';

/**
 * The chosen target: its recent deliveries, newest first, and the operator's actions on it
 * (pause or resume, ping, replay, and redeliver one delivery). The panel only says what was
 * asked for; the dashboard calls the API and reports the answer.
 */

export interface PanelActions {
  redeliver(delivery: DeliveryView, button: HTMLButtonElement): void;
  setActive(target: TargetDetail, active: boolean, button: HTMLButtonElement): void;
  ping(target: TargetDetail, button: HTMLButtonElement): void;
  replay(target: TargetDetail, window: ReplayRequest, button: HTMLButtonElement): void;
}

interface RowParts {
  cells: HTMLTableCellElement[];
  outcome: HTMLSpanElement;
  accepted: HTMLTimeElement;
  settled: HTMLTimeElement;
  redeliver: HTMLButtonElement;
}

export class TargetPanel {
  private readonly title = byId('target-title', HTMLHeadingElement);
  private readonly summary = byId('target-summary', HTMLParagraphElement);
  private readonly placeholder = byId('target-placeholder', HTMLParagraphElement);
  private readonly detail = byId('target-detail', HTMLDivElement);
  private readonly pause = byId('pause-button', HTMLButtonElement);
  private readonly ping = byId('ping-button', HTMLButtonElement);
  private readonly replay = byId('replay-button', HTMLButtonElement);
  private readonly replayOutcomes = byId('replay-outcomes', HTMLSelectElement);
  private readonly replayPeriod = byId('replay-period', HTMLSelectElement);
  private readonly managedNote = byId('managed-note', HTMLSpanElement);
  private readonly empty = byId('deliveries-empty', HTMLParagraphElement);
  private readonly table = byId('deliveries-scroll', HTMLDivElement);
  private readonly parts = new WeakMap<HTMLTableRowElement, RowParts>();
  private readonly rows: KeyedRows<DeliveryView, HTMLTableRowElement>;
  private target: TargetDetail | null = null;
  private now = 0;

  constructor(private readonly actions: PanelActions) {
    this.rows = new KeyedRows(tableRows(byId('deliveries-body', HTMLTableSectionElement)), {
      key: (delivery) => String(delivery.id),
      create: (delivery) => this.create(delivery),
      update: (row, delivery) => this.update(row, delivery),
    });
    this.pause.addEventListener('click', () => {
      const target = this.target;
      if (target !== null) this.actions.setActive(target, !target.active, this.pause);
    });
    this.ping.addEventListener('click', () => {
      if (this.target !== null) this.actions.ping(this.target, this.ping);
    });
    this.replay.addEventListener('click', () => {
      if (this.target !== null) this.actions.replay(this.target, this.replayRequest(), this.replay);
    });
  }

  /** Shows a target and its deliveries, or the invitation to choose one when `target` is null. */
  render(target: TargetDetail | null, deliveries: readonly DeliveryView[], now: number): void {
    this.target = target;
    this.now = now;
    this.placeholder.hidden = target !== null;
    this.detail.hidden = target === null;
    if (target === null) {
      setText(this.title, 'Deliveries');
      setText(this.summary, '');
      this.rows.sync([]);
      return;
    }

    setText(this.title, `Deliveries to ${formatPath(target.path)} (#${target.id})`);
    const state = targetState(target, now);
    const reason = state.reason === '' ? '' : ` (${state.reason})`;
    setText(this.summary, `${target.url} · ${state.kind}${reason}`);
    const managed = target.managed_by === 'config';
    setText(this.pause, target.active ? 'Pause' : 'Resume');
    this.pause.disabled = managed;
    this.managedNote.hidden = !managed;
    this.empty.hidden = deliveries.length > 0;
    this.table.hidden = deliveries.length === 0;
    this.rows.sync(deliveries);
  }

  private replayRequest(): ReplayRequest {
    const seconds = Number(this.replayPeriod.value);
    const outcomes = this.replayOutcomes.value.split(',') as Outcome[];
    const period = this.replayPeriod.selectedOptions[0]?.textContent ?? '';
    const which = this.replayOutcomes.selectedOptions[0]?.textContent ?? '';
    return {
      since: new Date(this.now - seconds * 1000).toISOString(),
      outcomes,
      described: `${which} deliveries of the ${period}`,
    };
  }

  private create(delivery: DeliveryView): HTMLTableRowElement {
    const row = make('tr');
    const cells = [make('td', 'number'), make('td'), make('td'), make('td', 'number'),
      make('td', 'number'), make('td', 'error'), make('td'), make('td'), make('td', 'action')];
    const outcome = make('span', 'badge');
    const accepted = make('time');
    const settled = make('time');
    const redeliver = make('button', 'small', 'Redeliver');
    redeliver.type = 'button';
    redeliver.setAttribute('aria-label', `Redeliver delivery ${delivery.id}`);
    redeliver.addEventListener('click', () => this.actions.redeliver(delivery, redeliver));
    cells[2]?.append(outcome);
    cells[6]?.append(accepted);
    cells[7]?.append(settled);
    cells[8]?.append(redeliver);
    row.append(...cells);
    this.parts.set(row, { cells, outcome, accepted, settled, redeliver });
    return row;
  }

  private update(row: HTMLTableRowElement, delivery: DeliveryView): void {
    const parts = this.parts.get(row) as RowParts;
    const [id, event, , attempts, status, error] = parts.cells;
    setText(id as Element, String(delivery.id));
    setText(event as Element, delivery.event_type);
    setText(parts.outcome, delivery.outcome);
    setAttribute(parts.outcome, 'class', `badge ${delivery.outcome}`);
    setText(attempts as Element, String(delivery.attempts));
    const code = delivery.status_code;
    setText(status as Element, code === null ? '—' : String(code));
    setText(error as Element, delivery.error_detail ?? '');
    setAttribute(error as Element, 'title', delivery.error_detail);
    setTime(parts.accepted, delivery.time_created, formatAge(delivery.time_created, this.now));

    const pending = delivery.outcome === 'pending';
    const settledAt = pending ? delivery.next_attempt_at : delivery.delivered_at;
    const settledText = formatAge(settledAt, this.now, pending ? 'now' : '—');
    setTime(parts.settled, settledAt, pending ? `next ${settledText}` : settledText);
    // A queued delivery goes out anyway: the relay refuses to redeliver it (409).
    parts.redeliver.disabled = pending;
    setAttribute(parts.redeliver, 'title', pending ? 'Queued already: it will be sent' : null);
  }
}
