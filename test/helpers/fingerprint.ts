import type { RelayState } from '../../src/state.js';
import { storedTarget } from '../../src/state.js';

/** Everything a restart must bring back, in a form that deepEqual can compare. */
export function fingerprint(state: RelayState): unknown {
  return {
    nextTargetId: state.nextTargetId,
    nextDeliveryId: state.nextDeliveryId,
    targets: [...state.targets.values()].map((target) => ({
      ...storedTarget(target),
      secret: target.secret,
      history: target.history.map((delivery) => delivery.id),
    })),
    deliveries: [...state.deliveries.values()]
      .sort((a, b) => a.id - b.id)
      .map((delivery) => ({
        id: delivery.id,
        target: delivery.target.id,
        event: delivery.event.id,
        eventId: delivery.eventId,
        outcome: delivery.outcome,
        attempts: delivery.attempts,
        statusCode: delivery.statusCode,
        errorDetail: delivery.errorDetail,
        nextAttemptAt: delivery.nextAttemptAt,
        deliveredAt: delivery.deliveredAt,
      })),
    events: [...state.events.values()]
      .map((event) => ({ id: event.id, type: event.type, at: event.at, body: event.body }))
      .sort((a, b) => a.id.localeCompare(b.id)),
  };
}
