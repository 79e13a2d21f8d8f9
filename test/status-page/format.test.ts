import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TargetDetail } from '../../src/status-page/browser/api-types.js';
import {
  formatAge,
  formatBytes,
  formatCount,
  formatDuration,
  formatPath,
  targetState,
} from '../../src/status-page/browser/format.js';
import { matchesFilter } from '../../src/status-page/browser/target-filter.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

function target(changes: Partial<TargetDetail> = {}, health: Partial<TargetDetail['health']> = {}) {
  const base: TargetDetail = {
    id: 7,
    url: 'https://receiver.example/Hook',
    events: null,
    active: true,
    path: 'raw/scans',
    name: null,
    managed_by: 'api',
    health: {
      consecutive_failures: 0,
      last_success_at: null,
      failing_since: null,
      disabled_reason: null,
    },
  };
  return { ...base, ...changes, health: { ...base.health, ...health } };
}

test('a duration is written in its two largest units', () => {
  const written = [0, 999, 45 * SECOND, 90 * SECOND, 59 * MINUTE, 3 * HOUR, 3 * HOUR + 5 * MINUTE,
    47 * HOUR + 59 * MINUTE, 48 * HOUR, 52 * HOUR + 30 * MINUTE, -5 * SECOND].map(formatDuration);

  assert.deepEqual(written, ['0 s', '0 s', '45 s', '1 min', '59 min', '3 h', '3 h 5 min',
    '47 h 59 min', '2 d', '2 d 4 h', '0 s']);
});

test('an age is measured from the relay\'s now, into the past or the future', () => {
  const iso = (offset: number): string => new Date(NOW + offset).toISOString();

  assert.deepEqual(
    [formatAge(iso(-90 * SECOND), NOW), formatAge(iso(25 * SECOND), NOW), formatAge(iso(-400), NOW),
      formatAge(null, NOW), formatAge(null, NOW, 'now')],
    ['1 min ago', 'in 25 s', 'just now', 'never', 'now'],
  );
});

test('a size is written in binary units, with one decimal below ten of a unit', () => {
  const written = [0, 512, 1023, 1536, 10 * 1024, 23.4 * 1024 ** 2, 1.25 * 1024 ** 3, 3 * 1024 ** 5]
    .map(formatBytes);

  assert.deepEqual(written, ['0 B', '512 B', '1023 B', '1.5 KiB', '10 KiB', '23 MiB', '1.3 GiB',
    '3072 TiB']);
});

test('a count is written with thousands separators, and the root path by name', () => {
  assert.deepEqual([formatCount(1234567), formatCount(0)], ['1,234,567', '0']);
  assert.deepEqual([formatPath(''), formatPath('raw/scans')], ['/ (root)', 'raw/scans']);
});

test('a target\'s state tells active, failing, paused and disabled apart', () => {
  const failingSince = new Date(NOW - 12 * MINUTE).toISOString();
  const states = [
    target(),
    target({}, { failing_since: failingSince, consecutive_failures: 4 }),
    target({ active: false }, { disabled_reason: 'paused through the API' }),
    target({ active: false }, { disabled_reason: 'the receiver answered 410 Gone' }),
  ].map((entry) => targetState(entry, NOW));

  assert.deepEqual(states, [
    { kind: 'active', reason: '' },
    { kind: 'failing', reason: 'failing for 12 min' },
    { kind: 'paused', reason: 'paused through the API' },
    { kind: 'disabled', reason: 'the receiver answered 410 Gone' },
  ]);
});

test('the filter finds a target by path, URL, config name or id, ignoring case', () => {
  const archive = target({ name: 'Archive', path: 'archive' });
  const filters = ['', '  ', 'SCANS', 'receiver.example/hook', 'archive', '#7', 'processed'];

  assert.deepEqual(filters.map((filter) => matchesFilter(target(), filter)),
    [true, true, true, true, false, true, false]);
  const found = ['archive', 'ARCH'].map((filter) => matchesFilter(archive, filter));
  assert.deepEqual(found, [true, true]);
});
