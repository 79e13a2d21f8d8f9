import { randomBytes } from 'node:crypto';
import type { Clock } from './clock.js';
import type { Journal } from './journal.js';
import type { Logger } from './log.js';
import { matches } from './matching.js';
import type { DeliveryRecord, EventRecord, NewDelivery, StoredTarget } from './records.js';
import type { SecretBox } from './secret-box.js';
import { storedTarget, type Delivery, type RelayState, type Target } from './state.js';

/** An event that passed ingest's checks, ready to be stored. */
export interface IncomingEvent {
  id: string;
  type: string;
  path: string[];
  /** The body exactly as received (valid UTF-8, so the text round-trips to the same bytes). */
  text: string;
}

export type TargetFields = Pick<StoredTarget, 'path' | 'url' | 'events' | 'name' | 'managedBy'> & {
  secret: string | null;
};

export type DeliveryUpdate = Omit<DeliveryRecord, 'type' | 'id'>;

/**
 * Every change goes through here: build the record, append it to the data file, apply it to the
 * state. Changes that someone waits on (an ingest, a registration) are applied after they are on
 * disk; delivery progress is applied at once and written lazily, because losing it can only
 * cause a delivery to be sent again.
 */
export class Store {
  private readonly accepting = new Map<string, Promise<unknown>>();

  constructor(
    readonly state: RelayState,
    private readonly journal: Journal,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Stores an event and its deliveries; `duplicate` when an event with this id was accepted. */
  async acceptEvent(event: IncomingEvent): Promise<{ duplicate: boolean; deliveries: Delivery[] }> {
    for (;;) {
      if (this.state.events.has(event.id)) return { duplicate: true, deliveries: [] };
      const inFlight = this.accepting.get(event.id);
      if (inFlight === undefined) break;
      await inFlight.catch(() => {});
    }

    const created: NewDelivery[] = [];
    for (const target of this.state.targets.values()) {
      if (!matches(target, event)) continue;
      created.push({
        id: this.state.nextDeliveryId++,
        target: target.id,
        eventId: randomBytes(16).toString('hex'),
        outcome: target.active ? 'pending' : 'skipped',
      });
    }
    const record: EventRecord = {
      type: 'event',
      id: event.id,
      eventType: event.type,
      at: this.clock.now(),
      body: event.text,
      deliveries: created,
    };

    const written = this.journal.append(record, true);
    this.accepting.set(event.id, written);
    let bytes: number;
    try {
      bytes = await written;
    } finally {
      this.accepting.delete(event.id);
    }
    this.state.apply(record, bytes);
    const deliveries = created.map((entry) => this.state.deliveries.get(entry.id));
    return { duplicate: false, deliveries: deliveries.filter((delivery) => delivery !== undefined) };
  }

  async createTarget(fields: TargetFields): Promise<Target> {
    const id = this.state.nextTargetId++;
    return this.writeTarget({
      id,
      path: fields.path,
      url: fields.url,
      events: fields.events,
      secret: fields.secret === null ? null : this.box.seal(fields.secret),
      active: true,
      name: fields.name,
      managedBy: fields.managedBy,
      created: this.clock.now(),
      disabledReason: null,
    });
  }

  /** Changes a target; a new plain secret is sealed, `secret: undefined` keeps the current one. */
  async updateTarget(
    target: Target,
    changes: Partial<Omit<TargetFields, 'managedBy'>> & Partial<Pick<StoredTarget, 'active' | 'disabledReason'>>,
  ): Promise<Target> {
    const { secret, ...rest } = changes;
    const sealed = secret === undefined ? target.sealedSecret : secret === null ? null : this.box.seal(secret);
    return this.writeTarget({ ...storedTarget(target), ...rest, secret: sealed });
  }

  async deleteTarget(target: Target): Promise<void> {
    const record = { type: 'target-deleted' as const, id: target.id };
    this.state.apply(record, await this.journal.append(record, true));
  }

  /** Records a delivery's progress; applied now, written without waiting for the disk. */
  updateDelivery(delivery: Delivery, update: DeliveryUpdate): void {
    const record: DeliveryRecord = { type: 'delivery', id: delivery.id, ...update };
    this.state.apply(record);
    this.journal.append(record, false).then((bytes) => this.state.noteDeliveryBytes(delivery, bytes)).catch((error: unknown) => {
      this.logger.warn('could not record a delivery update; it may be sent again after a restart', {
        delivery: delivery.id,
        err: error,
      });
    });
  }

  private async writeTarget(stored: StoredTarget): Promise<Target> {
    const record = { type: 'target' as const, target: stored };
    this.state.apply(record, await this.journal.append(record, true));
    const target = this.state.targets.get(stored.id);
    if (target === undefined) throw new Error(`target ${stored.id} vanished while it was saved`);
    return target;
  }
}
