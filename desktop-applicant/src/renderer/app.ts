// The applicant app's shell: header (language, menu, connection), the current screen, the
// server-offline banner and the print confirmation prompt; keeps the state current from events.
import { CERTIFICATE_TYPES, IpcCallError, type CatalogResponse, type CertificateType, type IpcError } from '@cert/common';
import { Attention } from './attention.ts';
import type { AppContext, AppState, ApplicantRendererApi, Notice, Screen, ScreenFactory, ScreenName, SessionView } from './context.ts';
import { h, messages, type Messages } from './dom.ts';
import { I18n } from './i18n.ts';
import { PrintPrompt } from './print-prompt.ts';
import { applyScreen } from './screens/apply-screen.ts';
import { confirmScreen } from './screens/confirm-screen.ts';
import { connectScreen } from './screens/connect-screen.ts';
import { loginScreen } from './screens/login-screen.ts';
import { phonesScreen } from './screens/phones-screen.ts';
import { receiptScreen } from './screens/receipt-screen.ts';
import { receiptsScreen } from './screens/receipts-screen.ts';
import { errorText } from './texts.ts';

const SCREENS: Record<ScreenName, ScreenFactory> = {
  connect: connectScreen,
  login: loginScreen,
  apply: applyScreen,
  confirm: confirmScreen,
  receipt: receiptScreen,
  receipts: receiptsScreen,
  phones: phonesScreen,
};

/** The menu entries, in order (each names the screen it leads to). */
const MENU = ['apply', 'receipts', 'phones', 'connect'] as const;

/** Seconds between tries while the server is unreachable (then the last one, repeated). */
const RETRY_DELAYS_S = [3, 6, 12, 30];

/** The IpcError inside whatever a call threw. */
function ipcError(err: unknown): IpcError {
  return err instanceof IpcCallError ? err.error : { code: 'unexpected', message: String(err) };
}

/** Copies the typed values (text fields, selects, checkboxes; never passwords) between two builds of a screen, by id. */
function keepTyped(from: HTMLElement, to: HTMLElement): void {
  for (const old of from.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input:not([type=password])[id], select[id]')) {
    const twin = to.querySelector<HTMLInputElement | HTMLSelectElement>(`#${CSS.escape(old.id)}`);
    if (!twin) continue;
    if (old instanceof HTMLInputElement && (old.type === 'checkbox' || old.type === 'radio')) (twin as HTMLInputElement).checked = old.checked;
    else twin.value = old.value;
  }
}

/** The applicant app in the page. */
export class App implements AppContext {
  readonly i18n = new I18n();
  readonly state: AppState = {
    serverUrl: null,
    catalog: null,
    session: null,
    subjects: null,
    card: { state: 'no_reader' },
    connection: 'stopped',
    receipts: [],
    draft: null,
    shown: null,
    refusals: new Map(),
  };
  private screenName: ScreenName = 'connect';
  private screen: Screen | null = null;
  private readonly attention: Attention;
  private readonly prompt: PrintPrompt;
  private retry: { timer: ReturnType<typeof setTimeout>; attempt: number } | null = null;
  private readonly main = h('main', { id: 'main', tabindex: -1 });
  private readonly header = h('header', { class: 'app-header' });
  private readonly banner = h('div', { class: 'banner', id: 'server-banner', role: 'status' });
  private readonly headerParts = {
    skip: h('a', { class: 'skip-link', href: '#main' }),
    title: h('h1'),
    municipality: h('p', { class: 'municipality' }),
    notify: h('button', { type: 'button' }),
    lang: h('button', { type: 'button', id: 'lang-switch' }),
    nav: h('nav'),
    menu: { apply: h('button', { type: 'button' }), receipts: h('button', { type: 'button' }), phones: h('button', { type: 'button' }), connect: h('button', { type: 'button' }) },
    session: h('p', { id: 'session-status' }),
    connection: h('p', { id: 'connection-status', role: 'status' }),
  };

  constructor(
    readonly api: ApplicantRendererApi,
    webMode: boolean,
  ) {
    this.attention = new Attention(webMode);
    this.prompt = new PrintPrompt(this, this.attention);
  }

  /** Renders the shell, hooks the events and shows the first screen. */
  async start(root: HTMLElement): Promise<void> {
    root.replaceChildren(this.header, this.banner, this.main);
    this.banner.hidden = true;
    this.buildHeader();
    this.renderHeader();
    const { api, state } = this;
    api.on('card', (s) => this.update(() => (state.card = s)));
    api.on('connection', (s) => this.update(() => (state.connection = s)));
    api.on('receipts', (r) => this.update(() => (state.receipts = r)));
    api.on('confirmation-request', (r) => this.prompt.add(r));
    api.on('confirmation-closed', (c) => {
      const applicationId = this.prompt.closed(c.requestId, c.status, c.reason);
      // The receipt list says "ready to print" again after a refusal: it also says why the last try was refused.
      if (applicationId && c.status === 'refused') this.update(() => state.refusals.set(applicationId, c.reason));
    });
    const [settings, card, session, connection, receipts, pending] = await Promise.all([
      api.invoke['settings.get'](),
      api.invoke['card.status'](),
      api.invoke['auth.session'](),
      api.invoke['connection.state'](),
      api.invoke['applications.list'](),
      api.invoke['confirmations.pending'](),
    ]);
    Object.assign(state, { serverUrl: settings.serverUrl, card, session, connection, receipts });
    if (!state.serverUrl) return this.go('connect');
    this.go(session ? 'apply' : 'login');
    pending.forEach((r) => this.prompt.add(r));
    await this.loadCatalog();
    if (session) await this.loadSubjects();
  }

  /** Whom the signed-in resident may put on a certificate; the apply screen waits for it to offer the choice. */
  private async loadSubjects(): Promise<void> {
    try {
      const subjects = await this.api.invoke['subjects.get']();
      this.update(() => (this.state.subjects = subjects));
    } catch (e) {
      if (this.screen) this.fail(e, this.screen.box);
    }
  }

  private async loadCatalog(): Promise<void> {
    try {
      this.state.catalog = await this.api.invoke['catalog.get']();
      this.update(() => {});
    } catch (e) {
      if (this.screen) this.fail(e, this.screen.box);
    }
  }

  /** Applies a state change and refreshes what shows it. */
  private update(change: () => void): void {
    change();
    this.renderHeader();
    this.screen?.refresh?.();
  }

  messages(): Messages {
    return messages(() => this.i18n.t);
  }

  go(name: ScreenName, notice: Notice = {}): void {
    this.screen?.dispose?.();
    this.screenName = name;
    this.screen = SCREENS[name](this);
    this.main.replaceChildren(this.screen.el);
    if (notice.error) this.screen.box.error(notice.error);
    else if (notice.info) this.screen.box.info(notice.info);
    this.renderHeader();
    this.screen.heading.focus();
  }

  connected(serverUrl: string | null, catalog: CatalogResponse): void {
    Object.assign(this.state, { serverUrl, catalog });
    this.go(this.state.session ? 'apply' : 'login');
  }

  signedIn(session: SessionView): void {
    // Another card may have signed in: never show the previous resident's household meanwhile.
    Object.assign(this.state, { session, subjects: null });
    this.go(this.state.draft ? 'confirm' : 'apply', { info: (t) => t.pin.signedIn(session.displayName) });
    void this.loadSubjects();
    void this.api.invoke['applications.list']().then(
      (r) => this.update(() => (this.state.receipts = r)),
      () => undefined, // the stored list stays; the list screen retries and explains
    );
  }

  certificateName(type: string): string {
    const info = this.state.catalog?.certificateTypes.find((x) => x.type === type);
    if (info) return this.i18n.pick(info.name);
    return (CERTIFICATE_TYPES as readonly string[]).includes(type) ? this.i18n.t.certificateNames[type as CertificateType] : type;
  }

  fail(err: unknown, box: Messages, { offlineRetry = true } = {}): void {
    const e = ipcError(err);
    if (e.code === 'session_invalid' || e.code === 'not_signed_in') {
      this.state.session = null;
      const code = e.code;
      return this.go('login', { error: this.state.draft ? (t) => t.confirm.signInAgain : (t) => t.errors[code] });
    }
    if (e.code === 'no_server') return this.go('connect', { error: (t) => t.errors.no_server });
    if (e.code === 'server_unreachable' && offlineRetry) this.startRetry();
    box.error((t) => errorText(t, e));
  }

  /** Polls the server (its catalog) with growing pauses until it answers; the banner says so. */
  private startRetry(): void {
    if (this.retry) return;
    this.scheduleRetry(0);
    this.renderBanner();
  }

  private scheduleRetry(attempt: number): void {
    const delay = RETRY_DELAYS_S[Math.min(attempt, RETRY_DELAYS_S.length - 1)]!;
    this.retry = { attempt, timer: setTimeout(() => void this.retryNow(), delay * 1000) };
  }

  private async retryNow(): Promise<void> {
    const retry = this.retry;
    if (!retry) return;
    clearTimeout(retry.timer);
    try {
      this.state.catalog = await this.api.invoke['catalog.get']();
    } catch {
      if (this.retry === retry) this.scheduleRetry(retry.attempt + 1);
      return;
    }
    this.retry = null;
    this.renderBanner(this.i18n.t.connection.serverBack);
    this.update(() => {});
  }

  private renderBanner(done?: string): void {
    const t = this.i18n.t.connection;
    if (this.retry) {
      this.banner.hidden = false;
      this.banner.className = 'banner tone-warn';
      this.banner.replaceChildren(h('p', {}, t.serverRetrying), h('button', { type: 'button', onclick: () => void this.retryNow() }, t.retryNow));
    } else if (done) {
      this.banner.className = 'banner tone-ok';
      this.banner.replaceChildren(h('p', {}, done));
      setTimeout(() => {
        if (!this.retry) this.banner.hidden = true;
      }, 4000);
    }
  }

  private switchLanguage(): void {
    this.i18n.set(this.i18n.lang === 'ja' ? 'en' : 'ja');
    this.renderHeader();
    this.renderBanner();
    // Rebuild the screen in the new language with what the resident typed and the message it
    // showed (never the PIN); the keyboard focus stays on the switch.
    const old = this.screen;
    old?.dispose?.();
    this.screen = SCREENS[this.screenName](this);
    if (old) {
      this.screen.box.carry(old.box);
      keepTyped(old.el, this.screen.el);
    }
    this.main.replaceChildren(this.screen.el);
    this.prompt.rerender();
    document.getElementById('lang-switch')?.focus();
  }

  /** Builds the header once; renderHeader() only updates it, so the keyboard focus never jumps. */
  private buildHeader(): void {
    const hd = this.headerParts;
    hd.skip.addEventListener('click', (ev) => {
      ev.preventDefault();
      this.main.focus();
    });
    hd.lang.addEventListener('click', () => this.switchLanguage());
    hd.notify.addEventListener('click', () => void this.attention.askPermission().then(() => this.renderHeader()));
    for (const name of MENU) hd.menu[name].addEventListener('click', () => this.go(name === 'apply' && !this.state.session ? 'login' : name));
    hd.nav.append(h('ul', {}, ...MENU.map((name) => h('li', {}, hd.menu[name]))));
    this.header.append(
      hd.skip,
      h('div', { class: 'bar' }, h('div', { class: 'brand' }, hd.title, hd.municipality), h('div', { class: 'tools' }, hd.notify, hd.lang)),
      hd.nav,
      h('div', { class: 'status-line' }, hd.session, hd.connection),
    );
  }

  private renderHeader(): void {
    const { t, lang } = this.i18n;
    const { state } = this;
    const hd = this.headerParts;
    this.attention.setTitle(t.app.title);
    hd.skip.textContent = t.app.skipToMain;
    hd.title.textContent = t.app.title;
    hd.municipality.textContent = state.catalog ? t.app.municipality(state.catalog.municipality.name) : '';
    hd.municipality.hidden = !state.catalog;
    hd.notify.textContent = t.app.enableNotifications;
    hd.notify.hidden = !this.attention.canAskPermission;
    hd.lang.textContent = t.app.switchLanguage;
    hd.lang.lang = lang === 'ja' ? 'en' : 'ja';
    hd.lang.setAttribute('aria-label', t.app.switchLanguageLabel);
    hd.nav.setAttribute('aria-label', t.app.nav);
    const labels = { apply: t.app.navApply, receipts: t.app.navReceipts, phones: t.app.navPhones, connect: t.app.navServer };
    const active: Record<ScreenName, (typeof MENU)[number]> = { connect: 'connect', login: 'apply', apply: 'apply', confirm: 'apply', receipt: 'apply', receipts: 'receipts', phones: 'phones' };
    for (const name of MENU) {
      const button = hd.menu[name];
      button.textContent = labels[name];
      button.parentElement!.hidden = name !== 'connect' && !state.serverUrl;
      if (active[this.screenName] === name) button.setAttribute('aria-current', 'page');
      else button.removeAttribute('aria-current');
    }
    hd.session.textContent = state.session ? t.app.signedInAs(state.session.displayName) : '';
    hd.session.hidden = !state.session;
    const connection = state.session ? state.connection : 'stopped';
    // Only a real change is written, so screen readers announce the connection once per change.
    if (hd.connection.textContent !== t.connection[connection]) hd.connection.textContent = t.connection[connection];
    hd.connection.className = `connection-${connection}`;
    hd.connection.hidden = !state.serverUrl;
  }
}
