import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomId } from '../src/random-ids.js';

test('random ids are 32 lowercase hex digits and do not repeat, across refills of the pool', () => {
  const ids = Array.from({ length: 1_000 }, () => randomId());

  for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(new Set(ids).size, ids.length);
});
