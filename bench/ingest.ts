import { EVENT_BODY, median, RELAY_BASE, signed } from './common.js';
import { startRelay, startScript, type Running } from './processes.js';
import { requireWrk, runWrk, type WrkResult } from './wrk.js';

/**
 * Ingest throughput and latency at 10 and 100 connections: the relay (every 202 fsync'd, no
 * targets) against a bare node:http server that parses the body and answers 202 (the ceiling).
 * For context, a third side shows what a minimal durable server reaches on the same machine
 * (batched-ingest.ts: one write and one fdatasync for the requests in flight). The sides take
 * turns, each in a fresh process, warmed up for a second before each measurement. Load comes
 * from wrk: install it with `apt-get install wrk` when it is missing.
 */
export interface IngestSide {
  bareRps: number[];
  relayRps: number[];
  batchedRps: number[];
  /** Median relay rate over median bare rate. */
  ratio: number;
  /** Median rate of the minimal durable server over median bare rate. */
  batchedRatio: number;
  bareP50Ms: number;
  bareP99Ms: number;
  relayP50Ms: number;
  relayP99Ms: number;
}

/** Keyed `c10` and `c100`, by connections. */
export type IngestResult = Record<string, IngestSide>;

type Side = 'bare' | 'relay' | 'batched';

const SIDES: readonly Side[] = ['bare', 'relay', 'batched'];
const SCRIPTS = { bare: 'bare-ingest', batched: 'batched-ingest' } as const;

export async function benchIngest(rounds: number, seconds: number): Promise<IngestResult> {
  requireWrk();
  const runs: Record<string, Record<Side, WrkResult[]>> = {
    '10': { bare: [], relay: [], batched: [] },
    '100': { bare: [], relay: [], batched: [] },
  };
  for (let turn = 0; turn < rounds; turn += 1) {
    for (const side of SIDES) {
      const server: Running =
        side === 'relay' ? await startRelay(RELAY_BASE) : await startScript(SCRIPTS[side]);
      for (const connections of [10, 100]) {
        const load = {
          url: server.url,
          path: '/ingest',
          body: EVENT_BODY,
          headers: signed(EVENT_BODY),
          connections,
        };
        runWrk({ ...load, seconds: 1 });
        const result = runWrk({ ...load, seconds });
        if (result.non2xx > 0 || result.errors > 0) {
          throw new Error(`${side} at ${connections}: ${JSON.stringify(result)}`);
        }
        runs[String(connections)]?.[side].push(result);
      }
      await server.stop();
    }
  }

  const summary: IngestResult = {};
  for (const [connections, sides] of Object.entries(runs)) {
    const rate = (side: Side) => median(sides[side].map((run) => run.requestsPerSecond));
    const rates = (side: Side) => sides[side].map((run) => Math.round(run.requestsPerSecond));
    summary[`c${connections}`] = {
      bareRps: rates('bare'),
      relayRps: rates('relay'),
      batchedRps: rates('batched'),
      ratio: rate('relay') / rate('bare'),
      batchedRatio: rate('batched') / rate('bare'),
      bareP50Ms: median(sides.bare.map((run) => run.p50Ms)),
      bareP99Ms: median(sides.bare.map((run) => run.p99Ms)),
      relayP50Ms: median(sides.relay.map((run) => run.p50Ms)),
      relayP99Ms: median(sides.relay.map((run) => run.p99Ms)),
    };
  }
  return summary;
}
