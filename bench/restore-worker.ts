import { closeSync, openSync, readSync } from 'node:fs';
import { systemClock } from '../src/clock.js';
import { Journal } from '../src/journal.js';
import { silentLogger } from '../src/log.js';
import { SecretBox } from '../src/secret-box.js';
import { RelayState } from '../src/state.js';

/**
 * One timed restore, in a process of its own so that neither side warms the other up:
 *   bare FILE    read the file in 1 MiB chunks, split lines, JSON.parse each (the ceiling)
 *   relay FILE   what the relay does at startup: Journal.open with every record applied
 * Prints {"ms", "records", "peakRssBytes"} as JSON.
 */

let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);

function bare(file: string): number {
  const fd = openSync(file, 'r');
  const chunk = Buffer.allocUnsafe(1 << 20);
  let carry = Buffer.alloc(0);
  let records = 0;
  for (;;) {
    const read = readSync(fd, chunk, 0, chunk.length, null);
    if (read === 0) break;
    const data =
      carry.length === 0
        ? chunk.subarray(0, read)
        : Buffer.concat([carry, chunk.subarray(0, read)]);
    let start = 0;
    for (let end = data.indexOf(10, start); end !== -1; end = data.indexOf(10, start)) {
      JSON.parse(data.toString('utf8', start, end));
      records += 1;
      start = end + 1;
    }
    carry = Buffer.from(data.subarray(start));
  }
  closeSync(fd);
  return records;
}

async function relay(file: string): Promise<number> {
  const state = new RelayState(new SecretBox([]));
  let records = 0;
  const { journal } = await Journal.open(file, {
    clock: systemClock,
    logger: silentLogger,
    onRecord: (record, bytes) => {
      state.apply(record, bytes);
      records += 1;
    },
    onFatal: (error) => {
      throw error;
    },
  });
  await journal.close();
  return records;
}

const [mode, file] = process.argv.slice(2);
if (file === undefined || (mode !== 'bare' && mode !== 'relay')) {
  process.stderr.write('usage: restore-worker bare|relay FILE\n');
  process.exit(2);
}
const started = process.hrtime.bigint();
const records = mode === 'bare' ? bare(file) : await relay(file);
const ms = Number(process.hrtime.bigint() - started) / 1e6;
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage.rss());
process.stdout.write(`${JSON.stringify({ ms, records, peakRssBytes: peakRss })}\n`);
