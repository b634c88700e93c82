// Tiny DOM helpers: elements are built with textContent only (never innerHTML), so server text
// such as store names can never become markup.
import type { ApplicantStrings } from '@cert/common/i18n';

/** Creates an element (shared with the phone app). */
export { h } from '@cert/common/dom';
import { h } from '@cert/common/dom';

/** A message, written against the texts so it can be shown again in another language. */
export type Text = (t: ApplicantStrings) => string;

/** A screen's message line: errors are announced assertively, confirmations politely. */
export interface Messages {
  el: HTMLElement;
  error(text: Text): void;
  info(text: Text): void;
  clear(): void;
  /** Shows what another line shows (a screen rebuilt in another language keeps its message). */
  carry(from: Messages): void;
  /** What the line shows now. */
  readonly current: { kind: 'error' | 'info'; text: Text } | null;
}

/** Creates a message line (both live regions exist before any text); `strings` gives the current texts. */
export function messages(strings: () => ApplicantStrings): Messages {
  const error = h('p', { class: 'message error', role: 'alert' });
  const info = h('p', { class: 'message info', role: 'status' });
  let current: Messages['current'] = null;
  const show = (next: Messages['current']) => {
    current = next;
    error.textContent = next?.kind === 'error' ? next.text(strings()) : '';
    info.textContent = next?.kind === 'info' ? next.text(strings()) : '';
  };
  return {
    el: h('div', { class: 'messages' }, error, info),
    error: (text) => show({ kind: 'error', text }),
    info: (text) => show({ kind: 'info', text }),
    clear: () => show(null),
    carry: (from) => show(from.current),
    get current() {
      return current;
    },
  };
}

/** Marks a button busy while `work` runs (disabled, aria-busy); resolves with what work returned. */
export async function whileBusy<T>(button: HTMLButtonElement, work: () => Promise<T>): Promise<T> {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
