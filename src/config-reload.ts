import type { Config } from './defaults.js';

/**
 * What a reload of the config changes. Most settings are read when they are used and change at
 * once; these are read once, when the relay starts: the listening socket, the data file it
 * holds open, and the keys that opened the secrets stored in that file.
 */
export const RESTART_ONLY_SETTINGS = ['listen', 'dataFile', 'secretKeys'] as const;

export interface SettingChanges {
  /** Keys such as "delivery.timeoutMs" whose new value takes effect now. */
  live: string[];
  /** Keys whose new value is ignored until the relay restarts. */
  needsRestart: string[];
}

/**
 * The keys whose values differ between the running config and a new one, by whether they can
 * change live. `targets` is left out: config targets are reconciled one by one instead. Only key
 * names are answered, never values, since some values are secrets.
 */
export function settingChanges(running: Config, next: Config): SettingChanges {
  const changes: SettingChanges = { live: [], needsRestart: [] };
  for (const key of changedKeys(running, next, '')) {
    if (key === 'targets') continue;
    const top = key.split('.')[0] as string;
    const restartOnly = (RESTART_ONLY_SETTINGS as readonly string[]).includes(top);
    (restartOnly ? changes.needsRestart : changes.live).push(key);
  }
  return changes;
}

/** The config to run with after a reload: the new one, except what needs a restart. */
export function reloadedConfig(running: Config, next: Config): Config {
  const { listen, dataFile, secretKeys } = running;
  return { ...next, listen, dataFile, secretKeys };
}

/** Objects are compared key by key; anything else (lists included) as one value. */
function changedKeys(before: unknown, after: unknown, prefix: string): string[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const names = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...names].flatMap((name) =>
      changedKeys(before[name], after[name], joinKey(prefix, name)),
    );
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function joinKey(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}
