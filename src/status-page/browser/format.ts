import type { TargetDetail } from './api-types.js';

/** How the page writes counts, sizes, ages and a target's state. Pure, so it is unit-tested. */

const NUMBER = new Intl.NumberFormat('en-US');

export function formatCount(value: number): string {
  return NUMBER.format(value);
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Binary units, with one decimal below 10 of a unit: `512 B`, `1.5 KiB`, `23 MiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit > 0 && value < 10 ? 1 : 0;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

/** A length of time in its two largest units: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`. */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.floor(Math.max(0, milliseconds) / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return joinUnits(hours, 'h', minutes % 60, 'min');
  return joinUnits(Math.floor(hours / 24), 'd', hours % 24, 'h');
}

function joinUnits(large: number, largeUnit: string, small: number, smallUnit: string): string {
  return small === 0 ? `${large} ${largeUnit}` : `${large} ${largeUnit} ${small} ${smallUnit}`;
}

/** How long ago (or how soon) an ISO time is from `now`; `never` for none. */
export function formatAge(iso: string | null, now: number, none = 'never'): string {
  if (iso === null) return none;
  const difference = now - Date.parse(iso);
  if (Math.abs(difference) < 1000) return 'just now';
  return difference > 0 ? `${formatDuration(difference)} ago` : `in ${formatDuration(-difference)}`;
}

export type StateKind = 'active' | 'failing' | 'paused' | 'disabled';

/** Mirrors the relay's reason for a target paused with `PATCH {"active": false}`. */
const PAUSED_REASON = 'paused through the API';

/** What a target's state badge says, and the reason that goes under it. */
export interface TargetState {
  kind: StateKind;
  reason: string;
}

export function targetState(target: TargetDetail, now: number): TargetState {
  const health = target.health;
  if (!target.active) {
    const paused = health.disabled_reason === PAUSED_REASON;
    return { kind: paused ? 'paused' : 'disabled', reason: health.disabled_reason ?? '' };
  }
  if (health.failing_since !== null) {
    const failing = formatDuration(now - Date.parse(health.failing_since));
    return { kind: 'failing', reason: `failing for ${failing}` };
  }
  return { kind: 'active', reason: '' };
}

/** A target's node path as the page shows it: the root has no name of its own. */
export function formatPath(path: string): string {
  return path === '' ? '/ (root)' : path;
}
