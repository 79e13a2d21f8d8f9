import { DueQueue } from './due-queue.js';
import type { Delivery } from './state.js';

/**
 * The pending deliveries of a target that asked for ordered delivery: one at a time, in the
 * order the events were accepted (delivery ids grow with it). The head is retried on its
 * schedule while the rest wait; once it succeeds or fails for good, the next one goes.
 */
export class TargetSequence {
  /** The delivery being sent or retried, or null when the next one may go. */
  head: Delivery | null = null;
  private readonly held = new DueQueue<Delivery>();

  get waiting(): number {
    return this.held.size;
  }

  hold(delivery: Delivery): void {
    this.held.push(delivery.id, delivery);
  }

  /** Takes the oldest held delivery that is still pending as the new head. */
  advance(isPending: (delivery: Delivery) => boolean): Delivery | null {
    while (this.head === null && this.held.size > 0) {
      const next = this.held.pop() as Delivery;
      if (isPending(next)) this.head = next;
    }
    return this.head;
  }

  /** Empties the sequence, answering what it held, when the target stops asking for order. */
  drain(): Delivery[] {
    const all: Delivery[] = [];
    for (let next = this.held.pop(); next !== undefined; next = this.held.pop()) all.push(next);
    return all;
  }
}
