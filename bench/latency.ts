import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import {
  EVENT_BODY,
  listenLocal,
  percentile,
  RELAY_BASE,
  round,
  signed,
  sleep,
  targetsAt,
} from './common.js';
import { sendAtRate, type OutgoingEvent } from './open-loop.js';
import { startRelay, startScript, type Running } from './processes.js';

/**
 * Latency from ingest to arrival: events go in at a steady rate from an open-loop node:http
 * generator, and a receiver in this same process notes when each one arrives, so both times are
 * read on one clock. wrk cannot take part: it never sees the receiver. The relay delivers to the
 * receiver as a config target; the forwarder of bench/forwarder.ts, which posts each body on at
 * once, shows what the machine and the two extra hops cost without the relay.
 *
 * A delivery carries a different X-Tiled-Event-ID from the one sent (the relay makes one per
 * event and target), so events are told apart by their body: the event is the benchmark's usual
 * one with its last path element, and key, numbered `scan_<n>`. Latency runs from the moment
 * request n is handed to node:http to the moment its delivery's headers arrive. The first second
 * warms up and is left out. The sides take turns, each run in fresh processes.
 */

export interface LatencySide {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The p99 of each run on its own. */
  runP99Ms: number[];
  /** Events sent and never delivered, all runs together; any is a failure. */
  missing: number;
  /** How far the generator fell behind its schedule at worst: its own share of the latency. */
  generatorLagMs: number;
  /**
   * Events of all runs together that took the goal's time or longer (or never arrived), in each
   * measured second: whether the tail is spread over the run or falls in one part of it.
   */
  slowBySecond: number[];
}

export interface LatencyResult {
  eventsPerSecond: number;
  seconds: number;
  relay: LatencySide;
  forwarder: LatencySide;
}

type Side = 'forwarder' | 'relay';

/** The p99 the relay is held to (issue 5). */
export const LATENCY_GOAL_MS = 10;
const WARM_UP_SECONDS = 1;
const NUMBERED = /"key": "scan_(\d+)"/;

export async function benchLatency(
  rounds: number,
  seconds: number,
  rate = 1_000,
): Promise<LatencyResult> {
  const runs = { relay: [] as Run[], forwarder: [] as Run[] };
  for (let turn = 0; turn < rounds; turn += 1) {
    for (const side of ['forwarder', 'relay'] as const) {
      runs[side].push(await oneRun(side, rate, seconds));
    }
  }
  return {
    eventsPerSecond: rate,
    seconds,
    relay: summarise(runs.relay),
    forwarder: summarise(runs.forwarder),
  };
}

interface Run {
  /** Of each measured event in milliseconds; NaN for one that never arrived. */
  latencies: Float64Array;
  generatorLagMs: number;
  /** Events at the goal's time or longer in each measured second. */
  slowBySecond: number[];
}

async function oneRun(side: Side, rate: number, seconds: number): Promise<Run> {
  const count = rate * (WARM_UP_SECONDS + seconds);
  const probe = await startProbe(count);
  let ingest: Running | null = null;
  try {
    ingest =
      side === 'relay'
        ? await startRelay({ ...RELAY_BASE, targets: targetsAt([probe.url]) })
        : await startScript('forwarder', [probe.url]);
    const events = numberedEvents(count);
    const sent = await sendAtRate({ url: `${ingest.url}/ingest`, rate, events });
    if (sent.failures > 0) throw new Error(`${side}: ${sent.failures} events were not accepted`);
    await probe.settle(count);

    const warmUp = rate * WARM_UP_SECONDS;
    const latencies = probe.arrivedAt
      .subarray(warmUp)
      .map((arrived, index) => arrived - (sent.sentAt[warmUp + index] ?? NaN));
    const p99 = round(percentile(measured(latencies), 0.99));
    const slow = slowBySecond(latencies, rate);
    process.stderr.write(`  latency, ${side}: p99 ${p99} ms; slow by second: ${slow.join(' ')}\n`);
    return { latencies, generatorLagMs: sent.maxLagMs, slowBySecond: slow };
  } finally {
    await ingest?.stop();
    probe.server.close();
    probe.server.closeAllConnections();
  }
}

function numberedEvents(count: number): OutgoingEvent[] {
  const run = randomBytes(8).toString('hex');
  return Array.from({ length: count }, (_unused, n) => {
    const body = EVENT_BODY.replaceAll('scan_0001', `scan_${String(n).padStart(7, '0')}`);
    const id = `${run}${n.toString(16).padStart(16, '0')}`;
    return { body, headers: { ...signed(body), 'X-Tiled-Event-ID': id } };
  });
}

interface Probe {
  url: string;
  server: Server;
  /** performance.now() at the first arrival of event n, NaN until it arrives. */
  arrivedAt: Float64Array;
  /** Waits until every event has arrived, or until none has arrived for a while. */
  settle(count: number): Promise<void>;
}

const SETTLE_QUIET_MS = 10_000;

async function startProbe(count: number): Promise<Probe> {
  const arrivedAt = new Float64Array(count).fill(NaN);
  let arrivals = 0;
  let lastArrival = performance.now();
  const server = createServer((request, response) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const n = Number(NUMBERED.exec(Buffer.concat(chunks).toString('utf8'))?.[1] ?? -1);
      if (n >= 0 && n < count && Number.isNaN(arrivedAt[n])) {
        arrivedAt[n] = at;
        arrivals += 1;
        lastArrival = at;
      }
      response.writeHead(200, { 'Content-Length': '0' });
      response.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  const url = await listenLocal(server);
  const settle = async (expected: number): Promise<void> => {
    while (arrivals < expected && performance.now() - lastArrival < SETTLE_QUIET_MS) {
      await sleep(50);
    }
  };
  return { url, server, arrivedAt, settle };
}

function measured(latencies: Float64Array): number[] {
  return Array.from(latencies).filter((latency) => !Number.isNaN(latency));
}

function slowBySecond(latencies: Float64Array, rate: number): number[] {
  const counts = new Array<number>(Math.ceil(latencies.length / rate)).fill(0);
  latencies.forEach((latency, index) => {
    // NaN, an event that never arrived, counts as slow.
    if (latency < LATENCY_GOAL_MS) return;
    const second = Math.floor(index / rate);
    counts[second] = (counts[second] ?? 0) + 1;
  });
  return counts;
}

function summarise(runs: Run[]): LatencySide {
  const all = runs.flatMap((run) => measured(run.latencies));
  const missing = runs.reduce((sum, run) => sum + run.latencies.length, 0) - all.length;
  return {
    p50Ms: round(percentile(all, 0.5)),
    p99Ms: round(percentile(all, 0.99)),
    maxMs: round(all.reduce((most, latency) => Math.max(most, latency), 0)),
    runP99Ms: runs.map((run) => round(percentile(measured(run.latencies), 0.99))),
    missing,
    generatorLagMs: round(runs.reduce((most, run) => Math.max(most, run.generatorLagMs), 0)),
    slowBySecond: runs
      .map((run) => run.slowBySecond)
      .reduce((sums, counts) => counts.map((count, second) => count + (sums[second] ?? 0))),
  };
}
