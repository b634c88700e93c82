// The large on-screen number pad shared by the receipt entry and the staff code entry.
import type { KioskStrings } from '@cert/common/i18n';
import { button, h } from './dom.ts';

/** What the keys do. */
export interface KeypadActions {
  digit(d: string): void;
  remove(): void;
  clear(): void;
}

/** A 3×4 grid: 1-9, then Clear, 0, Delete (phone layout, which most residents know). */
export function keypad(t: KioskStrings, actions: KeypadActions): HTMLElement {
  const digit = (d: string) => button(d, () => actions.digit(d), { kind: 'key', attrs: { 'data-key': d } });
  return h(
    'div',
    { class: 'keypad', attrs: { role: 'group', 'aria-label': t.keypadLabel } },
    ...['1', '2', '3', '4', '5', '6', '7', '8', '9'].map(digit),
    button(t.keyClear, actions.clear, { kind: 'key', class: 'key-word', attrs: { 'data-key': 'clear' } }),
    digit('0'),
    button(t.keyDelete, actions.remove, { kind: 'key', class: 'key-word', attrs: { 'data-key': 'delete' } }),
  );
}
