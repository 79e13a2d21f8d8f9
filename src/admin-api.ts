import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiKeys } from './auth.js';
import {
  ADMIN_MAX_BODY_BYTES,
  EVENT_TYPES,
  HISTORY_LIMIT,
  MAX_JSON_DEPTH,
  type Scope,
} from './defaults.js';
import { HttpError, quote } from './errors.js';
import type { FailureLimiter } from './failure-limiter.js';
import { decodeUtf8, parseJson, readBody, requireJson, sendJson } from './http-io.js';
import { normalisePath } from './matching.js';
import type { Delivery, Target } from './state.js';
import type { Store } from './store.js';
import { checkTargetAddress, parseTargetUrl, type Resolver, type UrlPolicy } from './target-url.js';

/**
 * Tiled's four webhook endpoints (tiled/server/webhook_router.py) with its paths, status codes
 * and field names, so Tiled's tutorial and client work against the relay unchanged.
 */

export interface AdminContext {
  store: Store;
  keys: ApiKeys;
  /** Failed authentications per client address. */
  authFailures: FailureLimiter;
  policy: UrlPolicy;
  resolve: Resolver;
}

export interface Route<C extends AdminContext = AdminContext> {
  method: string;
  pattern: RegExp;
  handle(
    context: C,
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    match: string[],
  ): Promise<void>;
}

export const adminRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/api\/v1\/webhooks\/target(?:\/(.*))?$/,
    async handle(context, request, response, url, match) {
      authorize(context, request, url, 'write:webhooks');
      const path = targetPath(match[1]);
      const body = await readJsonObject(request);
      const fields = await registration(context, body);
      const target = await context.store.createTarget({
        ...fields,
        path,
        name: null,
        managedBy: 'api',
      });
      sendJson(response, 200, targetView(target));
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/webhooks\/target(?:\/(.*))?$/,
    async handle(context, request, response, url, match) {
      authorize(context, request, url, 'read:webhooks');
      const path = targetPath(match[1]);
      sendJson(response, 200, context.store.state.targetsOn(path).map(targetView));
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/webhooks\/history\/([^/]+)$/,
    async handle(context, request, response, url, match) {
      authorize(context, request, url, 'read:webhooks');
      const target = findTarget(context, match[1]);
      const limit = historyLimit(url.searchParams.get('limit'));
      const newestFirst = target.history.slice(-limit).reverse();
      sendJson(response, 200, newestFirst.map(deliveryView));
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/v1\/webhooks\/([^/]+)$/,
    async handle(context, request, response, url, match) {
      authorize(context, request, url, 'write:webhooks');
      const target = findTarget(context, match[1]);
      refuseConfigManaged(target);
      await context.store.deleteTarget(target);
      sendJson(response, 200, { deleted: target.id });
    },
  },
];

/**
 * Requires a key with `scope`. The key is checked first: a right one always passes, and only a
 * client whose wrong keys have spent its budget is answered 429 instead of 401.
 */
export function authorize(
  context: AdminContext,
  request: IncomingMessage,
  url: URL,
  scope: Scope,
): void {
  try {
    context.keys.require(request, url, scope);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    throw context.authFailures.refuse(request.socket.remoteAddress ?? 'unknown', error);
  }
}

/** Tiled's WebhookResponse. */
export function targetView(target: Target): Record<string, unknown> {
  return {
    id: target.id,
    url: target.url,
    events: target.events,
    active: target.active,
    time_created: isoTime(target.created),
  };
}

/** Tiled's DeliveryResponse, plus the event id the target saw and when the next attempt is due. */
export function deliveryView(delivery: Delivery): Record<string, unknown> {
  return {
    id: delivery.id,
    webhook_id: delivery.target.id,
    event_type: delivery.event.type,
    payload: JSON.parse(delivery.event.body) as unknown,
    status_code: delivery.statusCode,
    attempts: delivery.attempts,
    outcome: delivery.outcome,
    error_detail: delivery.errorDetail,
    time_created: isoTime(delivery.event.at),
    delivered_at: delivery.deliveredAt === null ? null : isoTime(delivery.deliveredAt),
    event_id: delivery.eventId,
    ingest_event_id: delivery.event.id,
    next_attempt_at: delivery.nextAttemptAt === null ? null : isoTime(delivery.nextAttemptAt),
  };
}

export function isoTime(milliseconds: number): string {
  return new Date(milliseconds).toISOString();
}

/** The `{path}` of a target URL: percent-decoded, then split as Tiled splits node paths. */
function targetPath(encoded: string | undefined): string[] {
  try {
    return normalisePath(decodeURIComponent(encoded ?? ''));
  } catch {
    throw new HttpError(
      'invalid_request',
      `target path ${quote(encoded)} is not valid percent-encoding`,
    );
  }
}

export function findTarget(context: AdminContext, idText: string | undefined): Target {
  if (!/^\d{1,15}$/.test(idText ?? '')) {
    throw new HttpError('invalid_request', `webhook id must be an integer, got ${quote(idText)}`);
  }
  const target = context.store.state.targets.get(Number(idText));
  if (target === undefined) throw new HttpError('target_not_found', 'Webhook not found.');
  return target;
}

export function refuseConfigManaged(target: Target): void {
  if (target.managedBy !== 'config') return;
  throw new HttpError(
    'target_managed_by_config',
    `Webhook ${target.id} (${quote(target.name)}) is managed by the config file: ` +
      'change or remove it under "targets" there and reload the relay.',
  );
}

function historyLimit(text: string | null): number {
  if (text === null) return HISTORY_LIMIT.default;
  const limit = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(limit >= HISTORY_LIMIT.min && limit <= HISTORY_LIMIT.max)) {
    throw new HttpError(
      'invalid_request',
      `limit must be an integer from ${HISTORY_LIMIT.min} to ${HISTORY_LIMIT.max}, got ${quote(text)}`,
    );
  }
  return limit;
}

export async function readJsonObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  requireJson(request);
  const text = decodeUtf8(await readBody(request, ADMIN_MAX_BODY_BYTES));
  const value = parseJson(text, { maxDepth: MAX_JSON_DEPTH.admin, forbidKeys: true });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError('invalid_request', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * Checks `{url, secret?, events?}` as Tiled's WebhookRegistrationRequest, plus hookrelay's
 * optional `ordered`; other keys are ignored, as Tiled ignores them.
 */
async function registration(
  context: AdminContext,
  body: Record<string, unknown>,
): Promise<{ url: string; secret: string | null; events: string[] | null; ordered: boolean }> {
  const events = eventFilter(body.events);
  const secret = optionalSecret(body.secret);
  const ordered = body.ordered ?? false;
  if (typeof ordered !== 'boolean') {
    throw new HttpError('invalid_request', `ordered must be true or false, got ${quote(ordered)}`);
  }
  return { url: await checkedUrl(context, body.url), secret, events, ordered };
}

/**
 * A target URL allowed by the policy, its host resolved and checked; answers the
 * normalised URL.
 */
export async function checkedUrl(context: AdminContext, value: unknown): Promise<string> {
  const url = parseTargetUrl(value, context.policy);
  await checkTargetAddress(url, context.policy, context.resolve);
  return url.href;
}

export function eventFilter(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) {
    throw new HttpError(
      'invalid_request',
      `events must be a list of event types or null, got ${quote(value)}`,
    );
  }
  for (const entry of value) {
    if (!(EVENT_TYPES as readonly unknown[]).includes(entry)) {
      throw new HttpError(
        'invalid_request',
        `events: ${quote(entry)} is not an event type (known: ${EVENT_TYPES.join(', ')})`,
      );
    }
  }
  // Tiled stores an empty filter as null: every event.
  return value.length === 0 ? null : (value as string[]);
}

/** A signing secret; empty means none, as in Tiled. The value never appears in a message. */
export function optionalSecret(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') {
    throw new HttpError(
      'invalid_request',
      `secret must be a string, got a value of type ${typeof value}`,
    );
  }
  return value;
}
