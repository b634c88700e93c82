// Receipt: the receipt number large and grouped, its QR code (made by the host), its expiry, a
// copy button, and how to print it at a store.
import { formatReceiptNumber } from '@cert/common';
import type { ScreenFactory } from '../context.ts';
import { h } from '../dom.ts';

/** The receipt screen (for app.state.shown). */
export const receiptScreen: ScreenFactory = (app) => {
  const { i18n, state } = app;
  const t = i18n.t.receipt;
  const box = app.messages();
  const heading = h('h2', { id: 'screen-title', tabindex: -1 }, t.title);
  const section = h('section', { class: 'screen', 'aria-labelledby': 'screen-title' }, heading);
  const shown = state.shown;
  if (!shown) {
    queueMicrotask(() => app.go('receipts'));
    return { el: section, heading, box };
  }
  const grouped = formatReceiptNumber(shown.receiptNumber);
  const qr = h('img', { class: 'qr', alt: t.qrAlt(grouped), width: 176, height: 176 });
  app.api.invoke['receipt.qr'](shown.receiptNumber).then(
    (src) => (qr.src = src),
    (e: unknown) => app.fail(e, box),
  );
  const copy = h('button', { type: 'button' }, t.copy);
  copy.addEventListener('click', () => {
    navigator.clipboard.writeText(grouped).then(
      () => box.info((s) => s.receipt.copied),
      () => box.error((s) => s.receipt.copyFailed),
    );
  });
  section.append(
    h(
      'div',
      { class: 'receipt-card' },
      h(
        'div',
        { class: 'receipt-text' },
        h('p', { class: 'receipt-label' }, t.numberLabel),
        h('p', { class: 'receipt-number', id: 'receipt-number' }, grouped),
        h('p', { class: 'receipt-meta' }, `${app.certificateName(shown.certificateType)} · ${i18n.t.confirm.copiesValue(shown.copies)} · ${i18n.yen(shown.fee)}`),
        h('p', { class: 'receipt-meta', id: 'receipt-expiry' }, t.expires(i18n.dateTime(shown.expiresAt))),
        h('div', { class: 'actions' }, copy),
      ),
      qr,
    ),
    box.el,
    h('h3', {}, t.stepsHeading),
    h('ol', { class: 'steps' }, ...t.steps.map((s) => h('li', {}, s))),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'primary', onclick: () => app.go('receipts') }, t.toList),
      h('button', { type: 'button', onclick: () => app.go(state.session ? 'apply' : 'login') }, t.another),
    ),
  );
  return { el: section, heading, box };
};
