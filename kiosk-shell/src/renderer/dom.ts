// A tiny element builder: text goes in as text nodes, never as HTML, and there are no inline
// styles (the CSP forbids them); classes and attributes only.

/** A child of {@link h}: nodes, text, or nothing (skipped). */
export type Child = Node | string | null | undefined | false;

/** Properties of {@link h}. */
export interface Props {
  class?: string;
  id?: string;
  lang?: string;
  /** Attributes as written in HTML (aria-*, role, type, tabindex…). */
  attrs?: Record<string, string>;
  onClick?: () => void;
}

/** Creates an element with properties and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.id) el.id = props.id;
  if (props.lang) el.lang = props.lang;
  for (const [k, v] of Object.entries(props.attrs ?? {})) el.setAttribute(k, v);
  if (props.onClick) el.addEventListener('click', props.onClick);
  append(el, ...children);
  return el;
}

/** Appends children (text as text nodes). */
export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** Options of {@link button}. */
export interface ButtonOptions {
  /** The look: primary (one per screen), secondary, or a keypad key. */
  kind?: 'primary' | 'secondary' | 'key';
  /** Extra classes. */
  class?: string;
  attrs?: Record<string, string>;
}

/** A button that never submits a form. */
export function button(label: Child, onClick: () => void, options: ButtonOptions = {}): HTMLButtonElement {
  const cls = `btn btn-${options.kind ?? 'secondary'}${options.class ? ` ${options.class}` : ''}`;
  return h('button', { class: cls, attrs: { type: 'button', ...options.attrs }, onClick }, label);
}

let ids = 0;
/** A document-unique id for aria references. */
export function uid(prefix: string): string {
  return `${prefix}-${++ids}`;
}
