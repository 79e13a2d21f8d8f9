/**
 * Which targets get an event: exactly the nodes a Tiled webhook on the target's path would fire
 * for (tiled/server/webhooks.py, WebhookDispatcher.dispatch).
 */

export interface Subscription {
  /** The node the target is registered on, as path elements; [] is the root. */
  path: readonly string[];
  /** Event types to deliver, or null for all. */
  events: readonly string[] | null;
}

export interface EventAddress {
  type: string;
  /** The affected node's full path, ending with its key. */
  path: readonly string[];
}

/** "a/b", "a/b/" and "a//b" name the same node, as Tiled's path resolution drops empty parts. */
export function normalisePath(path: string): string[] {
  return path.split('/').filter((element) => element !== '');
}

export function matches(subscription: Subscription, event: EventAddress): boolean {
  if (subscription.events !== null && !subscription.events.includes(event.type)) return false;

  // A created event belongs to the new node's parent: Tiled dispatches it with the parent's id.
  const node = event.type === 'container-child-created' ? event.path.slice(0, -1) : event.path;
  return isWithin(node, subscription.path);
}

/** True when `node` is `ancestor` or below it; elements compare exactly. */
export function isWithin(node: readonly string[], ancestor: readonly string[]): boolean {
  if (node.length < ancestor.length) return false;
  return ancestor.every((element, index) => node[index] === element);
}
