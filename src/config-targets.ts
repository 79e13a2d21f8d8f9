import type { TargetConfig } from './defaults.js';
import { normalisePath } from './matching.js';
import type { Target } from './state.js';
import type { Store } from './store.js';

/**
 * Makes the stored config-managed targets match the config file's `targets`, by name: new names
 * are created, changed ones updated (keeping their id and history), missing ones deleted.
 * Answers how many of each; the caller logs them with what else it changed.
 */
export async function reconcileConfigTargets(
  store: Store,
  configured: readonly TargetConfig[],
): Promise<{ created: number; updated: number; deleted: number }> {
  const counts = { created: 0, updated: 0, deleted: 0 };
  const existing = new Map<string, Target>();
  for (const target of store.state.targets.values()) {
    if (target.managedBy === 'config' && target.name !== null) existing.set(target.name, target);
  }

  for (const entry of configured) {
    const wanted = {
      path: normalisePath(entry.path),
      url: new URL(entry.url).href,
      events: entry.events,
      ordered: entry.ordered,
    };
    const target = existing.get(entry.name);
    existing.delete(entry.name);

    if (target === undefined) {
      await store.createTarget({
        ...wanted,
        secret: entry.secret,
        name: entry.name,
        managedBy: 'config',
      });
      counts.created += 1;
    } else if (differs(target, wanted, entry.secret)) {
      await store.updateTarget(target, { ...wanted, secret: entry.secret });
      counts.updated += 1;
    }
  }

  for (const target of existing.values()) {
    await store.deleteTarget(target);
    counts.deleted += 1;
  }
  return counts;
}

function differs(
  target: Target,
  wanted: { path: string[]; url: string; events: string[] | null; ordered: boolean },
  secret: string | null,
): boolean {
  return (
    target.ordered !== wanted.ordered ||
    target.path.join('/') !== wanted.path.join('/') ||
    target.url !== wanted.url ||
    JSON.stringify(target.events) !== JSON.stringify(wanted.events) ||
    target.secret !== secret ||
    target.secretUnreadable
  );
}
