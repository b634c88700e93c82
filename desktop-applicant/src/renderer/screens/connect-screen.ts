// Connect: the municipality's server URL, checked by fetching its catalog, then saved.
import type { ScreenFactory } from '../context.ts';
import { h, whileBusy } from '../dom.ts';

/** Accepts only http(s) URLs; the host checks the rest by talking to the server. */
function validUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

/** The connect screen. */
export const connectScreen: ScreenFactory = (app) => {
  const t = app.i18n.t.connect;
  const box = app.messages();
  const heading = h('h2', { id: 'screen-title', tabindex: -1 }, t.title);
  const input = h('input', {
    id: 'server-url',
    type: 'url',
    name: 'server-url',
    required: true,
    autocomplete: 'url',
    spellcheck: 'false',
    'aria-describedby': 'server-url-hint',
    value: app.state.serverUrl ?? '',
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, t.submit);
  const form = h(
    'form',
    { novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'server-url' }, t.urlLabel), h('p', { id: 'server-url-hint', class: 'hint' }, t.urlHint), input),
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const url = input.value.trim();
    if (!validUrl(url)) {
      input.setAttribute('aria-invalid', 'true');
      box.error((s) => s.connect.invalidUrl);
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    box.info((s) => s.connect.busy);
    void whileBusy(submit, async () => {
      try {
        const catalog = await app.api.invoke['server.connect'](url);
        const { serverUrl } = await app.api.invoke['settings.get']();
        app.connected(serverUrl, catalog);
      } catch (e) {
        // A wrong address is the resident's to fix: no background retry against it.
        app.fail(e, box, { offlineRetry: false });
        input.focus();
      }
    });
  });
  return { el: h('section', { class: 'screen', 'aria-labelledby': 'screen-title' }, heading, h('p', {}, t.intro), form, box.el), heading, box };
};
