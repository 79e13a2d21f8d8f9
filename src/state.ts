import {
  JOURNAL_FORMAT,
  JOURNAL_VERSION,
  type DeliveryRecord,
  type EventRecord,
  type HeaderRecord,
  type JournalRecord,
  type NewDelivery,
  type Outcome,
  type SeenRecord,
  type StoredTarget,
} from './records.js';
import type { SecretBox } from './secret-box.js';
import { SeenIds } from './seen-ids.js';

/**
 * Everything the relay knows, rebuilt from the data file at startup and kept current by
 * applying each new record: the same `apply` serves both, so a restart cannot disagree with the
 * running relay. It also counts the bytes its live records take in the file, which tells when
 * compaction is worth it, and forgets what is beyond retention.
 */

export interface Target extends Omit<
  StoredTarget,
  'secret' | 'ordered' | 'previousSecret' | 'previousSecretUntil' | 'failingSince'
> {
  /** The plain secret, in memory only. */
  secret: string | null;
  /** As stored in the data file. */
  sealedSecret: string | null;
  ordered: boolean;
  /** The secret a rotation replaced, plain, while it still signs (see previousSecretUntil). */
  previousSecret: string | null;
  sealedPreviousSecret: string | null;
  previousSecretUntil: number | null;
  failingSince: number | null;
  /** True when a secret is stored but no configured secret key opens it. */
  secretUnreadable: boolean;
  /** Deliveries in the order they were created (oldest first). */
  history: Delivery[];
  /** How many of `history` are settled (not pending); the per-target cap counts these. */
  settled: number;
  /** Attempts that failed in a row since the last success (kept in memory only). */
  consecutiveFailures: number;
  lastSuccessAt: number | null;
  /** Length of the target's latest record in the data file. */
  recordBytes: number;
}

export interface RelayEvent {
  /** The catalog's event id, or one the relay made up. */
  id: string;
  type: string;
  at: number;
  /** The body exactly as received; valid UTF-8 was required, so the text gives the bytes back. */
  body: string;
  /** Deliveries still kept for this event. */
  deliveries: number;
  recordBytes: number;
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
  /** Attempts made before the latest replay or redelivery; the retry schedule counts from here. */
  priorAttempts: number;
  /** Length of the delivery's latest progress record, 0 while it has none. */
  recordBytes: number;
}

export interface RetentionRule {
  /** Settled deliveries of events accepted before this time are forgotten. */
  before: number;
  /** At most this many settled deliveries are kept per target, the newest. */
  perTarget: number;
}

export class RelayState {
  readonly targets = new Map<number, Target>();
  readonly deliveries = new Map<number, Delivery>();
  /** Accepted events that deliveries still refer to, by their ingest id. */
  readonly events = new Map<string, RelayEvent>();
  /** The ids of the other accepted events within retention, to refuse a repeat. */
  readonly seen = new SeenIds();
  nextTargetId = 1;
  nextDeliveryId = 1;
  /** Bytes the live records would take in a freshly written file. */
  liveBytes = 0;
  private created = 0;

  /**
   * `historyCap` is `history.maxPerTarget`: a target's settled deliveries beyond it are forgotten
   * as they settle (with some slack, so that trimming is cheap), not only at the periodic check,
   * so memory stays bounded however fast events come.
   */
  constructor(
    private readonly box: SecretBox,
    /** Changed by a config reload; the next settled delivery is held to the new cap. */
    public historyCap = Infinity,
  ) {}

  /** True when an event with this ingest id was accepted and is still within retention. */
  hasEvent(id: string): boolean {
    return this.events.has(id) || this.seen.has(id);
  }

  /** Applies one record; `bytes` is the length of its line in the data file. */
  apply(record: JournalRecord, bytes = 0): void {
    switch (record.type) {
      case 'header':
        return this.applyHeader(record, bytes);
      case 'target':
        return this.putTarget(record.target, bytes);
      case 'target-deleted':
        return this.deleteTarget(record.id);
      case 'event':
        return this.addEvent(record, bytes);
      case 'delivery':
        return this.updateDelivery(record, bytes);
      case 'seen':
        return this.addSeen(record, bytes);
    }
  }

  /** Records the length of a delivery's progress record once it is known (it is written lazily). */
  noteDeliveryBytes(delivery: Delivery, bytes: number): void {
    if (this.deliveries.get(delivery.id) !== delivery) return;
    this.liveBytes += bytes - delivery.recordBytes;
    delivery.recordBytes = bytes;
  }

  /** Targets registered on exactly this path, oldest first. */
  targetsOn(path: readonly string[]): Target[] {
    const key = path.join('/');
    return [...this.targets.values()].filter((target) => target.path.join('/') === key);
  }

  pending(): Delivery[] {
    return [...this.deliveries.values()].filter((delivery) => delivery.outcome === 'pending');
  }

  /**
   * Forgets settled deliveries beyond retention (too old, or past the per-target count) and
   * events that nothing refers to any more and that are too old to be repeated. A pending
   * delivery and its event are always kept.
   */
  prune(rule: RetentionRule): { deliveries: number; events: number } {
    let deliveries = 0;
    for (const target of this.targets.values()) {
      deliveries += this.trimHistory(target, rule.perTarget, rule.before);
    }
    const events = this.seen.forgetBefore(rule.before);
    this.liveBytes -= events * SEEN_ID_BYTES;
    return { deliveries, events };
  }

  /**
   * The records of a file that holds exactly the live state: a header with the id counters,
   * every target, every kept event with its kept deliveries, the progress of each delivery that
   * has any, and the ids of the events forgotten within retention.
   *
   * The records are made as they are read, so that a compaction can write them a chunk at a time
   * while ingest goes on. What exists when reading begins is all that is written: a record
   * appended after that goes into the new file anyway (the journal carries it over), and a
   * second copy of an event record would create its deliveries twice. Each record is made from
   * the latest state, which the carried records then bring up to date.
   */
  snapshot(now: number): Iterable<JournalRecord> {
    const header: HeaderRecord = {
      type: 'header',
      format: JOURNAL_FORMAT,
      version: JOURNAL_VERSION,
      created: this.created || now,
      nextTargetId: this.nextTargetId,
      nextDeliveryId: this.nextDeliveryId,
    };
    return this.snapshotRecords(header, [...this.targets.values()], [...this.deliveries.values()]);
  }

  private *snapshotRecords(
    header: HeaderRecord,
    targets: Target[],
    deliveries: Delivery[],
  ): Generator<JournalRecord> {
    yield header;
    for (const target of targets) {
      if (this.targets.get(target.id) !== target) continue;
      // Sealed again with the first secret key, so that a key rotation or newly configured keys
      // reach the secrets already stored. A secret no key opens is kept as it is.
      const secret = target.secret === null ? target.sealedSecret : this.box.seal(target.secret);
      const previousSecret =
        target.previousSecret === null
          ? target.sealedPreviousSecret
          : this.box.seal(target.previousSecret);
      yield { type: 'target', target: { ...storedTarget(target), secret, previousSecret } };
    }

    // An event's deliveries are created together with it, so they lie next to each other.
    for (let start = 0; start < deliveries.length;) {
      const event = (deliveries[start] as Delivery).event;
      let end = start + 1;
      while (end < deliveries.length && (deliveries[end] as Delivery).event === event) end += 1;
      const kept = deliveries
        .slice(start, end)
        .filter((delivery) => this.deliveries.get(delivery.id) === delivery);
      start = end;
      if (kept.length === 0) continue;

      yield eventRecord(event, kept);
      for (const delivery of kept) {
        if (!untouched(delivery)) yield deliveryRecord(delivery);
      }
    }
    for (const chunk of this.seen.chunks(SEEN_IDS_PER_RECORD)) {
      yield { type: 'seen', at: chunk.at, keys: chunk.keys };
    }
  }

  /**
   * Forgets the target's settled deliveries beyond the newest `keep`, and those of events
   * accepted before `before`; answers how many went. Pending ones always stay.
   */
  private trimHistory(target: Target, keep: number, before = -Infinity): number {
    const dropped = new Set<Delivery>();
    let settled = 0;
    for (let index = target.history.length - 1; index >= 0; index -= 1) {
      const delivery = target.history[index] as Delivery;
      if (delivery.outcome === 'pending') continue;
      settled += 1;
      if (settled > keep || delivery.event.at < before) dropped.add(delivery);
    }
    if (dropped.size === 0) return 0;

    for (const delivery of dropped) this.forgetDelivery(delivery);
    target.history = target.history.filter((delivery) => !dropped.has(delivery));
    return dropped.size;
  }

  /** Trims a target's history once it is over the cap by more than the slack. */
  private enforceCap(target: Target): void {
    if (target.settled > this.historyCap + Math.max(64, Math.ceil(this.historyCap / 8))) {
      this.trimHistory(target, this.historyCap);
    }
  }

  private addSeen(record: SeenRecord, bytes: number): void {
    this.seen.addKeys(Buffer.from(record.keys, 'base64'), record.at);
    this.liveBytes += bytes;
  }

  private applyHeader(record: HeaderRecord, bytes: number): void {
    this.created = record.created;
    this.nextTargetId = Math.max(this.nextTargetId, record.nextTargetId ?? 1);
    this.nextDeliveryId = Math.max(this.nextDeliveryId, record.nextDeliveryId ?? 1);
    this.liveBytes += bytes;
  }

  private putTarget(stored: StoredTarget, bytes: number): void {
    const existing = this.targets.get(stored.id);
    const secret = stored.secret === null ? null : this.box.open(stored.secret);
    // Files written before these fields existed lack them.
    const sealedPreviousSecret = stored.previousSecret ?? null;
    const target: Target = {
      ...stored,
      secret,
      sealedSecret: stored.secret,
      secretUnreadable: stored.secret !== null && secret === null,
      ordered: stored.ordered ?? false,
      previousSecret: sealedPreviousSecret === null ? null : this.box.open(sealedPreviousSecret),
      sealedPreviousSecret,
      previousSecretUntil: stored.previousSecretUntil ?? null,
      failingSince: stored.failingSince ?? null,
      history: existing?.history ?? [],
      settled: existing?.settled ?? 0,
      consecutiveFailures: existing?.consecutiveFailures ?? 0,
      lastSuccessAt: existing?.lastSuccessAt ?? null,
      recordBytes: bytes,
    };
    this.liveBytes += bytes - (existing?.recordBytes ?? 0);
    if (existing) Object.assign(existing, target);
    else this.targets.set(stored.id, target);
    this.nextTargetId = Math.max(this.nextTargetId, stored.id + 1);
  }

  private deleteTarget(id: number): void {
    const target = this.targets.get(id);
    if (target === undefined) return;
    for (const delivery of target.history) this.forgetDelivery(delivery);
    this.targets.delete(id);
    this.liveBytes -= target.recordBytes;
  }

  private addEvent(record: EventRecord, bytes: number): void {
    const event: RelayEvent = {
      id: record.id,
      type: record.eventType,
      at: record.at,
      body: record.body,
      deliveries: 0,
      recordBytes: bytes,
    };
    this.events.set(event.id, event);
    this.liveBytes += bytes;

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
        priorAttempts: 0,
        recordBytes: 0,
      };
      target.history.push(delivery);
      this.deliveries.set(delivery.id, delivery);
      event.deliveries += 1;
      if (delivery.outcome !== 'pending') {
        target.settled += 1;
        this.enforceCap(target);
      }
    }
    if (event.deliveries === 0) this.retire(event);
  }

  private updateDelivery(record: DeliveryRecord, bytes: number): void {
    const delivery = this.deliveries.get(record.id);
    if (delivery === undefined) return;
    const target = delivery.target;
    const wasPending = delivery.outcome === 'pending';
    delivery.outcome = record.outcome;
    delivery.attempts = record.attempts;
    delivery.statusCode = record.status;
    delivery.errorDetail = record.error;
    delivery.nextAttemptAt = record.next;
    delivery.deliveredAt = record.done;
    delivery.priorAttempts = record.prior ?? 0;
    if (record.outcome === 'success' && record.done !== null) {
      // Kept in memory only, so a restart learns it back from the history.
      target.lastSuccessAt = Math.max(target.lastSuccessAt ?? 0, record.done);
    }
    if (bytes > 0) this.noteDeliveryBytes(delivery, bytes);

    const isPending = record.outcome === 'pending';
    if (wasPending === isPending) return;
    target.settled += isPending ? -1 : 1;
    if (!isPending) this.enforceCap(target);
  }

  private forgetDelivery(delivery: Delivery): void {
    this.deliveries.delete(delivery.id);
    this.liveBytes -= delivery.recordBytes;
    if (delivery.outcome !== 'pending') delivery.target.settled -= 1;
    delivery.event.deliveries -= 1;
    if (delivery.event.deliveries === 0) this.retire(delivery.event);
  }

  /**
   * An event no delivery refers to is kept only so that a repeat of its id is refused, and for
   * that its id is enough: holding the event would make memory grow with every event ever seen.
   */
  private retire(event: RelayEvent): void {
    this.events.delete(event.id);
    this.seen.add(event.id, event.at);
    this.liveBytes += SEEN_ID_BYTES - event.recordBytes;
  }
}

/** Ids written per `seen` record by compaction: lines of about 87 KB. */
const SEEN_IDS_PER_RECORD = 4096;
/** What one id adds to a compacted file: 16 bytes in base64. */
const SEEN_ID_BYTES = 22;

/** The history's `error_detail` for a delivery skipped because its target was inactive. */
export function inactiveDetail(target: Target): string {
  return `target was inactive${target.disabledReason ? ` (${target.disabledReason})` : ''}`;
}

/** The form a target takes in the data file. */
export function storedTarget(target: Target): StoredTarget {
  return {
    id: target.id,
    path: target.path,
    url: target.url,
    events: target.events,
    secret: target.sealedSecret,
    active: target.active,
    name: target.name,
    managedBy: target.managedBy,
    created: target.created,
    disabledReason: target.disabledReason,
    ordered: target.ordered,
    previousSecret: target.sealedPreviousSecret,
    previousSecretUntil: target.previousSecretUntil,
    failingSince: target.failingSince,
  };
}

function eventRecord(event: RelayEvent, deliveries: readonly Delivery[]): EventRecord {
  const created: NewDelivery[] = deliveries.map((delivery) => ({
    id: delivery.id,
    target: delivery.target.id,
    eventId: delivery.eventId,
    outcome: 'pending',
  }));
  return {
    type: 'event',
    id: event.id,
    eventType: event.type,
    at: event.at,
    body: event.body,
    deliveries: created,
  };
}

/** True while a delivery is exactly as its event record creates it: no record says more. */
function untouched(delivery: Delivery): boolean {
  return (
    delivery.outcome === 'pending' &&
    delivery.attempts === 0 &&
    delivery.statusCode === null &&
    delivery.errorDetail === null &&
    delivery.nextAttemptAt === delivery.event.at &&
    delivery.priorAttempts === 0
  );
}

function deliveryRecord(delivery: Delivery): DeliveryRecord {
  return {
    type: 'delivery',
    id: delivery.id,
    outcome: delivery.outcome,
    attempts: delivery.attempts,
    status: delivery.statusCode,
    error: delivery.errorDetail,
    next: delivery.nextAttemptAt,
    done: delivery.deliveredAt,
    ...(delivery.priorAttempts > 0 ? { prior: delivery.priorAttempts } : {}),
  };
}
