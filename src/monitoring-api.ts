import type { ServerResponse } from 'node:http';
import { authorize, isoTime, type AdminContext, type Route } from './admin-api.js';
import type { Clock } from './clock.js';
import { sendJson } from './http-io.js';
import type { Journal } from './journal.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics.js';
import { metricFamilies, takeReadings, type Readings, type RelayMetrics } from './relay-metrics.js';
import { VERSION } from './version.js';

/**
 * What watches the relay: a health check for load balancers and supervisors, Prometheus metrics,
 * and a small JSON status for the status page. All three read the same counters and readings.
 */

export interface MonitoringContext extends AdminContext {
  clock: Clock;
  metrics: RelayMetrics;
  journal: Journal;
  /** False once the relay has begun to close. */
  serving: boolean;
}

/** Probes and scrapers must see the state of now, never a cached answer. */
const NO_STORE = { 'Cache-Control': 'no-store' };

export const monitoringRoutes: Array<Route<MonitoringContext>> = [
  {
    // No key: a load balancer or a supervisor probes it. It tells nothing secret, and it skips
    // the failed-authentication limiter, so a client guessing keys cannot make it answer 429.
    method: 'GET',
    pattern: /^\/healthz$/,
    async handle(context, _request, response) {
      const readings = readingsOf(context);
      const healthy = isHealthy(readings);
      sendJson(response, healthy ? 200 : 503, healthView(readings), NO_STORE);
    },
  },
  {
    method: 'GET',
    pattern: /^\/metrics$/,
    async handle(context, request, response, url) {
      authorize(context, request, url, 'read:webhooks');
      const readings = readingsOf(context);
      const families = metricFamilies(context.metrics, readings, context.clock.now(), VERSION);
      sendText(response, renderMetrics(families));
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/v1\/status$/,
    async handle(context, request, response, url) {
      authorize(context, request, url, 'read:webhooks');
      sendJson(response, 200, statusView(context.metrics, readingsOf(context)), NO_STORE);
    },
  },
];

function readingsOf(context: MonitoringContext): Readings {
  return takeReadings(context.store.state, context.journal, context.serving);
}

function isHealthy(readings: Readings): boolean {
  return readings.serving && readings.dataFileWritable;
}

/**
 * Small on purpose, and without the data file's path: anyone who can reach the relay may ask.
 * The error is the failed stage and the errno code, e.g. "fdatasync of the data file failed: EIO".
 */
export function healthView(readings: Readings): Record<string, unknown> {
  return {
    status: isHealthy(readings) ? 'ok' : 'failing',
    serving: readings.serving,
    data_file: { writable: readings.dataFileWritable, error: readings.dataFileError },
  };
}

/** The numbers the status page shows, from the same counters and readings as /metrics. */
export function statusView(metrics: RelayMetrics, readings: Readings): Record<string, unknown> {
  return {
    events_ingested: metrics.eventsIngested,
    pending_deliveries: readings.pendingDeliveries,
    oldest_pending_at: readings.oldestPendingAt === null ? null : isoTime(readings.oldestPendingAt),
    data_file_bytes: readings.dataFileBytes,
    started_at: isoTime(metrics.startedAt),
    version: VERSION,
    healthy: isHealthy(readings),
  };
}

function sendText(response: ServerResponse, text: string): void {
  response.writeHead(200, {
    ...NO_STORE,
    'Content-Type': METRICS_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}
