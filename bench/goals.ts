import { round } from './common.js';
import type { FanoutResult } from './fanout.js';
import type { IngestResult } from './ingest.js';
import { LATENCY_GOAL_MS, type LatencyResult } from './latency.js';
import type { MemoryResult } from './memory.js';
import type { RestoreResult } from './restore.js';
import type { SlowTargetResult } from './slow-target.js';

/**
 * The goals of issue 5, one line per figure: what was measured, against which goal, and whether
 * it was met. A figure without a goal is shown for context and judged neither way. Ratios are
 * shown to two places but judged as measured: 0.897 shows as 0.9 and misses a goal of 0.9.
 */

export interface Figure {
  figure: string;
  value: string;
  goal: string;
  /** Null for a figure shown for context only. */
  pass: boolean | null;
}

const perSecond = (values: readonly number[]): string => `${values.join(', ')} /s`;

export function ingestFigures(result: IngestResult): Figure[] {
  return [
    { connections: 100, goal: 0.8 },
    { connections: 10, goal: 0.4 },
  ].flatMap(({ connections, goal }) => {
    const side = result[`c${connections}`];
    if (side === undefined) return [];
    return [
      {
        figure: `ingest at ${connections} connections: relay / bare server, requests per second`,
        value:
          `${round(side.ratio)} (relay ${perSecond(side.relayRps)}; ` +
          `bare ${perSecond(side.bareRps)})`,
        goal: `>= ${goal}`,
        pass: side.ratio >= goal,
      },
      {
        figure: `ingest at ${connections} connections: minimal durable server / bare server`,
        value:
          `${round(side.batchedRatio)} (${perSecond(side.batchedRps)}): ` +
          'one write and fdatasync per batch',
        goal: '',
        pass: null,
      },
    ];
  });
}

export function fanoutFigures(result: FanoutResult): Figure[] {
  const value = (side: FanoutResult['receivers1']): string =>
    `${round(side.ratio)} (relay ${perSecond(side.relayPerSecond)}; ` +
    `forwarder ${perSecond(side.forwarderPerSecond)})`;
  return [
    {
      figure: 'fan-out to 1 receiver: relay / forwarder, deliveries per second',
      value: value(result.receivers1),
      goal: '>= 0.6',
      pass: result.receivers1.ratio >= 0.6,
    },
    {
      figure: 'fan-out to 10 receivers: relay / forwarder, deliveries per second',
      value: value(result.receivers10),
      goal: '',
      pass: null,
    },
    {
      figure: 'fan-out: relay deliveries per second to 10 receivers / to 1',
      value: String(round(result.relay10Over1)),
      goal: '>= 1',
      pass: result.relay10Over1 >= 1,
    },
  ];
}

export function latencyFigures(result: LatencyResult): Figure[] {
  const { relay, forwarder } = result;
  const missing = relay.missing > 0 ? `; ${relay.missing} never arrived` : '';
  return [
    {
      figure: `latency ingest to receiver at ${result.eventsPerSecond} events/s: relay p99`,
      value:
        `${relay.p99Ms} ms (p50 ${relay.p50Ms} ms; forwarder p50 ${forwarder.p50Ms}, ` +
        `p99 ${forwarder.p99Ms} ms${missing})`,
      goal: `< ${LATENCY_GOAL_MS} ms`,
      pass: relay.p99Ms < LATENCY_GOAL_MS && relay.missing === 0,
    },
    {
      figure: `latency: events at ${LATENCY_GOAL_MS} ms or more in each measured second, all runs`,
      value: `relay ${relay.slowBySecond.join(' ')}; forwarder ${forwarder.slowBySecond.join(' ')}`,
      goal: '',
      pass: null,
    },
  ];
}

export function restoreFigures(result: RestoreResult): Figure[] {
  const seconds = (values: readonly number[]): string =>
    `${values.map((ms) => (ms / 1000).toFixed(2)).join(', ')} s`;
  return [
    {
      figure: `restore ${result.records} records: relay / bare JSON.parse, time`,
      value:
        `${round(result.ratio)} (relay ${seconds(result.relayMs)}; ` +
        `bare ${seconds(result.bareMs)})`,
      goal: '<= 3',
      pass: result.ratio <= 3,
    },
    {
      figure: 'restore: peak RSS of the relay',
      value: `${Math.round(result.relayPeakRssBytes / 1e6)} MB`,
      goal: '',
      pass: null,
    },
  ];
}

export function memoryFigures(result: MemoryResult): Figure[] {
  return [
    {
      figure: `memory after ${result.events} events, history ${result.maxPerTarget}: relay RSS`,
      value: `${result.finalRssMB} MB (largest ${result.maxRssMB} MB)`,
      goal: '< 150 MB',
      pass: result.finalRssMB < 150 && result.maxRssMB < 150,
    },
    {
      figure: 'memory: largest RSS of the second half / of the first half',
      value:
        `${round(result.growth)} ` +
        `(${result.secondHalfMaxRssMB} / ${result.firstHalfMaxRssMB} MB)`,
      goal: '<= 1.1 (flat)',
      pass: result.flat,
    },
  ];
}

export function slowTargetFigures(result: SlowTargetResult): Figure[] {
  return [
    {
      figure:
        `slow target (answers after ${result.slowAnswerMs / 1000} s): ` +
        'fast target beside it / alone, deliveries per second',
      value:
        `${round(result.ratio)} (beside ${perSecond(result.besideSlowPerSecond)}; ` +
        `alone ${perSecond(result.alonePerSecond)})`,
      goal: '>= 0.9',
      pass: result.ratio >= 0.9,
    },
  ];
}
