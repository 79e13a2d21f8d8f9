import { awaitArrivals, startReceivers, type Receivers } from './arrivals.js';
import { EVENT_BODY, RELAY_BASE, round, signed, sleep, targetsAt } from './common.js';
import { startRelay, type RelayProcess } from './processes.js';
import { readStatus, settledEventCount } from './status.js';
import { requireWrk, runWrkInBackground } from './wrk.js';

/**
 * Memory: the relay's resident set size while 1,000,000 events (BENCH_EVENTS for a smaller run)
 * go through one target with history capped at 10,000 settled deliveries, retention checked
 * every second so that it runs many times during the benchmark. Load comes from wrk (install it
 * with `apt-get install wrk`) in bursts of a few seconds; after each burst the benchmark waits
 * until every event taken in has reached the receiver. What is measured is thus the memory of
 * the history the relay keeps, not of a backlog that grows when deliveries fall behind ingest.
 *
 * RSS is sampled once a second, and once more at the end; sizes are in MB of 10^6 bytes, the
 * unit of the goal (under 150 MB). The run is flat when the largest sample of its second half
 * (by events taken in) is at most 10% above the largest of its first half.
 */

export interface MemorySample {
  seconds: number;
  events: number;
  pendingDeliveries: number;
  rssMB: number;
  dataFileMB: number;
}

export interface MemoryResult {
  events: number;
  maxPerTarget: number;
  seconds: number;
  finalRssMB: number;
  maxRssMB: number;
  firstHalfMaxRssMB: number;
  secondHalfMaxRssMB: number;
  /** Second half's largest sample over the first half's; flat when at most FLAT_GROWTH. */
  growth: number;
  flat: boolean;
  finalDataFileMB: number;
  samples: MemorySample[];
}

const MAX_PER_TARGET = 10_000;
const CHECK_INTERVAL_MS = 1_000;
const CONNECTIONS = 50;
const LONGEST_BURST_SECONDS = 5;
const FLAT_GROWTH = 1.1;
const MB = 1e6;

export async function benchMemory(events: number): Promise<MemoryResult> {
  requireWrk();
  const receivers = await startReceivers([0]);
  const relay = await startRelay({
    ...RELAY_BASE,
    targets: targetsAt(receivers.urls),
    history: { maxPerTarget: MAX_PER_TARGET },
    compaction: { checkIntervalMs: CHECK_INTERVAL_MS },
  });
  const sampler = startSampler(relay);
  try {
    await sendThrough(relay, receivers, events);
    // A few more retention checks, so that the last sample follows the trimming of the end.
    await sleep(3 * CHECK_INTERVAL_MS);
    const samples = await sampler.stop();
    const final = await sampler.sample();
    return summarise([...samples, final]);
  } finally {
    await sampler.stop().catch(() => []);
    await relay.stop();
    await receivers.stop();
  }
}

/** Bursts of wrk, each followed by a wait for its deliveries, until `events` are in. */
async function sendThrough(
  relay: RelayProcess,
  receivers: Receivers,
  events: number,
): Promise<void> {
  let ingested = 0;
  let perSecond = 5_000;
  while (ingested < events) {
    const wanted = Math.ceil((events - ingested) / perSecond);
    const seconds = Math.min(LONGEST_BURST_SECONDS, Math.max(1, wanted));
    const load = { url: relay.url, path: '/ingest', body: EVENT_BODY, headers: signed(EVENT_BODY) };
    const result = await runWrkInBackground({ ...load, connections: CONNECTIONS, seconds });
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`ingest failed under load: ${JSON.stringify(result)}`);
    }

    const now = await settledEventCount(relay.url);
    perSecond = Math.max(1, (now - ingested) / seconds);
    ingested = now;
    await awaitArrivals(receivers, [0], ingested);
    process.stderr.write(`  memory: ${ingested} events, ${Math.round(relay.rssBytes() / MB)} MB\n`);
  }
}

interface Sampler {
  sample(): Promise<MemorySample>;
  /** Stops sampling once a second (again is harmless) and gives the samples so far. */
  stop(): Promise<MemorySample[]>;
}

function startSampler(relay: RelayProcess): Sampler {
  const samples: MemorySample[] = [];
  const started = Date.now();
  const sample: Sampler['sample'] = async () => {
    const status = await readStatus(relay.url);
    return {
      seconds: Math.round((Date.now() - started) / 1000),
      events: status.events_ingested,
      pendingDeliveries: status.pending_deliveries ?? 0,
      rssMB: round(relay.rssBytes() / MB, 1),
      dataFileMB: round((status.data_file_bytes ?? 0) / MB, 1),
    };
  };

  // A failed sample (the relay died) ends the loop and is thrown by stop(), not left unhandled.
  let running = true;
  let failure: unknown = null;
  const loop = (async () => {
    while (running) {
      samples.push(await sample());
      await sleep(1_000);
    }
  })().catch((error: unknown) => {
    failure = error;
  });
  return {
    sample,
    async stop() {
      running = false;
      await loop;
      if (failure !== null) throw failure;
      return samples;
    },
  };
}

function summarise(samples: MemorySample[]): MemoryResult {
  const last = samples.at(-1);
  const events = last?.events ?? 0;
  const largest = (chosen: MemorySample[]): number =>
    chosen.reduce((most, sample) => Math.max(most, sample.rssMB), 0);
  const firstHalfMax = largest(samples.filter((sample) => sample.events <= events / 2));
  const secondHalfMax = largest(samples.filter((sample) => sample.events > events / 2));
  const growth = secondHalfMax / firstHalfMax;
  return {
    events,
    maxPerTarget: MAX_PER_TARGET,
    seconds: last?.seconds ?? 0,
    finalRssMB: last?.rssMB ?? 0,
    maxRssMB: largest(samples),
    firstHalfMaxRssMB: firstHalfMax,
    secondHalfMaxRssMB: secondHalfMax,
    growth,
    flat: growth <= FLAT_GROWTH,
    finalDataFileMB: last?.dataFileMB ?? 0,
    samples,
  };
}
