import type { RowHost } from './keyed-rows.js';

/**
 * Small DOM helpers. Text from the relay (paths, URLs, error details) only ever goes in through
 * textContent and attributes, never as markup, so a hostile target URL cannot inject a script;
 * the Content-Security-Policy would refuse one anyway.
 */

export const SVG_NAMESPACE = 'http://www.w3.org/2000/svg';

/**
 * The element with this id, of this type. The markup is built with the page, so a missing one is
 * a bug in the page, and is reported as such.
 */
export function byId<T extends Element>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) {
    throw new Error(`status page: #${id} is missing or not a ${type.name}`);
  }
  return element;
}

export function make<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text = '',
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className !== '') element.className = className;
  if (text !== '') element.textContent = text;
  return element;
}

/** Changes the text only when it differs, so an unchanged cell is not touched at all. */
export function setText(node: Element, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** Sets an attribute only when it differs; null removes it. */
export function setAttribute(element: Element, name: string, value: string | null): void {
  if (value === null) {
    if (element.hasAttribute(name)) element.removeAttribute(name);
  } else if (element.getAttribute(name) !== value) {
    element.setAttribute(name, value);
  }
}

/** A `<time>` for an ISO time: the age as text, the time itself in the tooltip. */
export function setTime(element: HTMLTimeElement, iso: string | null, text: string): void {
  setText(element, text);
  setAttribute(element, 'datetime', iso);
  setAttribute(element, 'title', iso === null ? null : new Date(iso).toLocaleString());
}

/** A table body as the host of keyed rows. */
export function tableRows(body: HTMLTableSectionElement): RowHost<HTMLTableRowElement> {
  return {
    first: () => body.rows[0] ?? null,
    next: (row) => (row.nextElementSibling as HTMLTableRowElement | null) ?? null,
    place: (row, before) => body.insertBefore(row, before),
    remove: (row) => row.remove(),
  };
}
