import type { Clock } from './clock.js';
import type { Config } from './defaults.js';
import type { AttemptRequest, AttemptResult } from './delivery-client.js';
import { DueQueue } from './due-queue.js';
import { HttpError } from './errors.js';
import { Fifo } from './fifo.js';
import type { Logger } from './log.js';
import type { RelayMetrics } from './relay-metrics.js';
import { decide } from './retry-policy.js';
import { signingSecrets } from './secret-rotation.js';
import { standardWebhooksSignature, tiledSignature } from './signatures.js';
import { inactiveDetail, type Delivery, type Target } from './state.js';
import type { Store, TargetChanges } from './store.js';
import { TargetSequence } from './target-sequence.js';
import { USER_AGENT } from './version.js';

export interface Sender {
  send(request: AttemptRequest): Promise<AttemptResult>;
}

export interface DispatcherOptions {
  store: Store;
  sender: Sender;
  clock: Clock;
  logger: Logger;
  settings: Config['delivery'];
  /** Counts attempts and settled deliveries. */
  metrics: RelayMetrics;
  /** A number in [0, 1) for jitter; injected so tests get a fixed schedule. */
  random?: () => number;
}

/** The deliveries of one target waiting for a free slot, and how many of its attempts run. */
interface Lane {
  target: Target;
  ready: Fifo<Delivery>;
  running: number;
}

/**
 * Sends deliveries when they are due. Waiting deliveries sit in one queue ordered by due time
 * behind a single timer. Due ones join their target's lane; lanes take turns for the global slots
 * (`delivery.concurrency`) and each runs at most `delivery.perTargetConcurrency` attempts, so a
 * slow target fills only its own slots and never holds the others back. A target that asked for
 * ordered delivery gets a sequence in front of all this, which lets one delivery through at a time.
 */
export class Dispatcher {
  private readonly waiting = new DueQueue<Delivery>();
  private cancelWake: (() => void) | null = null;
  private wakeAt = Infinity;
  private readonly lanes = new Map<number, Lane>();
  private readonly sequences = new Map<number, TargetSequence>();
  /** Lanes with ready deliveries and a free slot, in turn order. */
  private readonly turns = new Set<Lane>();
  private running = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private readonly random: () => number;

  constructor(private readonly options: DispatcherOptions) {
    this.random = options.random ?? Math.random;
  }

  /** Takes new or requeued deliveries (pending ones; skipped ones need nothing). */
  enqueue(deliveries: Iterable<Delivery>): void {
    for (const delivery of deliveries) {
      if (delivery.outcome === 'pending') {
        this.admit(delivery, delivery.nextAttemptAt ?? this.options.clock.now());
      }
    }
    this.pump();
  }

  /**
   * Sends a test delivery once, now, whatever the target's state, and records the outcome. It
   * does not retry and does not count toward the target's health.
   */
  async ping(delivery: Delivery): Promise<void> {
    const result = await this.send(delivery);
    const now = this.options.clock.now();
    const succeeded =
      result.statusCode !== null && result.statusCode >= 200 && result.statusCode <= 299;
    const outcome = succeeded ? 'success' : 'failed';
    this.options.metrics.noteSettled(outcome);
    this.options.store.updateDelivery(delivery, {
      outcome,
      attempts: delivery.attempts + 1,
      status: result.statusCode,
      error: succeeded ? null : result.error,
      next: null,
      done: now,
    });
  }

  /** Called after a target changed: one that no longer asks for order releases what it held. */
  targetChanged(target: Target): void {
    const sequence = this.sequences.get(target.id);
    if (sequence === undefined || target.ordered) return;
    this.sequences.delete(target.id);
    const now = this.options.clock.now();
    for (const delivery of sequence.drain()) this.schedule(delivery, delivery.nextAttemptAt ?? now);
    this.pump();
  }

  /**
   * Takes new delivery settings (a config reload). Waits already scheduled keep their time; the
   * next attempt of each delivery follows the new schedule, timeout and limits.
   */
  configure(settings: Config['delivery']): void {
    this.options.settings = settings;
    for (const lane of this.lanes.values()) this.offerTurn(lane);
    this.pump();
  }

  /**
   * Re-arms deliveries found pending at startup. Overdue ones are spread over the jitter window
   * so that a restart after an outage does not hit every target at the same instant.
   */
  restore(deliveries: Iterable<Delivery>): void {
    const now = this.options.clock.now();
    for (const delivery of deliveries) {
      const due = delivery.nextAttemptAt ?? now;
      this.admit(
        delivery,
        due > now ? due : now + Math.floor(this.random() * this.options.settings.jitterMs),
      );
    }
    this.pump();
  }

  /**
   * Deliveries waiting for their time (or, for an ordered target, for the one before them), for
   * a slot, and attempts under way.
   */
  get backlog(): { waiting: number; ready: number; running: number } {
    let ready = 0;
    for (const lane of this.lanes.values()) ready += lane.ready.length;
    let held = 0;
    for (const sequence of this.sequences.values()) held += sequence.waiting;
    return { waiting: this.waiting.size + held, ready, running: this.running };
  }

  /** Stops starting attempts and waits for those under way, at most `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.cancelWake?.();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
  }

  /** A delivery of an ordered target waits its turn in the target's sequence; others go on. */
  private admit(delivery: Delivery, due: number): void {
    if (!delivery.target.ordered) {
      this.schedule(delivery, due);
      return;
    }
    let sequence = this.sequences.get(delivery.target.id);
    if (sequence === undefined) {
      sequence = new TargetSequence();
      this.sequences.set(delivery.target.id, sequence);
    }
    sequence.hold(delivery);
    this.release(delivery.target.id, sequence);
  }

  /** Schedules the sequence's next delivery when none of the target's is under way. */
  private release(targetId: number, sequence: TargetSequence): void {
    if (sequence.head !== null) return;
    const head = sequence.advance((delivery) => this.isLive(delivery));
    if (head === null) {
      this.sequences.delete(targetId);
      return;
    }
    this.schedule(head, head.nextAttemptAt ?? this.options.clock.now());
  }

  /** After an attempt: when the head of a sequence settled (or vanished), the next one goes. */
  private settled(delivery: Delivery): void {
    const sequence = this.sequences.get(delivery.target.id);
    if (sequence === undefined || sequence.head !== delivery || this.isLive(delivery)) return;
    sequence.head = null;
    this.release(delivery.target.id, sequence);
  }

  private isLive(delivery: Delivery): boolean {
    return (
      delivery.outcome === 'pending' &&
      this.options.store.state.deliveries.get(delivery.id) === delivery
    );
  }

  private schedule(delivery: Delivery, due: number): void {
    if (due <= this.options.clock.now()) {
      this.makeReady(delivery);
      return;
    }
    this.waiting.push(due, delivery);
    this.armWake();
  }

  private armWake(): void {
    const next = this.waiting.nextDue;
    if (this.stopped || next >= this.wakeAt) return;
    this.cancelWake?.();
    this.wakeAt = next;
    this.cancelWake = this.options.clock.schedule(
      Math.max(0, next - this.options.clock.now()),
      () => {
        this.cancelWake = null;
        this.wakeAt = Infinity;
        for (const delivery of this.waiting.popDue(this.options.clock.now())) {
          this.makeReady(delivery);
        }
        this.armWake();
        this.pump();
      },
    );
  }

  private makeReady(delivery: Delivery): void {
    let lane = this.lanes.get(delivery.target.id);
    if (lane === undefined || lane.target !== delivery.target) {
      lane = { target: delivery.target, ready: new Fifo(), running: 0 };
      this.lanes.set(delivery.target.id, lane);
    }
    lane.ready.push(delivery);
    this.offerTurn(lane);
  }

  private offerTurn(lane: Lane): void {
    if (lane.ready.length > 0 && lane.running < this.options.settings.perTargetConcurrency) {
      this.turns.add(lane);
    }
  }

  private pump(): void {
    while (!this.stopped && this.running < this.options.settings.concurrency) {
      const lane = this.turns.values().next().value;
      if (lane === undefined) return;
      this.turns.delete(lane);

      const delivery = lane.ready.shift();
      if (delivery === undefined) continue;
      lane.running += 1;
      this.running += 1;
      this.offerTurn(lane);

      const attempt = this.attempt(delivery).finally(() => {
        this.inFlight.delete(attempt);
        lane.running -= 1;
        this.running -= 1;
        this.settled(delivery);
        if (lane.running === 0 && lane.ready.length === 0) this.lanes.delete(lane.target.id);
        else this.offerTurn(lane);
        this.pump();
      });
      this.inFlight.add(attempt);
    }
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const { store, clock, logger, settings, metrics } = this.options;
    const target = delivery.target;
    // The delivery may have been settled or its target deleted while it waited.
    if (!this.isLive(delivery)) return;

    if (!target.active) {
      const error = inactiveDetail(target);
      metrics.noteSettled('skipped');
      store.updateDelivery(delivery, {
        ...progress(delivery),
        outcome: 'skipped',
        error,
        next: null,
        done: clock.now(),
      });
      return;
    }

    const result = await this.send(delivery);
    if (store.state.deliveries.get(delivery.id) !== delivery) return;
    // An attempt without an answer while the relay stops was most likely cut off by the stop, not
    // failed by the receiver: it stays pending, as the file says, and goes again after a restart.
    if (this.stopped && result.statusCode === null) return;

    const now = clock.now();
    const attempts = delivery.attempts + 1;
    const decision = decide(
      result,
      attempts - delivery.priorAttempts,
      settings,
      now,
      this.random(),
    );
    this.noteHealth(target, delivery, decision.kind === 'success', result, now);
    const base = {
      attempts,
      status: result.statusCode ?? delivery.statusCode,
      error: result.error,
    };
    const fields = {
      target: target.id,
      delivery: delivery.id,
      attempts,
      status: result.statusCode,
    };

    switch (decision.kind) {
      case 'success':
        metrics.noteSettled('success');
        store.updateDelivery(delivery, {
          ...base,
          outcome: 'success',
          error: null,
          next: null,
          done: now,
        });
        return;
      case 'retry':
        store.updateDelivery(delivery, {
          ...base,
          outcome: 'pending',
          next: now + decision.delayMs,
          done: null,
        });
        this.schedule(delivery, now + decision.delayMs);
        return;
      case 'failed':
        metrics.noteSettled('failed');
        store.updateDelivery(delivery, { ...base, outcome: 'failed', next: null, done: now });
        logger.warn('delivery failed and will not be retried', { ...fields, error: result.error });
        return;
      case 'gone':
        metrics.noteSettled('failed');
        store.updateDelivery(delivery, { ...base, outcome: 'failed', next: null, done: now });
        await this.disableGoneTarget(target, delivery);
        return;
    }
  }

  /**
   * Keeps the target's health: consecutive failures and last success in memory, the start of a
   * run of failures in the data file (it must survive restarts to reach `disableAfterMs`). Logs
   * when a target starts failing and when it recovers, not on every attempt.
   */
  private noteHealth(
    target: Target,
    delivery: Delivery,
    succeeded: boolean,
    result: AttemptResult,
    now: number,
  ): void {
    const { logger, settings } = this.options;
    if (succeeded) {
      if (target.consecutiveFailures > 0) {
        const failures = target.consecutiveFailures;
        logger.info('target recovered', { target: target.id, failures });
      }
      target.consecutiveFailures = 0;
      target.lastSuccessAt = now;
      if (target.failingSince !== null) {
        target.failingSince = null;
        void this.changeTarget(target, { failingSince: null });
      }
      return;
    }

    target.consecutiveFailures += 1;
    if (target.failingSince === null) {
      logger.warn('target failing', {
        target: target.id,
        delivery: delivery.id,
        status: result.statusCode,
        error: result.error,
      });
      target.failingSince = now;
      void this.changeTarget(target, { failingSince: now });
      return;
    }
    if (
      settings.disableAfterMs > 0 &&
      now - target.failingSince >= settings.disableAfterMs &&
      target.active
    ) {
      const since = new Date(target.failingSince).toISOString();
      void this.disable(target, delivery, `every attempt failed since ${since}`);
    }
  }

  private async disableGoneTarget(target: Target, delivery: Delivery): Promise<void> {
    if (target.active) await this.disable(target, delivery, 'the receiver answered 410 Gone');
  }

  private async disable(target: Target, delivery: Delivery, reason: string): Promise<void> {
    this.options.logger.warn('target disabled', {
      target: target.id,
      delivery: delivery.id,
      reason,
    });
    // Marked at once so that attempts finishing meanwhile do not disable it a second time.
    target.active = false;
    target.disabledReason = reason;
    await this.changeTarget(target, { active: false, disabledReason: reason });
  }

  private async changeTarget(target: Target, changes: TargetChanges): Promise<void> {
    try {
      await this.options.store.updateTarget(target, changes);
    } catch (error) {
      // A target deleted meanwhile has no health to keep.
      if (error instanceof HttpError && error.code === 'target_not_found') return;
      this.options.logger.error('could not record a change of target health', {
        target: target.id,
        err: error,
      });
    }
  }

  private async send(delivery: Delivery): Promise<AttemptResult> {
    const result = await this.sendSigned(delivery);
    this.options.metrics.noteAttempt(result.statusCode);
    return result;
  }

  private sendSigned(delivery: Delivery): Promise<AttemptResult> {
    const target = delivery.target;
    if (target.secretUnreadable) {
      // Sending unsigned would only be refused by a receiver that checks signatures.
      const error = 'the target secret cannot be decrypted with the configured secretKeys';
      return Promise.resolve({ statusCode: null, error });
    }
    const timestamp = Math.floor(this.options.clock.now() / 1000);
    const body = Buffer.from(delivery.event.body);
    return this.options.sender.send({
      url: target.url,
      headers: deliveryHeaders(delivery, body, timestamp),
      body,
      timeoutMs: this.options.settings.timeoutMs,
    });
  }
}

/**
 * Tiled's headers (Content-Type, X-Tiled-Event-ID, X-Tiled-Signature) and the Standard Webhooks
 * headers, which use the same id; the timestamp and its signatures are new on every attempt.
 */
export function deliveryHeaders(
  delivery: Delivery,
  body: Buffer,
  timestampSeconds: number,
): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
    'X-Tiled-Event-ID': delivery.eventId,
    'webhook-id': delivery.eventId,
    'webhook-timestamp': String(timestampSeconds),
  };
  const target = delivery.target;
  if (target.secret !== null) headers['X-Tiled-Signature'] = tiledSignature(target.secret, body);
  // During a rotation both secrets sign, space-separated, as Standard Webhooks provides.
  const secrets = signingSecrets(target, timestampSeconds * 1000);
  if (secrets.length > 0) {
    const signatures = secrets.map((secret) =>
      standardWebhooksSignature(secret, delivery.eventId, timestampSeconds, body),
    );
    headers['webhook-signature'] = signatures.join(' ');
  }
  return headers;
}

function progress(delivery: Delivery): { attempts: number; status: number | null } {
  return { attempts: delivery.attempts, status: delivery.statusCode };
}
