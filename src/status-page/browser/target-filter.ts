import type { TargetDetail } from './api-types.js';

/**
 * The filter box above the targets: with hundreds of them, an operator finds one by a piece of
 * its path, URL, config name or `#id`, ignoring case.
 */
export function matchesFilter(target: TargetDetail, filter: string): boolean {
  const wanted = filter.trim().toLowerCase();
  if (wanted === '') return true;
  const texts = [target.path, target.url, target.name ?? '', `#${target.id}`];
  return texts.some((text) => text.toLowerCase().includes(wanted));
}
