import { startReceivers } from './arrivals.js';
import { median, RELAY_BASE, targetsAt } from './common.js';
import { measureDeliveries, type DeliveryRun } from './delivery-rate.js';
import { startRelay } from './processes.js';
import { requireWrk } from './wrk.js';

/**
 * A slow target beside a fast one: the fast target's deliveries per second with a second target
 * that answers only after 2 s, against the same relay with the fast target alone. Both are
 * config targets on the root path, so every event goes to each. Load comes from wrk (install it
 * with `apt-get install wrk`); the rate, counted at the fast receiver only, is defined in
 * bench/delivery-rate.ts. The two setups take turns, each run in fresh processes.
 */

export interface SlowTargetResult {
  connections: number;
  loadSeconds: number;
  slowAnswerMs: number;
  alonePerSecond: number[];
  besideSlowPerSecond: number[];
  /** Median rate beside the slow target over median rate alone; the goal is at least 0.9. */
  ratio: number;
}

const CONNECTIONS = 50;
const SLOW_ANSWER_MS = 2_000;

export async function benchSlowTarget(rounds: number, seconds: number): Promise<SlowTargetResult> {
  requireWrk();
  const alone: DeliveryRun[] = [];
  const besideSlow: DeliveryRun[] = [];
  for (let turn = 0; turn < rounds; turn += 1) {
    alone.push(await fastTargetRun([0], seconds));
    besideSlow.push(await fastTargetRun([0, SLOW_ANSWER_MS], seconds));
  }

  const rates = (runs: DeliveryRun[]): number[] => runs.map((run) => run.deliveriesPerSecond);
  return {
    connections: CONNECTIONS,
    loadSeconds: seconds,
    slowAnswerMs: SLOW_ANSWER_MS,
    alonePerSecond: rates(alone).map(Math.round),
    besideSlowPerSecond: rates(besideSlow).map(Math.round),
    ratio: median(rates(besideSlow)) / median(rates(alone)),
  };
}

/** The first receiver is the fast one, and the only one counted. */
async function fastTargetRun(delaysMs: number[], seconds: number): Promise<DeliveryRun> {
  const receivers = await startReceivers(delaysMs);
  try {
    const relay = await startRelay({ ...RELAY_BASE, targets: targetsAt(receivers.urls) });
    try {
      const load = { url: relay.url, receivers, counted: [0], connections: CONNECTIONS, seconds };
      const run = await measureDeliveries(load);
      const setup = delaysMs.length === 1 ? 'alone' : 'beside the slow one';
      process.stderr.write(`  fast target ${setup}: ${Math.round(run.deliveriesPerSecond)}/s\n`);
      return run;
    } finally {
      await relay.stop();
    }
  } finally {
    await receivers.stop();
  }
}
