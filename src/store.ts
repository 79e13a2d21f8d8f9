import type { Clock } from './clock.js';
import type { Journal } from './journal.js';
import type { Logger } from './log.js';
import { HttpError } from './errors.js';
import { matches } from './matching.js';
import type { DeliveryRecord, EventRecord, NewDelivery, StoredTarget } from './records.js';
import type { SecretBox } from './secret-box.js';
import { randomId } from './random-ids.js';
import { rotateSecret } from './secret-rotation.js';
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
  ordered: boolean;
};

/** What may change on a target; `undefined` keeps a value. */
export type TargetChanges = Partial<Omit<TargetFields, 'managedBy'>> &
  Partial<Pick<StoredTarget, 'active' | 'disabledReason' | 'failingSince'>>;

export type DeliveryUpdate = Omit<DeliveryRecord, 'type' | 'id' | 'prior'>;

/**
 * Every change goes through here: build the record, append it to the data file, apply it to the
 * state. Changes that someone waits on (an ingest, a registration) are applied after they are on
 * disk; delivery progress is applied at once and written lazily, because losing it can only
 * cause a delivery to be sent again.
 */
export class Store {
  private readonly accepting = new Map<string, Promise<unknown>>();
  /** The last change of each target under way (see `inTurn`). */
  private readonly targetChanges = new Map<number, Promise<unknown>>();
  /**
   * How long a replaced target secret keeps signing beside the new one
   * (`delivery.secretOverlapMs`).
   */
  secretOverlapMs = 0;

  constructor(
    readonly state: RelayState,
    private readonly journal: Journal,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Stores an event and its deliveries; `duplicate` when an event with this id was accepted. */
  acceptEvent(event: IncomingEvent): Promise<{ duplicate: boolean; deliveries: Delivery[] }> {
    if (this.state.hasEvent(event.id)) return Promise.resolve({ duplicate: true, deliveries: [] });
    const inFlight = this.accepting.get(event.id);
    // The same id sent again while the first is being written waits for it, then is judged anew.
    if (inFlight !== undefined) {
      return inFlight.then(noop, noop).then(() => this.acceptEvent(event));
    }

    const created: NewDelivery[] = [];
    for (const target of this.state.targets.values()) {
      if (!matches(target, event)) continue;
      created.push({
        id: this.state.nextDeliveryId++,
        target: target.id,
        eventId: randomId(),
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

    // Every event comes through here: the promise of its write is carried on without an async
    // function's own promise and await on top of it.
    const written = this.journal.append(record, true);
    this.accepting.set(event.id, written);
    return written.then(
      (bytes) => {
        this.accepting.delete(event.id);
        this.state.apply(record, bytes);
        const deliveries: Delivery[] = [];
        for (const entry of created) {
          const delivery = this.state.deliveries.get(entry.id);
          if (delivery !== undefined) deliveries.push(delivery);
        }
        return { duplicate: false, deliveries };
      },
      (error: unknown) => {
        this.accepting.delete(event.id);
        throw error;
      },
    );
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
      ordered: fields.ordered,
      previousSecret: null,
      previousSecretUntil: null,
      failingSince: null,
    });
  }

  /**
   * Changes a target and waits until the change is on disk. A new secret starts an overlap in
   * which the replaced one still signs.
   */
  updateTarget(target: Target, changes: TargetChanges): Promise<Target> {
    return this.inTurn(target, async () => {
      const { secret, ...rest } = changes;
      const fields: Partial<StoredTarget> = rest;
      if (secret !== undefined) {
        const rotated = rotateSecret(target, secret, this.clock.now(), this.secretOverlapMs);
        fields.secret = this.sealed(rotated.secret);
        fields.previousSecret = this.sealed(rotated.previousSecret);
        fields.previousSecretUntil = rotated.previousSecretUntil;
      }
      const record = { type: 'target' as const, target: { ...storedTarget(target), ...fields } };
      const bytes = await this.journal.append(record, true);
      // Applied over the target as it is by now, so that what the dispatcher noted in memory
      // while the record was written (a failure, say) stays; its own record follows this one.
      this.state.apply({ type: 'target', target: { ...storedTarget(target), ...fields } }, bytes);
      return target;
    });
  }

  /**
   * Queues settled (or waiting) deliveries again from now, for a replay or a redelivery: same
   * event id, `attempts` keeps counting, the retry schedule starts over. Answers once on disk.
   */
  async requeue(deliveries: readonly Delivery[]): Promise<void> {
    const now = this.clock.now();
    const written = deliveries.map((delivery) => {
      const record: DeliveryRecord = {
        type: 'delivery',
        id: delivery.id,
        outcome: 'pending',
        attempts: delivery.attempts,
        status: delivery.statusCode,
        error: delivery.errorDetail,
        next: now,
        done: null,
        ...(delivery.attempts > 0 ? { prior: delivery.attempts } : {}),
      };
      return this.journal.append(record, true).then((bytes) => this.state.apply(record, bytes));
    });
    await Promise.all(written);
  }

  /** Stores a test event meant for `target` alone, with its one delivery. */
  async createPing(target: Target, body: string): Promise<Delivery> {
    const id = randomId();
    const deliveryId = this.state.nextDeliveryId++;
    const record: EventRecord = {
      type: 'event',
      id,
      eventType: 'ping',
      at: this.clock.now(),
      body,
      deliveries: [{ id: deliveryId, target: target.id, eventId: randomId(), outcome: 'pending' }],
    };
    this.state.apply(record, await this.journal.append(record, true));
    const delivery = this.state.deliveries.get(deliveryId);
    if (delivery === undefined) throw new HttpError('target_not_found', 'Webhook not found.');
    return delivery;
  }

  private sealed(secret: string | null): string | null {
    return secret === null ? null : this.box.seal(secret);
  }

  deleteTarget(target: Target): Promise<void> {
    return this.inTurn(target, async () => {
      const record = { type: 'target-deleted' as const, id: target.id };
      this.state.apply(record, await this.journal.append(record, true));
    });
  }

  /**
   * Runs the changes of one target one after another, each built from what the one before left.
   * A target record holds the whole target, so two changes built at the same moment (a health
   * update from the dispatcher and a PATCH, say) would each write back what the other changed.
   */
  private inTurn<T>(target: Target, change: () => Promise<T>): Promise<T> {
    const id = target.id;
    const turn = (this.targetChanges.get(id) ?? Promise.resolve()).then(() => {
      if (this.state.targets.get(id) !== target) {
        throw new HttpError('target_not_found', 'Webhook not found.');
      }
      return change();
    });
    const done = turn.catch(() => {});
    this.targetChanges.set(id, done);
    void done.then(() => {
      if (this.targetChanges.get(id) === done) this.targetChanges.delete(id);
    });
    return turn;
  }

  /** Records a delivery's progress; applied now, written without waiting for the disk. */
  updateDelivery(delivery: Delivery, update: DeliveryUpdate): void {
    const record: DeliveryRecord = { type: 'delivery', id: delivery.id, ...update };
    if (delivery.priorAttempts > 0) record.prior = delivery.priorAttempts;
    this.state.apply(record);
    this.journal
      .append(record, false)
      .then((bytes) => this.state.noteDeliveryBytes(delivery, bytes))
      .catch((error: unknown) => {
        this.logger.warn(
          'could not record a delivery update; it may be sent again after a restart',
          { delivery: delivery.id, err: error },
        );
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

function noop(): void {}
