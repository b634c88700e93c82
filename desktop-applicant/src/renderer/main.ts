// Renderer entry: the same code in Electron and in a browser; only the transport differs (the
// preload's bridge, or the web-mode bridge to the local host).
import { applicantChannels, applicantEvents, rendererApi } from '@cert/common';
import { createWebTransport } from '@cert/common/browser';
import { applicantStrings } from '@cert/common/i18n';
import { App } from './app.ts';
import { h } from './dom.ts';

const root = document.getElementById('app')!;
try {
  const bridge = window.applicantBridge;
  const api = rendererApi(applicantChannels, applicantEvents, bridge ?? createWebTransport());
  await new App(api, !bridge).start(root);
} catch (e) {
  // Nothing works without the host: say so in both languages (the language choice needs the app).
  console.error(e);
  root.replaceChildren(
    h('main', { class: 'fatal' }, h('p', { lang: 'ja', role: 'alert' }, applicantStrings.ja.app.fatal), h('p', { lang: 'en' }, applicantStrings.en.app.fatal)),
  );
}
