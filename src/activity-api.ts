import { activityWindow, countActivity, windowEnd, type ActivityWindow } from './activity.js';
import { authorize, isoTime, type Route } from './admin-api.js';
import { ACTIVITY_LIMITS } from './defaults.js';
import { HttpError, quote } from './errors.js';
import { sendJson } from './http-io.js';
import type { MonitoringContext } from './monitoring-api.js';

/**
 * `GET /api/v1/activity?minutes=60&buckets=12`: every target's deliveries of the recent past,
 * counted by outcome in equal buckets. One request answers for all targets, so a status page
 * with hundreds of them asks once per refresh instead of reading each target's history.
 */

/** Asked for as often as a status page refreshes: it must never be answered from a cache. */
const NO_STORE = { 'Cache-Control': 'no-store' };

export const activityRoutes: Array<Route<MonitoringContext>> = [
  {
    method: 'GET',
    pattern: /^\/api\/v1\/activity$/,
    async handle(context, request, response, url) {
      authorize(context, request, url, 'read:webhooks');
      const now = context.clock.now();
      const window = requestedWindow(url.searchParams, now);
      sendJson(response, 200, activityView(context, window, now), NO_STORE);
    },
  },
];

function activityView(
  context: MonitoringContext,
  window: ActivityWindow,
  now: number,
): Record<string, unknown> {
  const targets = [...context.store.state.targets.values()].map((target) => ({
    id: target.id,
    ...countActivity(target.history, window),
  }));
  return {
    now: isoTime(now),
    from: isoTime(window.from),
    to: isoTime(windowEnd(window)),
    bucket_seconds: window.bucketMs / 1000,
    targets,
  };
}

/** The window the query asks for; each bucket must be a whole number of seconds. */
export function requestedWindow(query: URLSearchParams, now: number): ActivityWindow {
  const minutes = boundedInteger(query.get('minutes'), 'minutes', ACTIVITY_LIMITS.minutes);
  const buckets = boundedInteger(query.get('buckets'), 'buckets', ACTIVITY_LIMITS.buckets);
  if ((minutes * 60) % buckets !== 0) {
    throw new HttpError(
      'invalid_request',
      `buckets must split ${minutes} minutes into whole seconds, ` +
        `got ${quote(query.get('buckets'))}`,
    );
  }
  return activityWindow(now, minutes, buckets);
}

function boundedInteger(
  text: string | null,
  name: string,
  limits: { default: number; min: number; max: number },
): number {
  if (text === null) return limits.default;
  const value = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(value >= limits.min && value <= limits.max)) {
    throw new HttpError(
      'invalid_request',
      `${name} must be an integer from ${limits.min} to ${limits.max}, got ${quote(text)}`,
    );
  }
  return value;
}
