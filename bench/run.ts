import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchRestore } from './restore.js';

/**
 * Runs the benchmarks named on the command line (all of them by default), prints a table and
 * writes the figures with the machine they ran on to bench/results/latest.json.
 */

const benches: Record<string, () => Record<string, unknown>> = {
  restore: () => ({ ...benchRestore() }),
};

const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(benches);
const machine = {
  node: process.version,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  date: new Date().toISOString(),
};
const results: Record<string, unknown> = {};
for (const name of chosen) {
  const bench = benches[name];
  if (bench === undefined) throw new Error(`no benchmark called ${name} (have: ${Object.keys(benches).join(', ')})`);
  process.stderr.write(`running ${name}…\n`);
  results[name] = bench();
  process.stdout.write(`${name}: ${JSON.stringify(results[name])}\n`);
}

const folder = new URL('../../bench/results/', import.meta.url);
mkdirSync(folder, { recursive: true });
writeFileSync(new URL('latest.json', folder), `${JSON.stringify({ machine, results }, null, 2)}\n`);
