import type { IncomingMessage, ServerResponse } from 'node:http';
import { activityRoutes } from './activity-api.js';
import { adminRoutes, type Route } from './admin-api.js';
import type { Dispatcher } from './dispatcher.js';
import { HttpError } from './errors.js';
import { readBody, sendError, sendJson } from './http-io.js';
import { checkIngest } from './ingest.js';
import { StorageError } from './journal.js';
import type { FailureLimiter } from './failure-limiter.js';
import type { Logger } from './log.js';
import { monitoringRoutes, type MonitoringContext } from './monitoring-api.js';
import { operatorRoutes } from './operator-api.js';
import { HmacKey } from './signatures.js';
import { statusPageRoutes } from './status-page/routes.js';

/**
 * What the handler works with. The relay keeps this object and changes its settings in place
 * when the config is reloaded, so every request reads the settings of its moment.
 */
export interface AppContext extends MonitoringContext {
  dispatcher: Dispatcher;
  logger: Logger;
  /** The ingest secret as an HMAC key, or null when events need no signature. */
  ingestKey: HmacKey | null;
  maxBodyBytes: number;
  /** Failed ingest signatures per client address: a budget of their own, apart from the API's. */
  signatureFailures: FailureLimiter;
  /** Requests with more headers than this are refused rather than have the rest dropped. */
  maxHeaders: number;
}

/** The ingest secret as an HMAC key, or null when events need no signature. */
export function ingestKey(secret: string | null): HmacKey | null {
  return secret === null ? null : new HmacKey(secret);
}

/** Seconds a catalog is asked to wait before sending again while the data file fails. */
const STORAGE_RETRY_AFTER_SECONDS = 5;

const ingestRoute: Route<AppContext> = {
  method: 'POST',
  pattern: /^\/ingest$/,
  async handle(app, request, response) {
    const body = await readBody(request, app.maxBodyBytes);
    let event;
    try {
      event = checkIngest(request, body, app.ingestKey);
    } catch (error) {
      // Only a request that fails its signature is limited: a signed one is always taken in.
      if (!(error instanceof HttpError) || error.code !== 'invalid_signature') throw error;
      throw app.signatureFailures.refuse(request.socket.remoteAddress ?? 'unknown', error);
    }

    let accepted;
    try {
      accepted = await app.store.acceptEvent(event);
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      app.logger.error('could not store an event; answered 503', { event: event.id, err: error });
      throw storageUnavailable('the event', error);
    }

    if (accepted.duplicate) {
      app.metrics.eventsDuplicate += 1;
      sendJson(response, 200, { event_id: event.id, duplicate: true, deliveries: 0 });
      return;
    }
    app.metrics.noteIngested(accepted.deliveries);
    app.dispatcher.enqueue(accepted.deliveries);
    sendJson(response, 202, {
      event_id: event.id,
      duplicate: false,
      deliveries: accepted.deliveries.length,
    });
  },
};

const INGEST_URL = new URL('/ingest', 'http://relay.invalid');

const routes: Array<Route<AppContext>> = [
  ingestRoute,
  ...monitoringRoutes,
  ...activityRoutes,
  ...statusPageRoutes,
  ...adminRoutes,
  ...operatorRoutes,
];

/** The relay's HTTP handler: a plain function of request and response, so tests can call it. */
export function createHandler(
  context: AppContext,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    handle(context, request, response).catch((error: unknown) => {
      if (error instanceof HttpError) {
        sendError(response, error);
        return;
      }
      if (error instanceof StorageError) {
        context.logger.error('could not store a change; answered 503', {
          method: request.method,
          err: error,
        });
        sendError(response, storageUnavailable('the change', error));
        return;
      }
      context.logger.error('request failed unexpectedly', { method: request.method, err: error });
      sendError(
        response,
        new HttpError('internal_error', 'the relay failed to handle this request'),
      );
    });
  };
}

function storageUnavailable(what: string, error: StorageError): HttpError {
  return new HttpError('storage_unavailable', `${what} could not be stored (${error.message})`, {
    'Retry-After': String(STORAGE_RETRY_AFTER_SECONDS),
  });
}

async function handle(
  context: AppContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (request.rawHeaders.length / 2 > context.maxHeaders) {
    throw new HttpError(
      'too_many_headers',
      `a request may carry at most ${context.maxHeaders} headers`,
    );
  }
  // Nearly every request is an event: its exact path goes straight to ingest, without parsing.
  if (request.url === '/ingest' && request.method === 'POST') {
    await ingestRoute.handle(context, request, response, INGEST_URL, ['/ingest']);
    return;
  }
  const url = new URL(request.url ?? '/', 'http://relay.invalid');
  const allowed: string[] = [];
  for (const route of routes) {
    const match = route.pattern.exec(url.pathname);
    if (match === null) continue;
    if (route.method !== request.method) {
      allowed.push(route.method);
      continue;
    }
    await route.handle(context, request, response, url, Array.from(match));
    return;
  }
  if (allowed.length > 0) {
    throw new HttpError(
      'method_not_allowed',
      `${request.method} is not allowed on ${url.pathname}`,
      { Allow: allowed.join(', ') },
    );
  }
  throw new HttpError('not_found', `no such endpoint: ${url.pathname}`);
}
