// My receipts: every application made on this machine with its status, to show again or cancel.
import { formatReceiptNumber, type StoredReceipt } from '@cert/common';
import type { AppContext, ScreenFactory } from '../context.ts';
import { h, whileBusy } from '../dom.ts';
import { refusalText } from '../texts.ts';

/** The certificate of a receipt: its name, and the fiscal year of a tax certificate (two years' receipts look alike otherwise). */
function certificateCell(app: AppContext, r: StoredReceipt): HTMLTableCellElement {
  const year = r.options['fiscalYear'];
  const option = app.state.catalog?.certificateTypes.find((x) => x.type === r.certificateType)?.options.find((o) => o.name === 'fiscalYear');
  return h('td', {}, app.certificateName(r.certificateType), year ? h('span', { class: 'cell-detail' }, option ? app.i18n.valueLabel(option, year) : year) : null);
}

/** Asks before cancelling (a cancelled receipt can never be printed); the list then shows the result. */
function confirmCancel(app: AppContext, receipt: StoredReceipt, opener: HTMLElement, screen: HTMLElement): void {
  const t = app.i18n.t.receipts;
  const grouped = formatReceiptNumber(receipt.receiptNumber);
  const yes = h('button', { type: 'button', class: 'danger' }, t.cancelYes);
  const no = h('button', { type: 'button', autofocus: true }, t.cancelNo);
  const dialogBox = app.messages();
  const dialog = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': 'cancel-title', 'aria-describedby': 'cancel-body' },
    h('h2', { id: 'cancel-title' }, t.cancelTitle),
    h('p', { id: 'cancel-body' }, t.cancelBody(grouped)),
    dialogBox.el,
    h('div', { class: 'actions' }, no, yes),
  );
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener.isConnected) opener.focus();
  });
  no.addEventListener('click', () => dialog.close());
  yes.addEventListener('click', () => {
    void whileBusy(yes, async () => {
      try {
        await app.api.invoke['applications.cancel'](receipt.applicationId);
        dialog.close();
        app.go('receipts', { info: (s) => s.receipts.cancelled(grouped) });
      } catch (e) {
        app.fail(e, dialogBox);
        // An expired session leads to the PIN screen: the question no longer stands there.
        if (!screen.isConnected) dialog.close();
      }
    });
  });
  document.body.append(dialog);
  dialog.showModal();
}

/** The list screen. */
export const receiptsScreen: ScreenFactory = (app) => {
  const { i18n, state } = app;
  const t = i18n.t.receipts;
  const box = app.messages();
  const heading = h('h2', { id: 'screen-title', tabindex: -1 }, t.title);
  const list = h('div', { class: 'receipts' });
  const refreshButton = h('button', { type: 'button' }, t.refresh);
  const update = () =>
    whileBusy(refreshButton, async () => {
      try {
        state.receipts = await app.api.invoke['applications.list']();
        render();
        return true;
      } catch (e) {
        app.fail(e, box);
        return false;
      }
    });
  refreshButton.addEventListener('click', () => {
    box.clear();
    void update().then((ok) => ok && box.info((s) => s.receipts.refreshed));
  });

  const section = h(
    'section',
    { class: 'screen', 'aria-labelledby': 'screen-title' },
    heading,
    state.session ? h('div', { class: 'actions' }, refreshButton) : h('p', { class: 'hint' }, t.signInToRefresh),
    box.el,
    list,
  );
  const row = (r: StoredReceipt) => {
    const grouped = formatReceiptNumber(r.receiptNumber);
    const show = h('button', { type: 'button', 'aria-label': t.show(grouped) }, t.showShort);
    show.addEventListener('click', () => {
      state.shown = r;
      app.go('receipt');
    });
    const cancel = h('button', { type: 'button', class: 'danger', 'aria-label': t.cancelLabel(grouped) }, t.cancel);
    cancel.addEventListener('click', () => confirmCancel(app, r, cancel, section));
    return h(
      'tr',
      {},
      h('th', { scope: 'row', class: 'number' }, grouped),
      certificateCell(app, r),
      h('td', { class: 'num' }, String(r.copies)),
      h('td', { class: 'num' }, i18n.yen(r.fee)),
      h(
        'td',
        {},
        h('span', { class: `badge status-${r.status}` }, t.statuses[r.status]),
        // "Ready to print" alone would not be honest after a refusal: the next try would be refused too until the record changes.
        r.status === 'submitted' && state.refusals.has(r.applicationId) ? h('p', { class: 'status-note' }, i18n.t.format.sentences(t.refusedNote, refusalText(i18n.t, state.refusals.get(r.applicationId)))) : null,
      ),
      h('td', {}, i18n.dateTime(r.expiresAt)),
      h('td', {}, h('div', { class: 'row-actions' }, show, r.status === 'submitted' && state.session ? cancel : null)),
    );
  };
  const render = () => {
    if (!state.receipts.length) return list.replaceChildren(h('p', {}, t.empty));
    const columns = [t.number, t.certificate, t.copies, t.fee, t.status, t.expires, t.actions];
    list.replaceChildren(
      h(
        'table',
        {},
        h('caption', {}, t.caption),
        h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, ...state.receipts.map(row)),
      ),
    );
  };

  render();
  // The stored list shows at once; the server's view follows when signed in.
  if (state.session) void update();
  return {
    el: section,
    heading,
    box,
    refresh: render,
  };
};
