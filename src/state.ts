import type { JournalRecord, Outcome, StoredTarget } from './records.js';
import type { SecretBox } from './secret-box.js';

/**
 * Everything the relay knows, rebuilt from the data file at startup and kept current by
 * applying each new record: the same `apply` serves both, so a restart cannot disagree with the
 * running relay.
 */

export interface Target extends Omit<StoredTarget, 'secret'> {
  /** The plain secret, in memory only. */
  secret: string | null;
  /** As stored in the data file. */
  sealedSecret: string | null;
  /** True when a secret is stored but no configured secret key opens it. */
  secretUnreadable: boolean;
  /** Deliveries in the order they were created (oldest first). */
  history: Delivery[];
  /** Attempts that failed in a row since the last success (kept in memory only). */
  consecutiveFailures: number;
  lastSuccessAt: number | null;
}

export interface RelayEvent {
  /** The catalog's event id, or one the relay made up. */
  id: string;
  type: string;
  at: number;
  body: Buffer;
}

export interface Delivery {
  id: number;
  target: Target;
  event: RelayEvent;
  /** X-Tiled-Event-ID and webhook-id for this target. */
  eventId: string;
  outcome: Outcome;
  attempts: number;
  statusCode: number | null;
  errorDetail: string | null;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
}

export class RelayState {
  readonly targets = new Map<number, Target>();
  readonly deliveries = new Map<number, Delivery>();
  /** Accepted events by their ingest id, to refuse a repeat. */
  readonly events = new Map<string, RelayEvent>();
  nextTargetId = 1;
  nextDeliveryId = 1;

  constructor(private readonly box: SecretBox) {}

  apply(record: JournalRecord): void {
    switch (record.type) {
      case 'header':
        return;
      case 'target':
        return this.putTarget(record.target);
      case 'target-deleted':
        return this.deleteTarget(record.id);
      case 'event':
        return this.addEvent(record);
      case 'delivery':
        return this.updateDelivery(record);
    }
  }

  /** Targets registered on exactly this path, oldest first. */
  targetsOn(path: readonly string[]): Target[] {
    const key = path.join('/');
    return [...this.targets.values()].filter((target) => target.path.join('/') === key);
  }

  pending(): Delivery[] {
    return [...this.deliveries.values()].filter((delivery) => delivery.outcome === 'pending');
  }

  private putTarget(stored: StoredTarget): void {
    const existing = this.targets.get(stored.id);
    const secret = stored.secret === null ? null : this.box.open(stored.secret);
    const target: Target = {
      ...stored,
      secret,
      sealedSecret: stored.secret,
      secretUnreadable: stored.secret !== null && secret === null,
      history: existing?.history ?? [],
      consecutiveFailures: existing?.consecutiveFailures ?? 0,
      lastSuccessAt: existing?.lastSuccessAt ?? null,
    };
    if (existing) Object.assign(existing, target);
    else this.targets.set(stored.id, target);
    this.nextTargetId = Math.max(this.nextTargetId, stored.id + 1);
  }

  private deleteTarget(id: number): void {
    const target = this.targets.get(id);
    if (target === undefined) return;
    for (const delivery of target.history) this.deliveries.delete(delivery.id);
    this.targets.delete(id);
  }

  private addEvent(record: Extract<JournalRecord, { type: 'event' }>): void {
    const event: RelayEvent = { id: record.id, type: record.eventType, at: record.at, body: Buffer.from(record.body) };
    this.events.set(event.id, event);

    for (const created of record.deliveries) {
      this.nextDeliveryId = Math.max(this.nextDeliveryId, created.id + 1);
      // The target may have been deleted between matching and this record reaching the disk.
      const target = this.targets.get(created.target);
      if (target === undefined) continue;

      const delivery: Delivery = {
        id: created.id,
        target,
        event,
        eventId: created.eventId,
        outcome: created.outcome,
        attempts: 0,
        statusCode: null,
        errorDetail: created.outcome === 'skipped' ? inactiveDetail(target) : null,
        nextAttemptAt: created.outcome === 'pending' ? record.at : null,
        deliveredAt: null,
      };
      target.history.push(delivery);
      this.deliveries.set(delivery.id, delivery);
    }
  }

  private updateDelivery(record: Extract<JournalRecord, { type: 'delivery' }>): void {
    const delivery = this.deliveries.get(record.id);
    if (delivery === undefined) return;
    delivery.outcome = record.outcome;
    delivery.attempts = record.attempts;
    delivery.statusCode = record.status;
    delivery.errorDetail = record.error;
    delivery.nextAttemptAt = record.next;
    delivery.deliveredAt = record.done;
  }
}

/** The history's `error_detail` for a delivery skipped because its target was inactive. */
export function inactiveDetail(target: Target): string {
  return `target was inactive${target.disabledReason ? ` (${target.disabledReason})` : ''}`;
}
