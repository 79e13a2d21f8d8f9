import { awaitArrivals, type Receivers } from './arrivals.js';
import { EVENT_BODY, nowMs, signed } from './common.js';
import { settledEventCount } from './status.js';
import { runWrkInBackground, type WrkOptions } from './wrk.js';

/**
 * One measurement of delivery throughput, end to end, shared by the fan-out and slow-target
 * benchmarks. Needs wrk (apt-get install wrk).
 *
 * wrk posts events to the ingest side (the relay, or the forwarder that is its ceiling) with a
 * fixed number of connections for a fixed time. The rate is then every arrival at the counted
 * receivers, divided by the time from the first of those arrivals to the last, read on the
 * receivers' own clock; the run ends only when every event the ingest side took in has reached
 * every counted receiver. A side that takes events in faster than it delivers them thus pays for
 * its backlog: the time to drain it is inside the span. Counting arrivals only while the load
 * runs would instead reward a side for deferring its deliveries.
 */

export interface DeliveryRun {
  /** Events the ingest side took in during the measured load. */
  events: number;
  /** Arrivals at the counted receivers, all together. */
  arrivals: number;
  /** From the first counted arrival to the last. */
  spanSeconds: number;
  deliveriesPerSecond: number;
  /** From the end of the load to the last arrival: how far behind the deliveries were. */
  drainSeconds: number;
}

export interface DeliveryLoad {
  /** The ingest side's base URL; events go to its /ingest. */
  url: string;
  receivers: Receivers;
  /** Indexes of the receivers whose arrivals count; others may receive and are ignored. */
  counted: readonly number[];
  connections: number;
  seconds: number;
}

const WARM_UP_SECONDS = 1;

export async function measureDeliveries(load: DeliveryLoad): Promise<DeliveryRun> {
  await deliverFor(load, WARM_UP_SECONDS, await settledEventCount(load.url));
  await load.receivers.reset();

  const before = await settledEventCount(load.url);
  const { events, loadEndMs } = await deliverFor(load, load.seconds, before);
  const tallies = await load.receivers.tallies();
  const chosen = load.counted.map((index) => tallies[index]);

  const firstMs = Math.min(...chosen.map((tally) => tally?.firstMs ?? Infinity));
  const lastMs = Math.max(...chosen.map((tally) => tally?.lastMs ?? 0));
  const arrivals = chosen.reduce((sum, tally) => sum + (tally?.arrivals ?? 0), 0);
  const spanSeconds = (lastMs - firstMs) / 1000;
  return {
    events,
    arrivals,
    spanSeconds,
    deliveriesPerSecond: arrivals / spanSeconds,
    drainSeconds: Math.max(0, (lastMs - loadEndMs) / 1000),
  };
}

/** Puts load on for `seconds`, then waits until every event taken in has been delivered. */
async function deliverFor(
  load: DeliveryLoad,
  seconds: number,
  before: number,
): Promise<{ events: number; loadEndMs: number }> {
  const result = await runWrkInBackground(wrkOptions(load, seconds));
  const loadEndMs = nowMs();
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`ingest at ${load.url} failed under load: ${JSON.stringify(result)}`);
  }

  // The counts start from zero with each phase: the receivers are fresh, or have just been reset
  // after every warm-up event arrived. So each counted receiver is owed one arrival per event.
  const events = (await settledEventCount(load.url)) - before;
  await awaitArrivals(load.receivers, load.counted, events);
  return { events, loadEndMs };
}

function wrkOptions(load: DeliveryLoad, seconds: number): WrkOptions {
  return {
    url: load.url,
    path: '/ingest',
    body: EVENT_BODY,
    headers: signed(EVENT_BODY),
    connections: load.connections,
    seconds,
  };
}
