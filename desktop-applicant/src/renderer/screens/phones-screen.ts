// Smartphones: pair one from this card session (QR code + the URL as text, then the phone's label
// and check code to confirm here), and list the paired ones with last contact, to rename or remove.
import type { PairedPhone, PairingState } from '@cert/common';
import type { AppContext, ScreenFactory } from '../context.ts';
import { h, whileBusy, type Text } from '../dom.ts';

/** How often the screen asks whether the phone has registered (the pairing lives ≤ 5 minutes). */
const POLL_MS = 1500;

/** One paired phone's row: name (renamable), code, last contact, validity, push, remove. */
function phoneRow(app: AppContext, p: PairedPhone): HTMLTableRowElement {
  const t = app.i18n.t.phones;
  const box = app.messages();
  const name = h('input', { type: 'text', id: `label-${p.phoneId}`, value: p.label, maxlength: 40, 'aria-label': t.renameLabel(p.label) });
  const rename = h('button', { type: 'button' }, t.rename);
  rename.addEventListener('click', () => {
    void whileBusy(rename, async () => {
      try {
        await app.api.invoke['phones.rename'](p.phoneId, name.value.trim());
        box.info((s) => s.phones.renamed);
      } catch (e) {
        app.fail(e, box);
      }
    });
  });
  const remove = h('button', { type: 'button', class: 'danger', 'data-remove': p.phoneId }, t.remove);
  const confirmRemove = h('div', { class: 'inline-confirm', hidden: true, role: 'group', 'aria-label': t.remove });
  remove.addEventListener('click', () => {
    const yes = h('button', { type: 'button', class: 'danger', 'data-remove-yes': p.phoneId }, t.removeYes);
    const no = h('button', { type: 'button' }, t.removeNo);
    confirmRemove.replaceChildren(h('p', {}, t.removeConfirm(p.label)), h('div', { class: 'actions' }, no, yes));
    confirmRemove.hidden = false;
    no.addEventListener('click', () => {
      confirmRemove.hidden = true;
      remove.focus();
    });
    yes.addEventListener('click', () => {
      void whileBusy(yes, async () => {
        try {
          await app.api.invoke['phones.remove'](p.phoneId);
          app.go('phones', { info: (s) => s.phones.removed(p.label) });
        } catch (e) {
          app.fail(e, box);
        }
      });
    });
    no.focus();
  });
  return h(
    'tr',
    { 'data-phone': p.phoneId },
    h('td', {}, name, h('div', { class: 'actions' }, rename)),
    h('td', { class: 'code' }, p.code),
    h('td', {}, p.lastSeenAt ? app.i18n.dateTime(p.lastSeenAt) : t.never),
    h('td', {}, app.i18n.dateTime(p.expiresAt)),
    h('td', {}, p.push ? t.pushOn : t.pushOff),
    h('td', {}, remove, confirmRemove, box.el),
  );
}

/** The smartphones screen. */
export const phonesScreen: ScreenFactory = (app) => {
  const { i18n, state } = app;
  const t = i18n.t.phones;
  const box = app.messages();
  const heading = h('h2', { id: 'screen-title', tabindex: -1 }, t.title);
  const section = h('section', { class: 'screen', 'aria-labelledby': 'screen-title' }, heading, h('p', {}, t.intro));
  if (!state.session) {
    section.append(h('p', {}, t.signInFirst), box.el, h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => app.go('login') }, t.signIn)));
    return { el: section, heading, box };
  }
  const panel = h('div', { class: 'pairing', id: 'pairing-panel', 'aria-live': 'polite' });
  const list = h('div', { class: 'phones' });
  let poll: ReturnType<typeof setInterval> | undefined;
  const stopPoll = () => clearInterval(poll);

  const showPairing = (state: PairingState) => {
    if (state.status === 'waiting') return;
    stopPoll();
    if (state.status === 'expired' || state.status === 'cancelled') {
      panel.replaceChildren();
      box.error((s) => (state.status === 'expired' ? s.phones.expired : s.phones.cancelled));
      return;
    }
    if (state.status !== 'registered' || !state.phone) return;
    const phone = state.phone;
    const confirm = h('button', { type: 'button', class: 'primary', id: 'pair-confirm' }, t.confirm);
    const cancel = h('button', { type: 'button', id: 'pair-cancel' }, t.cancel);
    const answer = (button: HTMLButtonElement, call: 'phones.confirm' | 'phones.cancel', done: Text) =>
      button.addEventListener('click', () => {
        void whileBusy(button, async () => {
          try {
            await app.api.invoke[call](state.pairingId);
            app.go('phones', { info: done });
          } catch (e) {
            app.fail(e, box);
          }
        });
      });
    answer(confirm, 'phones.confirm', (s) => s.phones.paired(phone.label));
    answer(cancel, 'phones.cancel', (s) => s.phones.cancelled);
    panel.replaceChildren(
      h('p', { id: 'pairing-phone' }, t.registered(phone.label)),
      h('p', { id: 'pairing-code-label' }, t.codeLabel),
      h('p', { class: 'pairing-code', id: 'pairing-code', 'aria-labelledby': 'pairing-code-label' }, phone.code),
      h('p', {}, t.codeCheck),
      h('div', { class: 'actions' }, confirm, cancel),
    );
    confirm.focus();
  };

  const start = h('button', { type: 'button', class: 'primary', id: 'pair-start' }, t.pair);
  start.addEventListener('click', () => {
    void whileBusy(start, async () => {
      stopPoll();
      box.clear();
      try {
        const pairing = await app.api.invoke['phones.pair']();
        panel.replaceChildren(
          h('ol', { class: 'steps' }, ...t.pairSteps.map((s) => h('li', {}, s))),
          h('img', { class: 'qr', id: 'pairing-qr', src: pairing.qr, alt: t.qrAlt, width: 220, height: 220 }),
          h('p', {}, t.urlLabel),
          h('p', {}, h('code', { id: 'pairing-url' }, pairing.url)),
          h('p', {}, t.expires(i18n.dateTime(pairing.expiresAt))),
          h('p', { id: 'pairing-status', role: 'status' }, t.waiting),
        );
        poll = setInterval(() => {
          app.api.invoke['phones.pairing'](pairing.pairingId).then(
            (s) => showPairing(s),
            (e: unknown) => {
              stopPoll();
              app.fail(e, box);
            },
          );
        }, POLL_MS);
      } catch (e) {
        app.fail(e, box);
      }
    });
  });

  app.api.invoke['phones.list']().then(
      (phones) => {
        list.replaceChildren(
          h('h3', {}, t.listTitle),
          phones.length
            ? h(
                'table',
                {},
                h('thead', {}, h('tr', {}, ...[t.label, t.code, t.lastSeen, t.validUntil, t.push, ''].map((c) => h('th', { scope: 'col' }, c)))),
                h('tbody', {}, ...phones.map((p) => phoneRow(app, p))),
              )
            : h('p', {}, t.none),
        );
      },
      (e: unknown) => app.fail(e, box),
    );
  section.append(box.el, h('div', { class: 'actions' }, start), panel, list, h('p', { class: 'hint' }, t.bindingRule));
  return { el: section, heading, box, dispose: stopPoll };
};
