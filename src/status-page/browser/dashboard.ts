import { ApiClient, ApiError, describeError } from './api-client.js';
import type { Activity, DeliveryView, RelayStatus, TargetDetail } from './api-types.js';
import { byId, setAttribute, setText } from './dom.js';
import { formatCount } from './format.js';
import {
  pingAction,
  redeliverAction,
  replayAction,
  setActiveAction,
  type OperatorAction,
} from './operator-actions.js';
import { TargetPanel, type PanelActions } from './target-panel.js';
import { TargetsView } from './targets-view.js';
import { TotalsView } from './totals-view.js';

/**
 * Fetches what the page shows and keeps it current. One refresh asks four things at once: the
 * totals, every target, the activity of every target in one aggregate, and the chosen target's
 * recent deliveries; so the load on the relay does not grow with a request per target.
 */

const REFRESH_MS = 5_000;
/** After an action, one more look soon, so that the attempt it caused shows without waiting. */
const FOLLOW_UP_MS = 1_000;
const HISTORY_LIMIT = 30;
const ACTIVITY_PATH = 'api/v1/activity?minutes=60&buckets=12';

interface Snapshot {
  status: RelayStatus;
  targets: TargetDetail[];
  activity: Activity;
  deliveries: DeliveryView[];
}

export class Dashboard {
  private readonly root = byId('dashboard', HTMLElement);
  private readonly updated = byId('updated', HTMLElement);
  private readonly problem = byId('problem', HTMLParagraphElement);
  private readonly message = byId('message', HTMLParagraphElement);
  private readonly filter = byId('target-filter', HTMLInputElement);
  private readonly count = byId('target-count', HTMLElement);
  private readonly totals = new TotalsView();
  private readonly targetsView: TargetsView;
  private readonly panel: TargetPanel;
  private client: ApiClient | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<boolean> | null = null;
  private chosen: number | null = chosenFromHash();
  private last: Snapshot | null = null;
  /** The relay's clock minus the browser's: ages are measured on the relay's clock. */
  private clockOffset = 0;

  /** `onRefused` is told when the relay refuses the key for reading (401). */
  constructor(private readonly onRefused: (error: ApiError) => void) {
    const body = byId('targets-body', HTMLTableSectionElement);
    this.targetsView = new TargetsView(body, (id) => this.choose(id));
    this.panel = new TargetPanel(this.actions());
    this.filter.addEventListener('input', () => this.draw());
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.client !== null) void this.refresh();
    });
  }

  /** Starts showing the relay with this key; answers false when the relay refused the key. */
  async open(client: ApiClient): Promise<boolean> {
    this.client = client;
    // A refresh under way was asked with the key before this one: its answer says nothing.
    await this.running;
    return this.refresh();
  }

  close(): void {
    this.client = null;
    this.last = null;
    this.root.hidden = true;
    this.message.hidden = true;
    setText(this.problem, '');
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Refreshes now, unless a refresh is under way; the next one is due REFRESH_MS after. */
  refresh(): Promise<boolean> {
    this.running ??= this.fetchAndDraw().finally(() => {
      this.running = null;
      this.schedule(REFRESH_MS);
    });
    return this.running;
  }

  private schedule(delay: number): void {
    if (this.client === null) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      // A hidden tab is not refreshed; it catches up when it is shown again.
      if (document.hidden) this.schedule(REFRESH_MS);
      else void this.refresh();
    }, delay);
  }

  private async fetchAndDraw(): Promise<boolean> {
    const client = this.client;
    if (client === null) return false;
    try {
      const snapshot = await this.fetchSnapshot(client);
      if (client !== this.client) return false;
      this.last = snapshot;
      this.clockOffset = Date.parse(snapshot.activity.now) - Date.now();
      this.root.hidden = false;
      setText(this.problem, '');
      setText(this.updated, `updated ${new Date().toLocaleTimeString()}`);
      this.draw();
      return true;
    } catch (error) {
      if (client !== this.client) return false;
      if (error instanceof ApiError && error.status === 401) {
        this.close();
        this.onRefused(error);
        return false;
      }
      // The key was not refused: show what is known, and the problem above it.
      this.root.hidden = false;
      setText(this.problem, `Could not refresh: ${describeError(error)}. Trying again shortly.`);
      return true;
    }
  }

  private async fetchSnapshot(client: ApiClient): Promise<Snapshot> {
    const chosen = this.chosen;
    const [status, targets, activity, deliveries] = await Promise.all([
      client.get<RelayStatus>('api/v1/status'),
      client.get<TargetDetail[]>('api/v1/webhooks/'),
      client.get<Activity>(ACTIVITY_PATH),
      chosen === null ? Promise.resolve([]) : this.fetchDeliveries(client, chosen),
    ]);
    return { status, targets, activity, deliveries };
  }

  /** The chosen target's deliveries; a target deleted meanwhile is no longer chosen. */
  private async fetchDeliveries(client: ApiClient, id: number): Promise<DeliveryView[]> {
    try {
      const path = `api/v1/webhooks/history/${id}?limit=${HISTORY_LIMIT}`;
      return await client.get<DeliveryView[]>(path);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      if (this.chosen === id) this.choose(null);
      return [];
    }
  }

  private draw(): void {
    const snapshot = this.last;
    if (snapshot === null) return;
    const now = Date.now() + this.clockOffset;
    this.totals.render(snapshot.status, now);
    const filter = this.filter.value;
    const context = { activity: snapshot.activity, chosen: this.chosen, now, filter };
    const shown = this.targetsView.render(snapshot.targets, context);
    const total = snapshot.targets.length;
    const counted = shown === total ? '' : `${formatCount(shown)} of `;
    setText(this.count, `${counted}${formatCount(total)}`);

    const target = snapshot.targets.find((entry) => entry.id === this.chosen) ?? null;
    this.panel.render(target, target === null ? [] : snapshot.deliveries, now);
  }

  private choose(id: number | null): void {
    if (id === this.chosen) return;
    this.chosen = id;
    history.replaceState(null, '', id === null ? location.pathname : `#target=${id}`);
    if (this.last !== null) this.last = { ...this.last, deliveries: [] };
    this.draw();
    void this.refresh();
  }

  private actions(): PanelActions {
    return {
      redeliver: (delivery, button) => this.act(button, redeliverAction(delivery)),
      setActive: (target, active, button) => this.act(button, setActiveAction(target, active)),
      ping: (target, button) => this.act(button, pingAction(target)),
      replay: (target, request, button) => this.act(button, replayAction(target, request)),
    };
  }

  /**
   * Runs an action with its button marked busy, reports the answer or the relay's error, and
   * refreshes at once and again shortly, when the attempt it caused has likely been made.
   */
  private async act(button: HTMLButtonElement, action: OperatorAction): Promise<void> {
    const client = this.client;
    if (client === null) return;
    button.disabled = true;
    setAttribute(button, 'aria-busy', 'true');
    this.say(`${action.doing}…`, 'info');
    try {
      this.say(await action.run(client), 'done');
    } catch (error) {
      this.say(`${action.doing} failed: ${describeError(error)}`, 'error');
    } finally {
      button.disabled = false;
      setAttribute(button, 'aria-busy', null);
    }
    // A refresh that began before the answer would show the state from before the action.
    await this.running;
    await this.refresh();
    this.schedule(FOLLOW_UP_MS);
  }

  private say(text: string, kind: 'info' | 'done' | 'error'): void {
    setText(this.message, text);
    setAttribute(this.message, 'class', `message ${kind}`);
    this.message.hidden = false;
  }
}

/** The page's address may name a target, `#target=12`, so a link or a reload keeps the choice. */
function chosenFromHash(): number | null {
  const match = /^#target=(\d{1,15})$/.exec(location.hash);
  return match === null ? null : Number(match[1]);
}
