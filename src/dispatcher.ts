import type { Clock } from './clock.js';
import type { Config } from './defaults.js';
import type { AttemptRequest, AttemptResult } from './delivery-client.js';
import { DueQueue } from './due-queue.js';
import { Fifo } from './fifo.js';
import type { Logger } from './log.js';
import { decide } from './retry-policy.js';
import { standardWebhooksSignature, tiledSignature } from './signatures.js';
import { inactiveDetail, type Delivery, type Target } from './state.js';
import type { Store } from './store.js';
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
 * slow target fills only its own slots and never holds the others back.
 */
export class Dispatcher {
  private readonly waiting = new DueQueue<Delivery>();
  private cancelWake: (() => void) | null = null;
  private wakeAt = Infinity;
  private readonly lanes = new Map<number, Lane>();
  /** Lanes with ready deliveries and a free slot, in turn order. */
  private readonly turns = new Set<Lane>();
  private running = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private readonly random: () => number;

  constructor(private readonly options: DispatcherOptions) {
    this.random = options.random ?? Math.random;
  }

  /** Takes new deliveries (pending ones; skipped ones need nothing). */
  enqueue(deliveries: Iterable<Delivery>): void {
    for (const delivery of deliveries) {
      if (delivery.outcome === 'pending') this.schedule(delivery, delivery.nextAttemptAt ?? this.options.clock.now());
    }
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
      this.schedule(delivery, due > now ? due : now + Math.floor(this.random() * this.options.settings.jitterMs));
    }
    this.pump();
  }

  /** Deliveries waiting for their time or for a slot, and attempts under way. */
  get backlog(): { waiting: number; ready: number; running: number } {
    let ready = 0;
    for (const lane of this.lanes.values()) ready += lane.ready.length;
    return { waiting: this.waiting.size, ready, running: this.running };
  }

  /** Stops starting attempts and waits for those under way, at most `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.cancelWake?.();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
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
    this.cancelWake = this.options.clock.schedule(Math.max(0, next - this.options.clock.now()), () => {
      this.cancelWake = null;
      this.wakeAt = Infinity;
      for (const delivery of this.waiting.popDue(this.options.clock.now())) this.makeReady(delivery);
      this.armWake();
      this.pump();
    });
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
    if (lane.ready.length > 0 && lane.running < this.options.settings.perTargetConcurrency) this.turns.add(lane);
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
        if (lane.running === 0 && lane.ready.length === 0) this.lanes.delete(lane.target.id);
        else this.offerTurn(lane);
        this.pump();
      });
      this.inFlight.add(attempt);
    }
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const { store, clock, logger, settings } = this.options;
    const target = delivery.target;
    // The delivery may have been settled or its target deleted while it waited.
    if (delivery.outcome !== 'pending' || store.state.deliveries.get(delivery.id) !== delivery) return;

    if (!target.active) {
      const error = inactiveDetail(target);
      store.updateDelivery(delivery, { ...progress(delivery), outcome: 'skipped', error, next: null, done: clock.now() });
      return;
    }

    const result = await this.send(delivery);
    if (store.state.deliveries.get(delivery.id) !== delivery) return;

    const now = clock.now();
    const attempts = delivery.attempts + 1;
    const decision = decide(result, attempts, settings, now, this.random());
    this.noteHealth(target, delivery, decision.kind === 'success', result, now);
    const base = { attempts, status: result.statusCode ?? delivery.statusCode, error: result.error };
    const fields = { target: target.id, delivery: delivery.id, attempts, status: result.statusCode };

    switch (decision.kind) {
      case 'success':
        store.updateDelivery(delivery, { ...base, outcome: 'success', error: null, next: null, done: now });
        return;
      case 'retry':
        store.updateDelivery(delivery, { ...base, outcome: 'pending', next: now + decision.delayMs, done: null });
        this.schedule(delivery, now + decision.delayMs);
        return;
      case 'failed':
        store.updateDelivery(delivery, { ...base, outcome: 'failed', next: null, done: now });
        logger.warn('delivery failed and will not be retried', { ...fields, error: result.error });
        return;
      case 'gone':
        store.updateDelivery(delivery, { ...base, outcome: 'failed', next: null, done: now });
        await this.disableGoneTarget(target, delivery);
        return;
    }
  }

  /** Logs when a target starts failing and when it recovers, not on every attempt. */
  private noteHealth(target: Target, delivery: Delivery, succeeded: boolean, result: AttemptResult, now: number): void {
    if (succeeded) {
      if (target.consecutiveFailures > 0) {
        this.options.logger.info('target recovered', { target: target.id, failures: target.consecutiveFailures });
      }
      target.consecutiveFailures = 0;
      target.lastSuccessAt = now;
      return;
    }
    target.consecutiveFailures += 1;
    if (target.consecutiveFailures === 1) {
      const fields = { target: target.id, delivery: delivery.id, status: result.statusCode, error: result.error };
      this.options.logger.warn('target failing', fields);
    }
  }

  private async disableGoneTarget(target: Target, delivery: Delivery): Promise<void> {
    if (!target.active) return;
    const reason = 'the receiver answered 410 Gone';
    this.options.logger.warn('target disabled', { target: target.id, delivery: delivery.id, reason });
    try {
      await this.options.store.updateTarget(target, { active: false, disabledReason: reason });
    } catch (error) {
      this.options.logger.error('could not record that a target was disabled', { target: target.id, err: error });
    }
  }

  private send(delivery: Delivery): Promise<AttemptResult> {
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
 * headers, which use the same id; the timestamp and its signature are new on every attempt.
 */
export function deliveryHeaders(delivery: Delivery, body: Buffer, timestampSeconds: number): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
    'X-Tiled-Event-ID': delivery.eventId,
    'webhook-id': delivery.eventId,
    'webhook-timestamp': String(timestampSeconds),
  };
  const secret = delivery.target.secret;
  if (secret !== null) {
    headers['X-Tiled-Signature'] = tiledSignature(secret, body);
    headers['webhook-signature'] = standardWebhooksSignature(secret, delivery.eventId, timestampSeconds, body);
  }
  return headers;
}

function progress(delivery: Delivery): { attempts: number; status: number | null } {
  return { attempts: delivery.attempts, status: delivery.statusCode };
}
