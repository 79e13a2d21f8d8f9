import { startScript, type Running } from './processes.js';
import type { Tally } from './receivers.js';
import { sleep } from './common.js';

/** The receivers process (bench/receivers.ts) seen from a benchmark: its URLs and its counts. */
export interface Receivers {
  urls: string[];
  tallies(): Promise<Tally[]>;
  /** Starts every count over, so that a measurement leaves its warm-up out. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts one receiver per delay: each answers 200 after that many milliseconds. */
export async function startReceivers(delaysMs: readonly number[]): Promise<Receivers> {
  const running: Running = await startScript('receivers', delaysMs.map(String));
  const control = running.url;
  const read = async (method: 'GET' | 'POST', path: string): Promise<Tally[]> => {
    const response = await fetch(`${control}${path}`, { method });
    return ((await response.json()) as { receivers: Tally[] }).receivers;
  };
  return {
    urls: running.info.receivers as string[],
    tallies: () => read('GET', '/arrivals'),
    reset: async () => {
      await read('POST', '/reset');
    },
    stop: () => running.stop(),
  };
}

/** How long arrivals may stand still, while some are still owed, before a run counts as stalled. */
const STALL_MS = 20_000;

/**
 * Waits until each of the receivers at `counted` has had `expected` arrivals. Throws when the
 * arrivals stop growing for a while short of that: a stalled relay must fail the benchmark,
 * not hang it.
 */
export async function awaitArrivals(
  receivers: Receivers,
  counted: readonly number[],
  expected: number,
): Promise<Tally[]> {
  let progressAt = Date.now();
  let lastTotal = -1;
  for (;;) {
    const tallies = await receivers.tallies();
    const chosen = counted.map((index) => tallies[index] ?? { arrivals: 0, firstMs: 0, lastMs: 0 });
    if (chosen.every((tally) => tally.arrivals >= expected)) return chosen;

    const total = chosen.reduce((sum, tally) => sum + tally.arrivals, 0);
    if (total !== lastTotal) {
      lastTotal = total;
      progressAt = Date.now();
    } else if (Date.now() - progressAt > STALL_MS) {
      const owed = expected * chosen.length;
      throw new Error(`deliveries stalled: ${total} of ${owed} arrived, none for ${STALL_MS} ms`);
    }
    await sleep(100);
  }
}
