import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartBars, describeCounts, outcomeTotals } from '../../src/status-page/browser/chart.js';

const SIZE = { width: 30, height: 20, gap: 2 };

test('each bucket stacks its outcomes from the bottom, scaled to the busiest bucket', () => {
  const bars = chartBars(
    { success: [4, 0, 1], failed: [0, 0, 1], skipped: [0, 0, 1], pending: [0, 0, 1] },
    SIZE,
  );

  assert.deepEqual(bars, [
    {
      x: 0, width: 8, total: 4,
      segments: [
        { outcome: 'success', y: 0, height: 20 },
        { outcome: 'failed', y: 0, height: 0 },
        { outcome: 'skipped', y: 0, height: 0 },
        { outcome: 'pending', y: 0, height: 0 },
      ],
    },
    {
      x: 10, width: 8, total: 0,
      segments: [
        { outcome: 'success', y: 20, height: 0 },
        { outcome: 'failed', y: 20, height: 0 },
        { outcome: 'skipped', y: 20, height: 0 },
        { outcome: 'pending', y: 20, height: 0 },
      ],
    },
    {
      x: 20, width: 8, total: 4,
      segments: [
        { outcome: 'success', y: 15, height: 5 },
        { outcome: 'failed', y: 10, height: 5 },
        { outcome: 'skipped', y: 5, height: 5 },
        { outcome: 'pending', y: 0, height: 5 },
      ],
    },
  ]);
});

test('a lone failure beside a busy bucket still gets a pixel', () => {
  const counts = { success: [500, 0], failed: [0, 1], skipped: [0, 0], pending: [0, 0] };
  const bars = chartBars(counts, SIZE);

  assert.deepEqual(bars[1]?.segments[1], { outcome: 'failed', y: 19, height: 1 });
});

test('a chart with no deliveries at all has empty bars, not a division by zero', () => {
  const none = [0, 0];
  const bars = chartBars({ success: none, failed: none, skipped: none, pending: none }, SIZE);

  assert.deepEqual(bars.map((bar) => [bar.x, bar.total, bar.segments.map((s) => s.height)]), [
    [0, 0, [0, 0, 0, 0]],
    [15, 0, [0, 0, 0, 0]],
  ]);
});

test('the counts are told in words, leaving out the outcomes that did not happen', () => {
  const counts = { success: [3, 9], failed: [0, 2], skipped: [0, 0], pending: [1, 0] };

  assert.deepEqual(outcomeTotals(counts), { success: 12, failed: 2, skipped: 0, pending: 1 });
  assert.equal(describeCounts(outcomeTotals(counts)), '12 success, 2 failed, 1 pending');
  assert.equal(describeCounts({ success: 0, failed: 0, skipped: 0, pending: 0 }), 'no deliveries');
});
