import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activityWindow, countActivity, type CountedDelivery } from '../src/activity.js';
import type { Outcome } from '../src/records.js';

const at = (hours: number, minutes: number, seconds = 0): number =>
  Date.UTC(2026, 0, 15, hours, minutes, seconds);

function delivery(outcome: Outcome, time: number): CountedDelivery {
  return { outcome, event: { at: time } };
}

const HOUR_IN_FIVE_MINUTES = { from: at(11, 10), bucketMs: 300_000, buckets: 12 };

test('an hour in twelve buckets ends with the five minutes that hold now', () => {
  assert.deepEqual(activityWindow(at(12, 7, 30), 60, 12), HOUR_IN_FIVE_MINUTES);
});

test('a moment on a bucket edge is the first moment of a new bucket', () => {
  assert.deepEqual(activityWindow(at(12, 10), 60, 12), {
    ...HOUR_IN_FIVE_MINUTES,
    from: at(11, 15),
  });
});

test('counts each delivery in the bucket of its event, under the outcome it has now', () => {
  const history = [
    delivery('success', at(11, 0)),
    delivery('success', at(11, 10)),
    delivery('failed', at(11, 14, 59)),
    delivery('success', at(11, 15)),
    delivery('skipped', at(11, 40)),
    delivery('success', at(12, 5)),
    delivery('pending', at(12, 7, 29)),
  ];

  assert.deepEqual(countActivity(history, HOUR_IN_FIVE_MINUTES), {
    success: [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    failed: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    skipped: [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
    pending: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  });
});

test('counting reads the deliveries inside the window and the one before it, no more', () => {
  const old = Array.from({ length: 5_000 }, (_, index) => delivery('success', at(9, 0) + index));
  const recent = [delivery('success', at(11, 30)), delivery('failed', at(12, 0))];
  const read: number[] = [];
  const history = new Proxy([...old, ...recent], {
    get(target, property, receiver) {
      if (typeof property === 'string' && /^\d+$/.test(property)) read.push(Number(property));
      return Reflect.get(target, property, receiver) as unknown;
    },
  });

  const counts = countActivity(history, HOUR_IN_FIVE_MINUTES);

  assert.deepEqual(read, [5_001, 5_000, 4_999]);
  assert.deepEqual(counts.success, [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(counts.failed, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
});

test('a delivery dated after the window, by a clock set back since, is left out', () => {
  const history = [delivery('success', at(12, 0)), delivery('success', at(12, 20))];

  assert.deepEqual(countActivity(history, HOUR_IN_FIVE_MINUTES).success, [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,
  ]);
});
