import { FSYNC_BUCKETS_SECONDS } from './defaults.js';
import type { Journal } from './journal.js';
import { Histogram, single, type MetricFamily, type Sample } from './metrics.js';
import type { Outcome } from './records.js';
import type { RelayState } from './state.js';

/**
 * What the relay counts while it runs, and what it reads off its state when asked. Counters are
 * plain fields incremented in place on the paths they count; the gauges (pending deliveries,
 * their age, target failures, the data file) are read only when /metrics or the status endpoint
 * asks, so ingest and delivery pay nothing for them.
 */

export type AttemptClass = '2xx' | '3xx' | '4xx' | '5xx' | 'error';
export type SettledOutcome = Exclude<Outcome, 'pending'>;

/** The counters, from the start of the process. */
export class RelayMetrics {
  eventsIngested = 0;
  eventsDuplicate = 0;
  readonly deliveries: Record<SettledOutcome, number> = { success: 0, failed: 0, skipped: 0 };
  readonly attempts: Record<AttemptClass, number> = {
    '2xx': 0,
    '3xx': 0,
    '4xx': 0,
    '5xx': 0,
    error: 0,
  };
  readonly fsyncSeconds = new Histogram(FSYNC_BUCKETS_SECONDS);
  lastReloadSucceeded = true;
  /** When the running config was last loaded in full; startup counts as a load. */
  lastReloadAt: number;

  constructor(readonly startedAt: number) {
    this.lastReloadAt = startedAt;
  }

  /** An event stored at ingest; deliveries to inactive targets are settled as skipped at once. */
  noteIngested(deliveries: ReadonlyArray<{ outcome: Outcome }>): void {
    this.eventsIngested += 1;
    for (const delivery of deliveries) {
      if (delivery.outcome === 'skipped') this.deliveries.skipped += 1;
    }
  }

  noteAttempt(statusCode: number | null): void {
    this.attempts[attemptClass(statusCode)] += 1;
  }

  noteSettled(outcome: SettledOutcome): void {
    this.deliveries[outcome] += 1;
  }
}

/**
 * An answer with a status outside 200-599 is not one HTTP allows as final, so it counts with
 * the attempts that got no answer at all.
 */
export function attemptClass(statusCode: number | null): AttemptClass {
  if (statusCode === null || statusCode < 200 || statusCode > 599) return 'error';
  return `${Math.floor(statusCode / 100)}xx` as AttemptClass;
}

/** The gauges, read from the state and the data file at one moment. */
export interface Readings {
  pendingDeliveries: number;
  /** When the event of the oldest pending delivery was accepted, or null when none is pending. */
  oldestPendingAt: number | null;
  dataFileBytes: number;
  /** False after a failed write or sync of the data file, until a later one succeeds. */
  dataFileWritable: boolean;
  dataFileError: string | null;
  /** False once the relay has begun to close. */
  serving: boolean;
  targetFailures: Array<{ target: number; failures: number }>;
  /** The process's memory (process.memoryUsage), to watch it stay bounded by retention. */
  memory: { residentBytes: number; heapUsedBytes: number; externalBytes: number };
}

export function takeReadings(state: RelayState, journal: Journal, serving: boolean): Readings {
  let pendingDeliveries = 0;
  const targetFailures: Readings['targetFailures'] = [];
  for (const target of state.targets.values()) {
    pendingDeliveries += target.history.length - target.settled;
    targetFailures.push({ target: target.id, failures: target.consecutiveFailures });
  }
  return {
    pendingDeliveries,
    oldestPendingAt: pendingDeliveries === 0 ? null : oldestPendingAt(state),
    dataFileBytes: journal.size,
    dataFileWritable: journal.healthy,
    dataFileError: journal.lastError?.message ?? null,
    serving,
    targetFailures,
    memory: memoryReading(),
  };
}

function memoryReading(): Readings['memory'] {
  const usage = process.memoryUsage();
  return { residentBytes: usage.rss, heapUsedBytes: usage.heapUsed, externalBytes: usage.external };
}

/**
 * Deliveries are kept in the order their events were accepted, and a delivery keeps its place
 * when a replay queues it again, so the first pending one is the oldest. The walk passes the
 * settled history before it: it is paid per scrape, never per event.
 */
function oldestPendingAt(state: RelayState): number | null {
  for (const delivery of state.deliveries.values()) {
    if (delivery.outcome === 'pending') return delivery.event.at;
  }
  return null;
}

/** Every metric /metrics shows, in the order it shows them. */
export function metricFamilies(
  metrics: RelayMetrics,
  readings: Readings,
  now: number,
  version: string,
): MetricFamily[] {
  const oldest = readings.oldestPendingAt;
  const oldestAgeSeconds = oldest === null ? 0 : Math.max(0, now - oldest) / 1000;
  const failures = readings.targetFailures.map(({ target, failures: value }) => ({
    labels: { target: String(target) },
    value,
  }));
  return [
    gauge('hookrelay_build_info', 'The running version; always 1.', [
      { labels: { version }, value: 1 },
    ]),
    gauge(
      'hookrelay_start_time_seconds',
      'When the process started, in Unix seconds.',
      single(metrics.startedAt / 1000),
    ),
    counter(
      'hookrelay_events_ingested_total',
      'Events accepted at /ingest and stored.',
      single(metrics.eventsIngested),
    ),
    counter(
      'hookrelay_events_duplicate_total',
      'Events at /ingest with an id accepted before: answered 200, not delivered again.',
      single(metrics.eventsDuplicate),
    ),
    counter(
      'hookrelay_deliveries_total',
      'Deliveries settled, by outcome.',
      labelled('outcome', metrics.deliveries),
    ),
    counter(
      'hookrelay_delivery_attempts_total',
      'Attempts to send a delivery, by the class of the status answered; error: no answer.',
      labelled('class', metrics.attempts),
    ),
    gauge(
      'hookrelay_pending_deliveries',
      'Deliveries waiting to be sent or retried.',
      single(readings.pendingDeliveries),
    ),
    gauge(
      'hookrelay_oldest_pending_delivery_age_seconds',
      'Age of the event of the oldest pending delivery; 0 when none is pending.',
      single(oldestAgeSeconds),
    ),
    gauge(
      'hookrelay_target_consecutive_failures',
      'Attempts to a target that failed in a row since its last success.',
      failures,
    ),
    gauge(
      'hookrelay_data_file_size_bytes',
      'Size of the data file, counting writes not yet synced.',
      single(readings.dataFileBytes),
    ),
    gauge(
      'hookrelay_data_file_writable',
      '1 while writes to the data file succeed; 0 after a failed write or sync until one succeeds.',
      single(readings.dataFileWritable ? 1 : 0),
    ),
    gauge(
      'hookrelay_process_resident_memory_bytes',
      'Resident memory of the relay process.',
      single(readings.memory.residentBytes),
    ),
    gauge(
      'hookrelay_heap_used_bytes',
      'JavaScript heap in use, garbage not yet collected included.',
      single(readings.memory.heapUsedBytes),
    ),
    gauge(
      'hookrelay_external_memory_bytes',
      'Memory held outside the JavaScript heap: buffers and the table of remembered event ids.',
      single(readings.memory.externalBytes),
    ),
    {
      name: 'hookrelay_fsync_duration_seconds',
      help: 'Time taken by the fdatasync of each group commit of the data file.',
      type: 'histogram',
      histogram: metrics.fsyncSeconds,
    },
    gauge(
      'hookrelay_config_last_reload_successful',
      '1 when the last reload of the config was applied in full, else 0.',
      single(metrics.lastReloadSucceeded ? 1 : 0),
    ),
    gauge(
      'hookrelay_config_last_reload_success_timestamp_seconds',
      'When the config was last applied in full (at startup or by a reload), in Unix seconds.',
      single(metrics.lastReloadAt / 1000),
    ),
  ];
}

function counter(name: string, help: string, samples: Sample[]): MetricFamily {
  return { name, help, type: 'counter', samples };
}

function gauge(name: string, help: string, samples: Sample[]): MetricFamily {
  return { name, help, type: 'gauge', samples };
}

/** One sample per entry of `values`, the entry's name as the value of `label`. */
function labelled(label: string, values: Readonly<Record<string, number>>): Sample[] {
  return Object.entries(values).map(([name, value]) => ({ labels: { [label]: name }, value }));
}
