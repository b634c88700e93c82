// Apply: the certificate from the catalog, its options (labels from the catalog), copies and fee.
import type { CertificateTypeInfo } from '@cert/common';
import type { AppContext, Order, ScreenFactory } from '../context.ts';
import { h } from '../dom.ts';

/** A fresh order for a certificate type: its default options, one copy. */
function defaultOrder(info: CertificateTypeInfo): Order {
  return { certificateType: info.type, options: Object.fromEntries(info.options.map((o) => [o.name, o.default])), copies: 1 };
}

/** A group of radio buttons under a legend; calls `onPick` with the chosen value. */
function radioGroup(name: string, legend: string, choices: { value: string; label: string; detail?: string }[], checked: string, onPick: (v: string) => void): HTMLFieldSetElement {
  return h(
    'fieldset',
    { class: 'choices' },
    h('legend', {}, legend),
    ...choices.map((c, i) => {
      const id = `${name}-${i}`;
      return h(
        'div',
        { class: 'choice' },
        h('input', { type: 'radio', id, name, value: c.value, checked: c.value === checked, onchange: () => onPick(c.value) }),
        h('label', { for: id }, c.label, c.detail ? h('span', { class: 'detail' }, c.detail) : null),
      );
    }),
  );
}

/** The form for the catalog's certificate types; the order lives in app.state.draft. */
function orderForm(app: AppContext, types: CertificateTypeInfo[]): HTMLFormElement {
  const { i18n } = app;
  const t = i18n.t.apply;
  const infoOf = (type: string) => types.find((x) => x.type === type) ?? types[0]!;
  const stored = app.state.draft;
  const order: Order = stored && types.some((x) => x.type === stored.certificateType) ? stored : defaultOrder(types[0]!);
  app.state.draft = order;

  const optionsArea = h('div');
  const copies = h('select', { id: 'copies', name: 'copies', 'aria-describedby': 'copies-hint' });
  const copiesHint = h('p', { id: 'copies-hint', class: 'hint' });
  const total = h('p', { class: 'total', id: 'fee-total', 'aria-live': 'polite' });
  const renderTotal = () => {
    const fee = infoOf(order.certificateType).fee;
    total.replaceChildren(h('span', { class: 'total-label' }, `${t.total}: `), h('strong', {}, i18n.yen(fee * order.copies)), ` (${t.totalDetail(i18n.yen(fee), order.copies)})`);
  };
  const renderOptions = () => {
    const info = infoOf(order.certificateType);
    optionsArea.replaceChildren(
      ...info.options.map((o) =>
        radioGroup(
          `option-${o.name}`,
          i18n.optionLabel(o),
          o.values.map((v) => ({ value: v, label: i18n.valueLabel(o, v) })),
          order.options[o.name] ?? o.default,
          (v) => (order.options[o.name] = v),
        ),
      ),
    );
    copies.replaceChildren(...Array.from({ length: info.maxCopies }, (_, i) => h('option', { value: i + 1, selected: i + 1 === order.copies }, String(i + 1))));
    copiesHint.textContent = t.copiesHint(info.maxCopies);
    renderTotal();
  };
  copies.addEventListener('change', () => {
    order.copies = Number(copies.value);
    renderTotal();
  });

  const form = h(
    'form',
    { novalidate: true },
    radioGroup(
      'certificate',
      t.certificate,
      types.map((x) => ({ value: x.type, label: i18n.pick(x.name), detail: t.feePerCopy(i18n.yen(x.fee)) })),
      order.certificateType,
      (type) => {
        Object.assign(order, defaultOrder(infoOf(type)));
        renderOptions();
      },
    ),
    optionsArea,
    h('div', { class: 'field' }, h('label', { for: 'copies' }, t.copies), copiesHint, copies),
    total,
    h('p', { class: 'hint' }, t.payAtStore),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t.next)),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    app.go('confirm');
  });
  renderOptions();
  return form;
}

/** The certificate choice screen. */
export const applyScreen: ScreenFactory = (app) => {
  const t = app.i18n.t;
  const box = app.messages();
  const heading = h('h2', { id: 'screen-title', tabindex: -1 }, t.apply.title);
  const body = h('div');
  // The catalog may arrive later (server offline at start): build the form once it is here.
  const refresh = () => {
    if (body.firstChild || !app.state.catalog) return;
    const types = app.state.catalog.certificateTypes;
    body.append(types.length ? orderForm(app, types) : h('p', {}, t.apply.noCertificates));
  };
  refresh();
  return { el: h('section', { class: 'screen', 'aria-labelledby': 'screen-title' }, heading, box.el, body), heading, box, refresh };
};
