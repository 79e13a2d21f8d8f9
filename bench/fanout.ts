import { startReceivers } from './arrivals.js';
import { median, RELAY_BASE, round, targetsAt } from './common.js';
import { measureDeliveries, type DeliveryRun } from './delivery-rate.js';
import { startRelay, startScript, type Running } from './processes.js';
import { requireWrk } from './wrk.js';

/**
 * Fan-out: events delivered per second, end to end, to 1 and to 10 local receivers, by the relay
 * (each receiver a config target on the root path, so every event goes to each) against the
 * hand-written forwarder of bench/forwarder.ts, the ceiling. Load comes from wrk (install it with
 * `apt-get install wrk`) at a fixed number of connections; the rate is defined in
 * bench/delivery-rate.ts. The sides take turns, each run in fresh processes: receivers, then the
 * relay or the forwarder.
 */

export interface FanoutSide {
  forwarderPerSecond: number[];
  relayPerSecond: number[];
  /** Seconds the relay went on delivering after the load stopped, per run. */
  relayDrainSeconds: number[];
  /** Median relay rate over median forwarder rate; the goal with one receiver is at least 0.6. */
  ratio: number;
}

export interface FanoutResult {
  connections: number;
  loadSeconds: number;
  receivers1: FanoutSide;
  receivers10: FanoutSide;
  /** Median relay rate with 10 receivers over that with 1; the goal is at least 1. */
  relay10Over1: number;
}

const CONNECTIONS = 50;

export async function benchFanout(rounds: number, seconds: number): Promise<FanoutResult> {
  requireWrk();
  const runs = { 1: emptyRuns(), 10: emptyRuns() };
  for (let turn = 0; turn < rounds; turn += 1) {
    for (const count of [1, 10] as const) {
      for (const side of ['forwarder', 'relay'] as const) {
        runs[count][side].push(await oneRun(side, count, seconds));
      }
    }
  }

  const relayRate = (count: 1 | 10): number => median(runs[count].relay.map(perSecond));
  return {
    connections: CONNECTIONS,
    loadSeconds: seconds,
    receivers1: summarise(runs[1]),
    receivers10: summarise(runs[10]),
    relay10Over1: relayRate(10) / relayRate(1),
  };
}

type Runs = Record<Side, DeliveryRun[]>;

function emptyRuns(): Runs {
  return { forwarder: [], relay: [] };
}

const perSecond = (run: DeliveryRun): number => run.deliveriesPerSecond;

function summarise(runs: Runs): FanoutSide {
  return {
    forwarderPerSecond: runs.forwarder.map((run) => Math.round(perSecond(run))),
    relayPerSecond: runs.relay.map((run) => Math.round(perSecond(run))),
    relayDrainSeconds: runs.relay.map((run) => round(run.drainSeconds, 1)),
    ratio: median(runs.relay.map(perSecond)) / median(runs.forwarder.map(perSecond)),
  };
}

type Side = 'forwarder' | 'relay';

async function oneRun(side: Side, count: number, seconds: number): Promise<DeliveryRun> {
  const receivers = await startReceivers(new Array<number>(count).fill(0));
  let ingest: Running | null = null;
  try {
    ingest =
      side === 'relay'
        ? await startRelay({ ...RELAY_BASE, targets: targetsAt(receivers.urls) })
        : await startScript('forwarder', receivers.urls);
    const counted = receivers.urls.map((_url, index) => index);
    const load = { url: ingest.url, receivers, counted, connections: CONNECTIONS, seconds };
    const run = await measureDeliveries(load);
    const rate = Math.round(run.deliveriesPerSecond);
    process.stderr.write(`  fan-out, ${side} to ${count}: ${rate}/s\n`);
    return run;
  } finally {
    await ingest?.stop();
    await receivers.stop();
  }
}
