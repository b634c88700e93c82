// Login: the live card status, the tries left (read from the card before any PIN is asked for),
// the masked 4-digit PIN, the explicit confirmation for the last try, and the blocked card.
import type { CardStatus } from '@cert/common';
import type { AppContext, ScreenFactory } from '../context.ts';
import { h, whileBusy } from '../dom.ts';

type Tone = 'info' | 'ok' | 'warn' | 'error';

/** What the status box says about a card status, and how loudly. */
function describeCard(app: AppContext, s: CardStatus): { text: string; tone: Tone } {
  const t = app.i18n.t.card;
  switch (s.state) {
    case 'pcsc_unavailable':
      return { text: t.pcscUnavailable, tone: 'error' };
    case 'no_reader':
      return { text: t.noReader, tone: 'warn' };
    case 'no_card':
      return { text: t.noCard, tone: 'info' };
    case 'reading':
      return { text: t.reading, tone: 'info' };
    case 'card_ready':
      if (s.info.triesLeft === 0) return { text: t.blocked, tone: 'error' };
      return { text: s.info.kind === 'smartphone' ? t.smartphone : t.ready, tone: s.info.triesLeft === 1 ? 'warn' : 'ok' };
    case 'card_error':
      return { text: t.kinds[s.error.kind], tone: 'error' };
  }
}

/** The PIN screen. */
export const loginScreen: ScreenFactory = (app) => {
  const t = app.i18n.t;
  const box = app.messages();
  const heading = h('h2', { id: 'screen-title', tabindex: -1 }, t.card.title);
  const statusText = h('p', { id: 'card-status', role: 'status' });
  const statusBox = h('div', { class: 'status-box' }, statusText);
  const triesText = h('p', { id: 'tries-left', class: 'tries' });
  const refreshButton = h('button', { type: 'button' }, t.card.refresh);
  const pin = h('input', {
    id: 'pin',
    name: 'pin',
    type: 'password',
    inputmode: 'numeric',
    autocomplete: 'off',
    maxlength: 4,
    pattern: '[0-9]{4}',
    required: true,
    'aria-describedby': 'tries-left pin-hint',
  });
  const confirmLastTry = h('input', { id: 'confirm-last-try', type: 'checkbox' });
  const lastTry = h(
    'div',
    { class: 'warning', id: 'last-try' },
    h('p', {}, t.pin.lastTryWarning),
    h('div', { class: 'check' }, confirmLastTry, h('label', { for: 'confirm-last-try' }, t.pin.lastTryConfirm)),
  );
  const submit = h('button', { type: 'submit', class: 'primary' }, t.pin.submit);
  const form = h(
    'form',
    { novalidate: true, id: 'pin-form' },
    h(
      'fieldset',
      {},
      h('legend', {}, t.pin.legend),
      h('div', { class: 'field' }, h('label', { for: 'pin' }, t.pin.label), h('p', { id: 'pin-hint', class: 'hint' }, t.pin.hint), pin),
      lastTry,
      h('div', { class: 'actions' }, submit),
    ),
  );
  // The tries left of the card last read: kept while the same card is re-read after a login
  // attempt, so the form stays put instead of flickering away under the resident's fingers.
  let knownTries: number | null = null;

  const refresh = () => {
    const s = app.state.card;
    const { text, tone } = describeCard(app, s);
    statusText.textContent = text;
    statusBox.className = `status-box tone-${tone}`;
    if (s.state === 'card_ready') knownTries = s.info.triesLeft;
    else if (s.state !== 'reading') knownTries = null;
    triesText.textContent = knownTries ? t.card.triesLeft(knownTries) : '';
    triesText.hidden = !knownTries;
    form.hidden = !knownTries;
    lastTry.hidden = knownTries !== 1;
    if (knownTries !== 1) confirmLastTry.checked = false;
    refreshButton.hidden = s.state !== 'card_error';
  };

  refreshButton.addEventListener('click', () => {
    box.clear();
    void whileBusy(refreshButton, async () => {
      try {
        await app.api.invoke['card.refresh']();
      } catch (e) {
        app.fail(e, box);
      }
    });
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    // The PIN leaves the field at once: it is never kept in the page after this call.
    const value = pin.value;
    pin.value = '';
    if (!/^[0-9]{4}$/.test(value)) {
      pin.setAttribute('aria-invalid', 'true');
      box.error((s) => s.card.kinds.pin_format);
      pin.focus();
      return;
    }
    pin.removeAttribute('aria-invalid');
    if (knownTries === 1 && !confirmLastTry.checked) {
      box.error((s) => s.card.kinds.last_try_needs_confirmation);
      confirmLastTry.focus();
      return;
    }
    box.info((s) => s.pin.busy);
    void whileBusy(submit, async () => {
      try {
        app.signedIn(await app.api.invoke['auth.login'](value, confirmLastTry.checked));
      } catch (e) {
        app.fail(e, box);
        refresh();
        if (!form.hidden) pin.focus();
      }
    });
  });

  refresh();
  return {
    el: h('section', { class: 'screen', 'aria-labelledby': 'screen-title' }, heading, h('h3', {}, t.card.statusHeading), statusBox, triesText, refreshButton, form, box.el),
    heading,
    box,
    refresh,
  };
};
