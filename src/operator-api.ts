import type { Clock } from './clock.js';
import type { Dispatcher } from './dispatcher.js';
import {
  authorize,
  checkedUrl,
  deliveryView,
  eventFilter,
  findTarget,
  isoTime,
  optionalSecret,
  readJsonObject,
  refuseConfigManaged,
  targetView,
  type AdminContext,
  type Route,
} from './admin-api.js';
import { HttpError, quote } from './errors.js';
import { sendJson } from './http-io.js';
import type { Outcome } from './records.js';
import type { Delivery, Target } from './state.js';
import type { TargetChanges } from './store.js';

/**
 * The endpoints beyond Tiled's four that an operator needs: read and change targets, pause and
 * resume them, replay what a target missed, redeliver one delivery, and ping a receiver. Same
 * authentication and error form as Tiled's endpoints.
 */

export interface OperatorContext extends AdminContext {
  dispatcher: Dispatcher;
  clock: Clock;
}

const TARGET_ID = '([^/]+)';
const CHANGEABLE = ['url', 'events', 'active', 'secret', 'ordered'] as const;
const REPLAYABLE: readonly Outcome[] = ['success', 'failed', 'skipped'];
const REPLAY_DEFAULT: readonly Outcome[] = ['failed', 'skipped'];
/** Shown as the reason of a target paused with `PATCH {"active": false}`. */
export const PAUSED_REASON = 'paused through the API';

export const operatorRoutes: Array<Route<OperatorContext>> = [
  {
    method: 'GET',
    pattern: /^\/api\/v1\/webhooks\/?$/,
    async handle(context, request, response, url) {
      authorize(context, request, url, 'read:webhooks');
      const now = context.clock.now();
      sendJson(
        response,
        200,
        [...context.store.state.targets.values()].map((target) => targetDetail(target, now)),
      );
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/api/v1/webhooks/${TARGET_ID}$`),
    async handle(context, request, response, url, match) {
      authorize(context, request, url, 'read:webhooks');
      sendJson(response, 200, targetDetail(findTarget(context, match[1]), context.clock.now()));
    },
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^/api/v1/webhooks/${TARGET_ID}$`),
    async handle(context, request, response, url, match) {
      authorize(context, request, url, 'write:webhooks');
      const target = findTarget(context, match[1]);
      refuseConfigManaged(target);
      const changes = await targetChanges(context, target, await readJsonObject(request));

      const updated = await context.store.updateTarget(target, changes);
      if (changes.failingSince === null) updated.consecutiveFailures = 0;
      context.dispatcher.targetChanged(updated);
      sendJson(response, 200, targetDetail(updated, context.clock.now()));
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/api/v1/webhooks/${TARGET_ID}/replay$`),
    async handle(context, request, response, url, match) {
      authorize(context, request, url, 'write:webhooks');
      const target = findTarget(context, match[1]);
      const window = replayWindow(await readJsonObject(request));
      refuseInactive(target);

      const chosen = target.history.filter(
        (delivery) =>
          window.outcomes.includes(delivery.outcome) &&
          delivery.event.at >= window.since &&
          delivery.event.at < window.until,
      );
      await context.store.requeue(chosen);
      context.dispatcher.enqueue(chosen);
      sendJson(response, 202, { queued: chosen.length });
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/v1\/webhooks\/redeliver\/([^/]+)$/,
    async handle(context, request, response, url, match) {
      authorize(context, request, url, 'write:webhooks');
      const delivery = findDelivery(context, match[1]);
      if (delivery.outcome === 'pending') {
        const next = delivery.nextAttemptAt === null ? 'now' : isoTime(delivery.nextAttemptAt);
        throw new HttpError(
          'delivery_pending',
          `Delivery ${delivery.id} is already queued (next attempt ${next}).`,
        );
      }
      refuseInactive(delivery.target);

      await context.store.requeue([delivery]);
      context.dispatcher.enqueue([delivery]);
      sendJson(response, 202, deliveryView(delivery));
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/api/v1/webhooks/${TARGET_ID}/ping$`),
    async handle(context, request, response, url, match) {
      authorize(context, request, url, 'write:webhooks');
      const target = findTarget(context, match[1]);
      const delivery = await context.store.createPing(
        target,
        pingBody(target, context.clock.now()),
      );
      await context.dispatcher.ping(delivery);
      sendJson(response, 200, deliveryView(delivery));
    },
  },
];

/** Tiled's fields, then where the target lives, how it is managed, and its health. */
export function targetDetail(target: Target, now: number): Record<string, unknown> {
  const overlap = target.previousSecret !== null && (target.previousSecretUntil ?? 0) > now;
  return {
    ...targetView(target),
    path: target.path.join('/'),
    name: target.name,
    managed_by: target.managedBy,
    ordered: target.ordered,
    has_secret: target.sealedSecret !== null,
    secret_overlap_until: overlap ? isoTime(target.previousSecretUntil as number) : null,
    health: {
      consecutive_failures: target.consecutiveFailures,
      last_success_at: target.lastSuccessAt === null ? null : isoTime(target.lastSuccessAt),
      failing_since: target.failingSince === null ? null : isoTime(target.failingSince),
      disabled_reason: target.disabledReason,
    },
  };
}

/** The body of a ping: shaped like a Tiled event, with a type no catalog sends. */
export function pingBody(target: Target, now: number): string {
  return JSON.stringify({
    type: 'ping',
    timestamp: isoTime(now),
    path: target.path,
    webhook_id: target.id,
    detail: 'a test event sent by hookrelay; it does not come from the catalog',
  });
}

/** Checks a PATCH body: only known fields, each validated as at registration. */
async function targetChanges(
  context: OperatorContext,
  target: Target,
  body: Record<string, unknown>,
): Promise<TargetChanges> {
  const unknown = Object.keys(body).filter(
    (key) => !(CHANGEABLE as readonly string[]).includes(key),
  );
  if (unknown.length > 0) {
    throw new HttpError(
      'invalid_request',
      `cannot change ${quote(unknown[0])} (changeable: ${CHANGEABLE.join(', ')})`,
    );
  }
  if (Object.keys(body).length === 0) {
    throw new HttpError(
      'invalid_request',
      `nothing to change: give any of ${CHANGEABLE.join(', ')}`,
    );
  }

  const changes: TargetChanges = {};
  if ('events' in body) changes.events = eventFilter(body.events);
  if ('secret' in body) changes.secret = optionalSecret(body.secret);
  if ('ordered' in body) changes.ordered = flag(body.ordered, 'ordered');
  if ('active' in body) {
    changes.active = flag(body.active, 'active');
    // Resuming starts the target's health afresh; pausing says who paused it.
    changes.disabledReason = changes.active ? null : PAUSED_REASON;
    if (changes.active) changes.failingSince = null;
  }
  if ('url' in body) {
    changes.url = await checkedUrl(context, body.url);
    if (changes.url !== target.url) changes.failingSince = null;
  }
  return changes;
}

function flag(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') {
    throw new HttpError('invalid_request', `${name} must be true or false, got ${quote(value)}`);
  }
  return value;
}

/** `{since, until?, outcomes?}` of a replay, as milliseconds and outcomes. */
function replayWindow(body: Record<string, unknown>): {
  since: number;
  until: number;
  outcomes: readonly Outcome[];
} {
  const since = instant(body.since, 'since');
  if (since === undefined) {
    throw new HttpError(
      'invalid_request',
      'since is required: an ISO 8601 time such as 2026-12-01T00:00:00Z',
    );
  }
  const until = instant(body.until, 'until') ?? Infinity;
  if (until <= since) {
    throw new HttpError(
      'invalid_request',
      `until must be later than since, got ${quote(body.until)}`,
    );
  }

  const outcomes = body.outcomes ?? REPLAY_DEFAULT;
  if (
    !Array.isArray(outcomes) ||
    outcomes.length === 0 ||
    !outcomes.every((entry) => REPLAYABLE.includes(entry as Outcome))
  ) {
    throw new HttpError(
      'invalid_request',
      `outcomes must be a non-empty list of ${REPLAYABLE.join(', ')} (pending deliveries are queued already), got ${quote(body.outcomes)}`,
    );
  }
  return { since, until, outcomes: outcomes as Outcome[] };
}

function instant(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const time =
    typeof value === 'string' &&
    /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
      ? Date.parse(value)
      : NaN;
  if (Number.isNaN(time)) {
    throw new HttpError(
      'invalid_request',
      `${name} must be an ISO 8601 time such as 2026-12-01T00:00:00Z, got ${quote(value)}`,
    );
  }
  return time;
}

function refuseInactive(target: Target): void {
  if (target.active) return;
  const reason = target.disabledReason === null ? '' : ` (${target.disabledReason})`;
  throw new HttpError(
    'target_inactive',
    `Webhook ${target.id} is inactive${reason}: resume it with PATCH {"active": true} first, or its deliveries are only skipped again.`,
  );
}

function findDelivery(context: OperatorContext, idText: string | undefined): Delivery {
  if (!/^\d{1,15}$/.test(idText ?? '')) {
    throw new HttpError('invalid_request', `delivery id must be an integer, got ${quote(idText)}`);
  }
  const delivery = context.store.state.deliveries.get(Number(idText));
  if (delivery === undefined) throw new HttpError('delivery_not_found', 'Delivery not found.');
  return delivery;
}
