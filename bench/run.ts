import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchActivity } from './activity.js';
import { benchIngest } from './ingest.js';
import { benchRestore } from './restore.js';

/**
 * Runs the benchmarks named on the command line (all of them by default), prints a table and
 * writes the figures with the machine they ran on to bench/results/latest.json.
 */

const benches: Record<string, () => Promise<Record<string, unknown>> | Record<string, unknown>> = {
  ingest: () => benchIngest(),
  restore: () => ({ ...benchRestore() }),
  activity: () => benchActivity(),
};

const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(benches);
const machine = {
  node: process.version,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  date: new Date().toISOString(),
};
const folder = new URL('../../bench/results/', import.meta.url);
const latest = new URL('latest.json', folder);
// Results of benchmarks not run this time are kept, each with the machine and date of its run.
const results = existsSync(latest)
  ? ((JSON.parse(readFileSync(latest, 'utf8')) as { results?: Record<string, unknown> }).results ?? {})
  : {};
for (const name of chosen) {
  const bench = benches[name];
  if (bench === undefined) throw new Error(`no benchmark called ${name} (have: ${Object.keys(benches).join(', ')})`);
  process.stderr.write(`running ${name}…\n`);
  const result = await bench();
  results[name] = { ...result, machine };
  process.stdout.write(`${name}: ${JSON.stringify(result)}\n`);
}

mkdirSync(folder, { recursive: true });
writeFileSync(latest, `${JSON.stringify({ results }, null, 2)}\n`);
