import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SEGMENT_CAPACITY, SeenIds } from '../src/seen-ids.js';

const hexId = (n: number): string => n.toString(16).padStart(32, '0');

test('remembers Tiled ids and any other id, and nothing else', () => {
  const seen = new SeenIds();
  const tiled = randomBytes(16).toString('hex');
  const ids = [tiled, 'catalog-retry_1', '00000000000000000000000000000000', 'A'.repeat(32)];
  for (const id of ids) seen.add(id, 1);

  assert.equal(seen.has(tiled), true);
  assert.equal(seen.has('catalog-retry_1'), true);
  assert.equal(seen.has('00000000000000000000000000000000'), true);
  assert.equal(seen.has('A'.repeat(32)), true);
  assert.equal(seen.has('a'.repeat(32)), false, 'ids are case-sensitive');
  assert.equal(seen.has('catalog-retry_2'), false);
  assert.equal(seen.has(randomBytes(16).toString('hex')), false);
  assert.equal(seen.size, 4);

  // The largest words, and ids of Tiled's length that are not hex in their last digit.
  for (const id of ['f'.repeat(32), `${'0'.repeat(31)}g`]) seen.add(id, 1);
  assert.equal(seen.has('f'.repeat(32)), true);
  assert.equal(seen.has(`${'0'.repeat(31)}g`), true);
  assert.equal(seen.has(`${'0'.repeat(31)}h`), false);
  assert.equal(seen.has(`${'f'.repeat(31)}e`), false);
});

test('forgets a whole segment once its newest id is beyond retention, and no other', () => {
  const seen = new SeenIds();
  const count = SEGMENT_CAPACITY + 10;
  for (let n = 0; n < count; n += 1) seen.add(hexId(n + 1), n);

  assert.equal(
    seen.forgetBefore(SEGMENT_CAPACITY - 1),
    0,
    'the first segment still holds a recent id',
  );
  assert.equal(seen.forgetBefore(SEGMENT_CAPACITY), SEGMENT_CAPACITY);
  assert.equal(seen.has(hexId(1)), false);
  assert.equal(seen.has(hexId(SEGMENT_CAPACITY)), false);
  assert.equal(seen.has(hexId(SEGMENT_CAPACITY + 1)), true);
  assert.equal(seen.size, 10);
});

test('its chunks give back every id with its segment time, for a compacted file', () => {
  const seen = new SeenIds();
  const ids = Array.from({ length: 5000 }, (_, n) =>
    n % 2 === 0 ? randomBytes(16).toString('hex') : `id-${n}`,
  );
  ids.forEach((id, n) => seen.add(id, 1000 + n));

  const restored = new SeenIds();
  const chunks = [...seen.chunks(1024)].map(({ at, keys }) => ({
    at,
    keys: Buffer.from(keys, 'base64'),
  }));
  assert.deepEqual(chunks.map((chunk) => [chunk.at, chunk.keys.length]), [
    [5999, 1024 * 16],
    [5999, 1024 * 16],
    [5999, 1024 * 16],
    [5999, 1024 * 16],
    [5999, 904 * 16],
  ]);
  for (const chunk of chunks) restored.addKeys(chunk.keys, chunk.at);
  assert.equal(restored.size, 5000);
  assert.deepEqual(ids.filter((id) => !restored.has(id)), []);
  assert.equal(restored.forgetBefore(6000), 5000);
});

test('every id is found in whichever segment holds it, and new ids in none', () => {
  // Sealed segments are passed over by their filters for most ids they do not hold: none they
  // hold may be passed over.
  const seen = new SeenIds();
  const count = Math.floor(SEGMENT_CAPACITY * 2.5);
  for (let n = 0; n < count; n += 1) seen.add(n % 3 === 0 ? `catalog-${n}` : hexId(n + 1), n);
  const missed: number[] = [];
  for (let n = 0; n < count; n += 1) {
    if (!seen.has(n % 3 === 0 ? `catalog-${n}` : hexId(n + 1))) missed.push(n);
  }
  assert.deepEqual(missed, []);
  for (let n = count; n < count + 10_000; n += 1) assert.equal(seen.has(hexId(n + 1)), false);
  assert.equal(seen.has('catalog-1'), false);
});

test('sealed segments find ids that share their first digits, and no others', () => {
  // Such ids (from a sender of structured ids) tie on the first word the sort orders by first.
  const shared = (): string => `00000000${randomBytes(12).toString('hex')}`;
  const seen = new SeenIds();
  const ids = Array.from({ length: SEGMENT_CAPACITY * 2 }, shared);
  ids.forEach((id, n) => seen.add(id, n));

  assert.deepEqual(ids.filter((id) => !seen.has(id)), []);
  const strangers = Array.from({ length: 10_000 }, shared);
  assert.deepEqual(strangers.filter((id) => seen.has(id)), []);
});

test(
  'a sealed segment goes through chunks whole, and ids are taken after all were forgotten',
  () => {
    const seen = new SeenIds();
    const ids = Array.from({ length: SEGMENT_CAPACITY + 100 }, () =>
      randomBytes(16).toString('hex'),
    );
    ids.forEach((id) => seen.add(id, 7));

    const restored = new SeenIds();
    for (const { at, keys } of seen.chunks(4096)) {
      restored.addKeys(Buffer.from(keys, 'base64'), at);
    }
    assert.equal(restored.size, ids.length);
    assert.deepEqual(ids.filter((id) => !restored.has(id)), []);

    assert.equal(seen.forgetBefore(8), ids.length);
    seen.add('after-everything', 9);
    assert.equal(seen.has('after-everything'), true);
    assert.equal(seen.size, 1);
  },
);
