// Confirm: the order as the resident chose it (options, the people on the certificate), then the
// application (the receipt number comes back, or the rules' refusal explained in plain words).
import type { ScreenFactory } from '../context.ts';
import { h, whileBusy } from '../dom.ts';
import { choosablePersons, chosenIds, personsNeeded, requestOf } from '../order.ts';

/** The review screen. */
export const confirmScreen: ScreenFactory = (app) => {
  const { i18n, state } = app;
  const t = i18n.t.confirm;
  const box = app.messages();
  const heading = h('h2', { id: 'screen-title', tabindex: -1 }, t.title);
  const section = h('section', { class: 'screen', 'aria-labelledby': 'screen-title' }, heading);
  const order = state.draft;
  const info = state.catalog?.certificateTypes.find((x) => x.type === order?.certificateType);
  if (!order || !info) {
    // Nothing chosen yet (or the catalog changed): choosing comes first.
    queueMicrotask(() => app.go('apply'));
    return { el: section, heading, box };
  }
  const row = (term: string, value: string) => [h('dt', {}, term), h('dd', {}, value)];
  const source = personsNeeded(info, order.options);
  // Names once the resident's records are here (after a new sign-in they follow the screen).
  const personsValue = h('dd', { id: 'confirm-persons' });
  const renderPersons = () => {
    const ids = chosenIds(order) ?? [];
    const people = (state.subjects && source && choosablePersons(state.subjects, source)) || [];
    personsValue.textContent = ids.map((id) => people.find((p) => p.id === id)?.name ?? id).join(t.personList);
  };
  const submit = h('button', { type: 'button', class: 'primary' }, t.submit);
  submit.addEventListener('click', () => {
    box.info((s) => s.confirm.busy);
    void whileBusy(submit, async () => {
      try {
        state.shown = await app.api.invoke['applications.apply'](requestOf(order, info));
        state.draft = null;
        app.go('receipt');
      } catch (e) {
        app.fail(e, box);
      }
    });
  });
  renderPersons();
  section.append(
    h('p', {}, t.intro),
    h(
      'dl',
      { class: 'summary' },
      ...row(t.certificate, i18n.pick(info.name)),
      ...info.options.flatMap((o) => row(i18n.optionLabel(o), i18n.valueLabel(o, order.options[o.name] ?? o.default))),
      ...(source ? [h('dt', {}, t.persons), personsValue] : []),
      ...row(t.copies, t.copiesValue(order.copies)),
      ...row(t.fee, `${i18n.yen(info.fee * order.copies)} (${i18n.t.apply.totalDetail(i18n.yen(info.fee), order.copies)})`),
    ),
    box.el,
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', onclick: () => app.go('apply') }, t.back)),
  );
  return { el: section, heading, box, refresh: renderPersons };
};
