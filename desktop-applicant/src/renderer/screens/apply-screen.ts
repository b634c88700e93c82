// Apply: every certificate type of the catalog (fee per copy, service hours, whether stores print
// it now), its options as labelled choices (the items to print or leave out together, compactly),
// the people on the certificate where the type names them (household members or 戸籍 persons, the
// resident preselected, shown under the scope that asks for them), copies and the total fee.
import type { CertificateOption, CertificateTypeInfo, SubjectsResponse } from '@cert/common';
import type { AppContext, ScreenFactory } from '../context.ts';
import { h, type Messages, type Text } from '../dom.ts';
import type { I18n } from '../i18n.ts';
import { refusalText, serviceHoursText } from '../texts.ts';
import { choosablePersons, choose, chosenIds, defaultOrder, personsNeeded, type Order, type PersonSource } from '../order.ts';

/** A line under a choice's label; `warn` says the choice is likely to be refused or not printable now. */
interface Detail {
  text: string;
  warn?: boolean;
}

interface Choice {
  value: string;
  label: string;
  details?: Detail[];
}

/** One radio button with its label (and the lines under it); ids are `<name>-<index>` so that a rebuilt screen keeps the choice. */
function radio(name: string, i: number, c: Choice, checked: string, onPick: (v: string) => void): HTMLElement {
  const id = `${name}-${i}`;
  return h(
    'div',
    { class: 'choice' },
    h('input', { type: 'radio', id, name, value: c.value, checked: c.value === checked, onchange: () => onPick(c.value) }),
    h('label', { for: id }, c.label, ...(c.details ?? []).map((d) => h('span', { class: d.warn ? 'detail warn' : 'detail' }, d.text))),
  );
}

/** A group of radio buttons under a legend; `reveal` goes right under the choice that needs it (the people under "chosen members"). */
function radioGroup(name: string, legend: string, choices: Choice[], checked: string, onPick: (v: string) => void, reveal?: { value: string; el: HTMLElement }): HTMLFieldSetElement {
  return h(
    'fieldset',
    { class: 'choices' },
    h('legend', {}, legend),
    ...choices.flatMap((c, i) => [radio(name, i, c, checked, onPick), c.value === reveal?.value ? reveal.el : null]),
  );
}

/** The two values of an option that prints an item or leaves it out (本籍・筆頭者, 続柄 …), in the order shown. */
const ITEM_VALUES = ['include', 'omit'];
const isItem = (o: CertificateOption) => o.values.length === 2 && ITEM_VALUES.every((v) => o.values.includes(v));

/** The print-or-omit options as one compact group: a row per item, its two choices side by side. */
function itemGroup(app: AppContext, order: Order, items: CertificateOption[]): HTMLFieldSetElement {
  const { i18n } = app;
  return h(
    'fieldset',
    { class: 'choices items' },
    h('legend', {}, i18n.t.apply.items),
    ...items.map((o) => {
      const name = `option-${o.name}`;
      const pick = (v: string) => (order.options[o.name] = v);
      return h(
        'div',
        { class: 'item', role: 'radiogroup', 'aria-labelledby': `${name}-label` },
        h('span', { class: 'item-label', id: `${name}-label` }, i18n.optionLabel(o)),
        // Always "include" before "omit", whichever is the default: the rows read alike.
        h('div', { class: 'item-choices' }, ...ITEM_VALUES.map((v, i) => radio(name, i, { value: v, label: i18n.valueLabel(o, v) }, order.options[o.name] ?? o.default, pick))),
      );
    }),
  );
}

/** The certificate types as choices: fee per copy, service hours, and what the resident's records say in advance. */
function typeChoices(i18n: I18n, types: CertificateTypeInfo[], subjects: SubjectsResponse | null): Choice[] {
  const t = i18n.t.apply;
  return types.map((x) => {
    const details: Detail[] = [{ text: x.serviceHours?.length ? `${t.feePerCopy(i18n.yen(x.fee))} · ${t.serviceHours(serviceHoursText(i18n.t, x.serviceHours))}` : t.feePerCopy(i18n.yen(x.fee)) }];
    if (x.availableNow === false) details.push({ text: t.notAvailableNow, warn: true });
    if (x.type === 'inkan' && subjects && !subjects.seal) details.push({ text: t.noSeal, warn: true });
    return { value: x.type, label: i18n.pick(x.name), details };
  });
}

/** An option's values as choices; a fiscal year says whose income it covers and whether a record exists. */
function optionChoices(i18n: I18n, option: CertificateOption, subjects: SubjectsResponse | null): Choice[] {
  const t = i18n.t.apply;
  return option.values.map((v) => {
    if (option.name !== 'fiscalYear') return { value: v, label: i18n.valueLabel(option, v) };
    // 住民税 of a fiscal year is assessed on the income of the calendar year before it.
    const details: Detail[] = [{ text: t.incomeOf(Number(v) - 1) }];
    if (subjects && !subjects.taxYears.includes(Number(v))) details.push({ text: t.noTaxRecord, warn: true });
    return { value: v, label: i18n.valueLabel(option, v), details };
  });
}

/** The people to put on the certificate: checkboxes, the resident preselected, 除籍 persons marked. */
function personChooser(app: AppContext, order: Order, source: PersonSource): HTMLElement {
  const { i18n, state } = app;
  const t = i18n.t.apply;
  if (!state.subjects) return h('p', { class: 'hint', id: 'persons', role: 'status' }, t.personsLoading);
  const people = choosablePersons(state.subjects, source);
  if (!people) return h('p', { class: 'status-box tone-warn', id: 'persons' }, refusalText(i18n.t, 'koseki_not_here'));
  // First visit: the resident themselves, as the usual choice.
  if (chosenIds(order) === undefined) choose(order, people.filter((p) => p.self).map((p) => p.id));
  const chosen = new Set(chosenIds(order));
  const boxes = people.map((p, i) => h('input', { type: 'checkbox', id: `person-${i}`, value: p.id, checked: chosen.has(p.id) }));
  for (const b of boxes) b.addEventListener('change', () => choose(order, boxes.filter((x) => x.checked).map((x) => x.value)));
  return h(
    'fieldset',
    { class: 'choices persons', id: 'persons', 'aria-describedby': 'persons-hint' },
    h('legend', {}, t.persons),
    h('p', { class: 'hint', id: 'persons-hint' }, source === 'household' ? t.personsFromHousehold : t.personsFromKoseki),
    ...people.map((p, i) =>
      h(
        'div',
        { class: 'choice' },
        boxes[i],
        h(
          'label',
          { for: boxes[i]!.id },
          p.name,
          p.self ? t.you : null,
          p.relationship ? h('span', { class: 'relationship' }, p.relationship) : null,
          p.removed ? h('span', { class: 'badge badge-removed' }, t.removed) : null,
        ),
      ),
    ),
  );
}

/** Why the order cannot go on as it is, when it names people and none are chosen (or none can be). */
function personsProblem(app: AppContext, order: Order, info: CertificateTypeInfo): Text | null {
  const source = personsNeeded(info, order.options);
  if (!source || chosenIds(order)?.length) return null;
  if (app.state.subjects && !choosablePersons(app.state.subjects, source)) return (s) => refusalText(s, 'koseki_not_here');
  return (s) => s.apply.choosePersons;
}

/** The form for the catalog's certificate types; the order lives in app.state.draft. */
function orderForm(app: AppContext, types: CertificateTypeInfo[], box: Messages): { form: HTMLFormElement; refresh(): void } {
  const { i18n } = app;
  const t = i18n.t.apply;
  const infoOf = (type: string) => types.find((x) => x.type === type) ?? types[0]!;
  const stored = app.state.draft;
  const order: Order = stored && types.some((x) => x.type === stored.certificateType) ? stored : defaultOrder(types[0]!);
  app.state.draft = order;

  const typeArea = h('div');
  const optionsArea = h('div');
  const personsArea = h('div');
  const copies = h('select', { id: 'copies', name: 'copies', 'aria-describedby': 'copies-hint' });
  const copiesHint = h('p', { id: 'copies-hint', class: 'hint' });
  const total = h('p', { class: 'total', id: 'fee-total', 'aria-live': 'polite' });
  const renderTotal = () => {
    const fee = infoOf(order.certificateType).fee;
    total.replaceChildren(h('span', { class: 'total-label' }, `${t.total}: `), h('strong', {}, i18n.yen(fee * order.copies)), ` (${t.totalDetail(i18n.yen(fee), order.copies)})`);
  };
  const renderPersons = () => {
    const source = personsNeeded(infoOf(order.certificateType), order.options);
    personsArea.replaceChildren(...(source ? [personChooser(app, order, source)] : []));
  };
  const renderTypes = () =>
    typeArea.replaceChildren(
      radioGroup('certificate', t.certificate, typeChoices(i18n, types, app.state.subjects), order.certificateType, (type) => {
        Object.assign(order, defaultOrder(infoOf(type)));
        renderOptions();
      }),
    );
  const renderOptions = () => {
    const info = infoOf(order.certificateType);
    const groups = info.options
      .filter((o) => !isItem(o))
      .map((o) => {
        // The people show under the scope value that asks for them.
        const choosing = o.name === 'scope' ? o.values.find((v) => personsNeeded(info, { ...order.options, scope: v })) : undefined;
        const pick = (v: string) => {
          order.options[o.name] = v;
          if (o.name === 'scope') renderPersons();
        };
        return radioGroup(`option-${o.name}`, i18n.optionLabel(o), optionChoices(i18n, o, app.state.subjects), order.options[o.name] ?? o.default, pick, choosing ? { value: choosing, el: personsArea } : undefined);
      });
    const items = info.options.filter(isItem);
    // A type that always names its people (no scope) asks for them first.
    const scoped = info.options.some((o) => o.name === 'scope');
    personsArea.className = scoped ? 'reveal' : '';
    optionsArea.replaceChildren(...(scoped ? [] : [personsArea]), ...groups, ...(items.length ? [itemGroup(app, order, items)] : []));
    renderPersons();
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
    typeArea,
    optionsArea,
    h('div', { class: 'field' }, h('label', { for: 'copies' }, t.copies), copiesHint, copies),
    total,
    h('p', { class: 'hint' }, t.payAtStore),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t.next)),
  );
  // A message about the last "next" no longer stands once the resident changes anything.
  form.addEventListener('change', () => box.clear());
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const problem = personsProblem(app, order, infoOf(order.certificateType));
    if (problem) {
      box.error(problem);
      form.querySelector<HTMLElement>('#persons input')?.focus();
      return;
    }
    app.go('confirm');
  });
  renderTypes();
  renderOptions();
  // The resident's records (subjects) arrive after the catalog: they add the people and the advance notes.
  return {
    form,
    refresh: () => {
      renderTypes();
      renderOptions();
    },
  };
}

/** The certificate choice screen. */
export const applyScreen: ScreenFactory = (app) => {
  const t = app.i18n.t;
  const box = app.messages();
  const heading = h('h2', { id: 'screen-title', tabindex: -1 }, t.apply.title);
  const body = h('div');
  let form: ReturnType<typeof orderForm> | null = null;
  let subjects = app.state.subjects;
  // The catalog may arrive later (server offline at start): build the form once it is here.
  const refresh = () => {
    if (form) {
      // Rebuilt only when the records changed: a rebuild must not take the focus from the resident's choice.
      if (subjects !== app.state.subjects) {
        subjects = app.state.subjects;
        form.refresh();
      }
      return;
    }
    if (!app.state.catalog) return;
    const types = app.state.catalog.certificateTypes;
    if (!types.length) return body.replaceChildren(h('p', {}, t.apply.noCertificates));
    form = orderForm(app, types, box);
    body.replaceChildren(form.form);
  };
  refresh();
  return { el: h('section', { class: 'screen', 'aria-labelledby': 'screen-title' }, heading, box.el, body), heading, box, refresh };
};
