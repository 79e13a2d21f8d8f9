import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { activityWindow, countActivity } from '../src/activity.js';
import type { Clock } from '../src/clock.js';
import { parseConfig } from '../src/config.js';
import type { Sender } from '../src/dispatcher.js';
import { startRelay, type Relay } from '../src/relay.js';
import { EVENT_BODY, median, percentile, RELAY_BASE, round, signed } from './common.js';
import type { Figure } from './goals.js';

/**
 * What the status page costs the relay. A relay in this process holds 300 targets and 5,000
 * deliveries from the last hour, behind 20,000 older ones; the page's refresh asks for the
 * activity of every target, the target list and the status. Each is asked 200 times in turn and
 * timed from the client, and the counting alone is timed without HTTP. Deliveries are answered by
 * a stub (one in ten fails), so nothing is dialled.
 */

const TARGETS = 300;
const RECENT = 5_000;
const OLDER = 20_000;
const REQUESTS = 200;
const KEY = 'bench-read-key-0123456789';
const HOUR = 3_600_000;

/** A clock the benchmark sets while it ingests, so events fall where it wants in time. */
class SettableClock implements Clock {
  current = Date.now();
  now(): number {
    return this.current;
  }
  schedule(delayMs: number, callback: () => void): () => void {
    const timer = setTimeout(callback, delayMs);
    return () => clearTimeout(timer);
  }
}

const stub: Sender = {
  send: async (request) => {
    const fails = request.body.includes('"fail"');
    return fails ? { statusCode: 500, error: 'HTTP 500: ' } : { statusCode: 200, error: null };
  },
};

interface Timing {
  median: number;
  p99: number;
}

export interface ActivityResult {
  targets: number;
  deliveriesInWindow: number;
  deliveriesOlder: number;
  activityMs: Timing;
  activityBytes: number;
  targetListMs: Timing;
  statusMs: Timing;
  countingOnlyMs: Timing;
}

/**
 * The page reads the target list on every refresh anyway, so the aggregate is judged against
 * it: the charts of every target should cost no more than the list of them.
 */
export function activityFigures(result: ActivityResult): Figure[] {
  const { activityMs, targetListMs, countingOnlyMs } = result;
  const ratio = activityMs.median / targetListMs.median;
  return [
    {
      figure:
        `status page: GET /api/v1/activity (${result.targets} targets, ` +
        `${result.deliveriesInWindow} deliveries in the hour) / GET /api/v1/webhooks/, median`,
      value:
        `${round(ratio)} (activity ${activityMs.median} ms, p99 ${activityMs.p99} ms; ` +
        `target list ${targetListMs.median} ms; counting alone ${countingOnlyMs.median} ms)`,
      goal: '<= 1',
      pass: ratio <= 1,
    },
  ];
}

export async function benchActivity(): Promise<ActivityResult> {
  const folder = mkdtempSync(join(tmpdir(), 'hookrelay-bench-activity-'));
  const clock = new SettableClock();
  const relay = await startRelay({ config: relayConfig(folder), clock, sender: stub });
  try {
    await fill(relay, clock);
    clock.current = Date.now();
    return {
      targets: TARGETS,
      deliveriesInWindow: RECENT,
      deliveriesOlder: OLDER,
      activityMs: await timed(relay, '/api/v1/activity?minutes=60&buckets=12'),
      activityBytes: (await get(relay, '/api/v1/activity')).length,
      targetListMs: await timed(relay, '/api/v1/webhooks/'),
      statusMs: await timed(relay, '/api/v1/status'),
      countingOnlyMs: countingOnly(relay, clock.now()),
    };
  } finally {
    await relay.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

function relayConfig(folder: string) {
  const config = {
    ...RELAY_BASE,
    listen: { host: '127.0.0.1', port: 0 },
    dataFile: join(folder, 'relay.jsonl'),
    apiKeys: [{ key: KEY, scopes: ['read:webhooks', 'write:webhooks'] }],
    delivery: { retryDelaysMs: [], jitterMs: 0 },
    security: { ...RELAY_BASE.security, maxAuthFailuresPerMinute: 1_000 },
  };
  return parseConfig(JSON.stringify(config), join(folder, 'relay.json'), {});
}

/** Targets on raw/t0 … raw/t299; older events 2 to 3 hours back, the recent ones in the hour. */
async function fill(relay: Relay, clock: SettableClock): Promise<void> {
  for (let index = 0; index < TARGETS; index += 1) {
    const url = `http://127.0.0.1:9/t${index}`;
    const response = await call(relay, 'POST', `/api/v1/webhooks/target/raw/t${index}`, { url });
    if (response.status !== 200) throw new Error(`registration answered ${response.status}`);
  }
  const now = Date.now();
  await ingestSpread(relay, clock, OLDER, now - 3 * HOUR, now - 2 * HOUR);
  await ingestSpread(relay, clock, RECENT, now - HOUR + 60_000, now);
}

/** `count` events, each for one target, their times spread evenly from `from` to `to`. */
async function ingestSpread(
  relay: Relay,
  clock: SettableClock,
  count: number,
  from: number,
  to: number,
): Promise<void> {
  const batch = 50;
  for (let start = 0; start < count; start += batch) {
    clock.current = from + ((to - from) * start) / count;
    const sends = [];
    for (let index = start; index < Math.min(count, start + batch); index += 1) {
      const key = index % 10 === 0 ? 'fail' : 'ok';
      const path = `"t${index % TARGETS}", "${key}"`;
      const body = EVENT_BODY.replace('"beamline2", "scan_0001"', path);
      sends.push(fetch(`${relay.url}/ingest`, { method: 'POST', headers: signed(body), body }));
    }
    for (const response of await Promise.all(sends)) {
      if (response.status !== 202) throw new Error(`ingest answered ${response.status}`);
    }
  }
  while (relay.dispatcher.backlog.running + relay.dispatcher.backlog.ready > 0) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function timed(relay: Relay, path: string): Promise<Timing> {
  await get(relay, path);
  const times: number[] = [];
  for (let request = 0; request < REQUESTS; request += 1) {
    const started = performance.now();
    await get(relay, path);
    times.push(performance.now() - started);
  }
  return { median: round(median(times), 3), p99: round(percentile(times, 0.99), 3) };
}

function countingOnly(relay: Relay, now: number): Timing {
  const window = activityWindow(now, 60, 12);
  const times: number[] = [];
  for (let turn = 0; turn < REQUESTS; turn += 1) {
    const started = performance.now();
    for (const target of relay.store.state.targets.values()) countActivity(target.history, window);
    times.push(performance.now() - started);
  }
  return { median: round(median(times), 3), p99: round(percentile(times, 0.99), 3) };
}

async function get(relay: Relay, path: string): Promise<string> {
  const response = await call(relay, 'GET', path);
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
  return response.text();
}

function call(relay: Relay, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Apikey ${KEY}` };
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return fetch(`${relay.url}${path}`, init);
}
