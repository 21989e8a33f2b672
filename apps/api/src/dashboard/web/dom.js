// Building the page from data without HTML strings: text goes in as text, so nothing from the API is parsed as
// markup (and the CSP needs no inline anything).

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attrs] attributes (`class`, `data-*`, ...)
 * @param {(Node | string)[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/**
 * The element with this id, of the expected type.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`#${id} is missing`);
  return e;
}

/**
 * Replaces the content of `parent`.
 * @param {HTMLElement} parent
 * @param {(Node | string)[]} children
 */
export function fill(parent, ...children) {
  parent.replaceChildren(...children);
}

/**
 * A table with a header row.
 * @param {string[]} head
 * @param {(Node | string)[][]} rows
 * @param {string[]} [rowClasses]
 */
export function table(head, rows, rowClasses = []) {
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((r, i) => el('tr', rowClasses[i] ? { class: rowClasses[i] } : {}, ...r.map((c) => el('td', {}, c))))),
  );
}
