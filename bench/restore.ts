import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDataFile } from './restore-data.js';

/**
 * Restart speed: how long the relay takes to restore a data file of 1,000,000 records, against
 * the ceiling of reading the same file line by line and JSON.parse-ing each line. Each side runs
 * in a fresh process, the two sides alternately, `rounds` times each.
 */

export interface RestoreResult {
  records: number;
  fileBytes: number;
  bareMs: number[];
  relayMs: number[];
  relayPeakRssBytes: number;
  /** Median relay time over median bare time; the goal is at most 3. */
  ratio: number;
}

const worker = fileURLToPath(new URL('./restore-worker.js', import.meta.url));

export function benchRestore(records = 1_000_000, rounds = 3): RestoreResult {
  const file = join(tmpdir(), `hookrelay-bench-restore-${records}.jsonl`);
  if (!existsSync(file)) writeDataFile(file, records);

  const bareMs: number[] = [];
  const relayMs: number[] = [];
  let relayPeakRssBytes = 0;
  for (let round = 0; round < rounds; round += 1) {
    for (const mode of ['bare', 'relay'] as const) {
      const output = execFileSync(process.execPath, [worker, mode, file], { encoding: 'utf8' });
      const run = JSON.parse(output) as { ms: number; records: number; peakRssBytes: number };
      if (run.records !== records) {
        throw new Error(`${mode} read ${run.records} records, not ${records}`);
      }
      (mode === 'bare' ? bareMs : relayMs).push(Math.round(run.ms));
      if (mode === 'relay') relayPeakRssBytes = Math.max(relayPeakRssBytes, run.peakRssBytes);
    }
  }
  const ratio = median(relayMs) / median(bareMs);
  return {
    records,
    fileBytes: statSync(file).size,
    bareMs,
    relayMs,
    relayPeakRssBytes,
    ratio,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
