/**
 * How much the benchmarks do. The defaults are the full runs that issue 5 asks for; the
 * environment shrinks them for a smoke test, for example
 * `BENCH_ROUNDS=1 BENCH_SECONDS=2 BENCH_EVENTS=50000 npm run bench -- memory`:
 *
 *   BENCH_ROUNDS   turns each side takes, alternately, each in fresh processes
 *   BENCH_SECONDS  seconds of load in one measurement (each benchmark has its own default)
 *   BENCH_EVENTS   events the memory benchmark sends through the relay
 *
 * BENCH_RELAY_NODE_OPTIONS (bench/processes.ts) gives the relay's process Node options of its
 * own, to measure a V8 setting; the results then record it.
 */
export type SettingName = 'BENCH_ROUNDS' | 'BENCH_SECONDS' | 'BENCH_EVENTS';

export function benchSetting(name: SettingName, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;

  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name}=${text}: expected a positive number; unset, it is ${fallback}`);
  }
  return value;
}
