import assert from 'node:assert/strict';
import { test } from 'node:test';
import { restoreFigures, slowTargetFigures } from '../bench/goals.js';

// The benchmark's table shows ratios to two places; whether a goal is met is judged on the
// ratio as measured, so a figure just short of its goal cannot pass by rounding up to it.

const slowTarget = (alone: number, beside: number) => ({
  connections: 50,
  loadSeconds: 5,
  slowAnswerMs: 2000,
  alonePerSecond: [alone],
  besideSlowPerSecond: [beside],
  ratio: beside / alone,
});

test('a ratio just under its goal shows rounded up and is still judged missed', () => {
  const [figure] = slowTargetFigures(slowTarget(12_080, 10_855));
  assert.ok(figure?.value.startsWith('0.9 ('), figure?.value);
  assert.equal(figure?.pass, false);
});

test('a ratio at its goal is met', () => {
  const [figure] = slowTargetFigures(slowTarget(10_000, 9_000));
  assert.ok(figure?.value.startsWith('0.9 ('), figure?.value);
  assert.equal(figure?.pass, true);
});

test('a ratio just over an upper limit shows rounded down and is judged missed', () => {
  const restore = (relayMs: number) => ({
    records: 1_000_000,
    fileBytes: 1,
    bareMs: [1000],
    relayMs: [relayMs],
    relayPeakRssBytes: 1,
    ratio: relayMs / 1000,
  });
  const [over] = restoreFigures(restore(3004));
  assert.ok(over?.value.startsWith('3 ('), over?.value);
  assert.equal(over?.pass, false);
  assert.equal(restoreFigures(restore(3000))[0]?.pass, true);
});
