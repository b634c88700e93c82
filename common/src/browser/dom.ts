// Tiny DOM helper for the browser UIs: elements are built with textContent only (never
// innerHTML), so server text such as store names can never become markup.

type Child = Node | string | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined | ((ev: Event) => void);

/** Creates an element; `on*` attributes become listeners, `true` a bare attribute, false/null nothing. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, AttrValue> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  el.append(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  return el;
}
