import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * How the relay asks V8 to size its heap. Both settings are V8 flags that an operator may also
 * give on the command line (`node --heap-growing-percent=N …`) or, where Node allows it, in
 * NODE_OPTIONS; that choice is kept.
 */

/**
 * Under steady load most of what the relay allocates lives a little while (a delivery until it
 * is answered, history until it is trimmed) and is then garbage in V8's old generation. V8 lets
 * that generation grow to several times its live size before collecting it: a relay holding
 * 20 MB showed 200 to 340 MB resident, swinging with each collection. Growing the heap by at
 * most 30% between full collections keeps it near what is live, for a percent or two of
 * CPU. The setting is read whenever V8 sets its next limit, so changing it at startup works.
 */
export function keepHeapNearLiveSize(): void {
  if (chosenByOperator('--heap-growing-percent')) return;
  setFlagsFromString('--heap-growing-percent=30');
}

/** The young generation's size (both semi-spaces) that `capYoungGeneration` keeps to. */
export const YOUNG_GENERATION_CAP = 16 * 1024 * 1024;

/**
 * New objects are made in V8's young generation, two equal semi-spaces. V8 doubles them each
 * time as much as they hold has survived collections, up to 16 MB each on a 64-bit machine,
 * and every event the relay keeps survives, so a busy relay reaches the top in seconds: 32 MB
 * resident, a fifth of the relay's memory after a million events. With 8 MB semi-spaces the
 * relay takes in as many events per second (bench/ in the README) and holds 14 MB less.
 *
 * The limit proper, `--max-semi-space-size`, is read only when the heap is made, before any of
 * this runs. How much one growth multiplies the size is read at each growth, so after every
 * collection growth is allowed (factor 2) while the young generation is under the cap and
 * stopped (factor 1) once it is there. V8 shrinks it again when the relay is idle; growth then
 * resumes under load. A growth needs a full semi-space of survivors since the last one, which
 * takes several collections, so the check after each is in time except in one long
 * synchronous task (reading a large data file at startup): the young generation can then pass
 * the cap, to V8's own limit, as without this. A cap of 4 MB, one step above V8's starting
 * size, was also passed by one step in 2 of 24 runs on a machine starved of CPU; the 16 MB cap
 * held in all 24.
 */
export function capYoungGeneration(cap = YOUNG_GENERATION_CAP): void {
  const chosen = ['--max-semi-space-size', '--semi-space-growth-factor'].some(chosenByOperator);
  if (chosen) return;

  let factor = 2;
  const adjust = (): void => {
    const wanted = youngGenerationSize() < cap ? 2 : 1;
    if (wanted === factor) return;
    factor = wanted;
    setFlagsFromString(`--semi-space-growth-factor=${factor}`);
  };
  new PerformanceObserver(adjust).observe({ entryTypes: ['gc'] });
  adjust();
}

/** Bytes V8 has set aside for both semi-spaces. */
export function youngGenerationSize(): number {
  const space = getHeapSpaceStatistics().find((candidate) => candidate.space_name === 'new_space');
  return space?.space_size ?? 0;
}

/** Whether the operator gave `flag` to Node, on the command line or in NODE_OPTIONS. */
function chosenByOperator(flag: string): boolean {
  const spelled = [flag, flag.replaceAll('-', '_').replace(/^__/, '--')];
  const options = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return options.some((option) => spelled.some((name) => option.startsWith(name)));
}
