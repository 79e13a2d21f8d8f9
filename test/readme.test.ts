import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULTS } from '../src/defaults.js';
import { ERROR_STATUS } from '../src/errors.js';
import { metricFamilies, RelayMetrics } from '../src/relay-metrics.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Rows of the README's configuration table: key → default, as written. */
function configTable(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const match of readme.matchAll(/^\| `([A-Za-z.]+)` \| `([^`]*)` \|/gm)) rows.set(match[1] ?? '', match[2] ?? '');
  return rows;
}

function flatten(value: unknown, prefix = ''): Array<[string, unknown]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [[prefix, value]];
  return Object.entries(value).flatMap(([key, item]) => flatten(item, prefix ? `${prefix}.${key}` : key));
}

test("the README's config table shows every key with its default", () => {
  const table = configTable();
  const defaults = flatten(DEFAULTS);
  assert.deepEqual([...table.keys()], defaults.map(([key]) => key));
  for (const [key, value] of defaults) assert.equal(table.get(key), JSON.stringify(value), key);
});

test("the README's error table lists every error code with its status", () => {
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    const row = new RegExp(`^\\| ${status} \\| [^\\n]*\`${code}\``, 'm');
    assert.ok(row.test(readme), `no row for ${status} ${code}`);
  }
});

test("the README's metrics table lists every metric with its type", () => {
  const readings = {
    pendingDeliveries: 0,
    oldestPendingAt: null,
    dataFileBytes: 0,
    dataFileWritable: true,
    dataFileError: null,
    serving: true,
    targetFailures: [],
    memory: { residentBytes: 0, heapUsedBytes: 0, externalBytes: 0 },
  };
  const families = metricFamilies(new RelayMetrics(0), readings, 0, '0.0.0');
  const rows = [...readme.matchAll(/^\| `(hookrelay_[a-z_]+)` \| (\w+) \|/gm)];
  assert.deepEqual(
    rows.map((row) => [row[1], row[2]]).sort(),
    families.map((family) => [family.name, family.type]).sort(),
  );
});

test('the quick start is the two commands', () => {
  assert.ok(readme.includes('```sh\nnpm install && npm start\n```'));
  assert.ok(readme.includes('```sh\nnpm test\n```'));
});
