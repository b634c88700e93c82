// The kiosk's screen flow: start → receipt entry → checking → approve on your device → pay (a
// kiosk that takes the fee) → printing → done, or a result screen saying why not. Follows the core's progress events, returns to
// start after inactivity, takes scanner bursts, and lets staff leave with the admin code.
import { IpcCallError, type CreateIssuanceResponse, type IpcError, type KioskInfo, type KioskOutcomeView, type KioskProgressView, type RendererApi, type kioskChannels, type kioskEvents } from '@cert/common';
import { KIOSK_LANGUAGE_TAGS, KIOSK_STRINGS, type KioskLanguage } from '@cert/common/i18n';
import { h } from './dom.ts';
import { idleDeadline } from './idle-policy.ts';
import { ipcFailureResult, moneyLines, outcomeResult, type ResultActions } from './outcome-results.ts';
import { entryState, receiptFromScan } from './receipt-entry.ts';
import { ScannerBurst } from './scanner-burst.ts';
import { adminView, approveView, checkingView, doneView, entryView, messageView, payView, printingView, resultView, startView, type ScreenContext, type View } from './screens.ts';

/** The renderer's API to the kiosk core (preload in Electron, web bridge in web mode). */
export type KioskRendererApi = RendererApi<typeof kioskChannels, typeof kioskEvents>;

// The language a new resident finds; every return to start after inactivity comes back to it.
const DEFAULT_LANGUAGE: KioskLanguage = 'ja';
// Staff open the admin screen by tapping the title this many times within ADMIN_TAP_WINDOW_MS.
const ADMIN_TAPS = 5;
const ADMIN_TAP_WINDOW_MS = 3000;
// Out of service (no host, no configuration): look again this often.
const RETRY_BOOT_MS = 15_000;

// What the printing screen says for each IPP job state; aborted/canceled end in a result screen.
const JOB_TEXT: Partial<Record<Extract<KioskProgressView, { kind: 'job' }>['job']['state'], 'jobPending' | 'jobProcessing' | 'jobStopped' | 'jobCompleted'>> = {
  pending: 'jobPending',
  'pending-held': 'jobPending',
  processing: 'jobProcessing',
  'processing-stopped': 'jobStopped',
  completed: 'jobCompleted',
};

/** The issuance the screens are following. */
interface Following {
  receipt: string;
  claim: CreateIssuanceResponse | null;
}

const asIpcError = (e: unknown): IpcError => (e instanceof IpcCallError ? e.error : { code: 'renderer_error', message: e instanceof Error ? e.message : String(e) });

/** The kiosk UI in `root`; call {@link boot} once. */
export class KioskUi {
  private lang: KioskLanguage = DEFAULT_LANGUAGE;
  private info: KioskInfo | null = null;
  private view: View | null = null;
  private printing: ReturnType<typeof printingView> | null = null;
  private paying: ReturnType<typeof payView> | null = null;
  private following: Following | null = null;
  /** The last issue call, cancelled or not: the next one waits for it to end. */
  private pending: Promise<unknown> = Promise.resolve();
  private lastActivity = Date.now();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private adminTaps: number[] = [];
  private readonly burst = new ScannerBurst();
  private readonly title = h('p', { class: 'app-title' });
  private readonly store = h('p', { class: 'store-name' });
  private readonly main = h('main', { class: 'stage' });

  constructor(
    private readonly root: HTMLElement,
    private readonly api: KioskRendererApi,
  ) {
    root.replaceChildren(h('header', { class: 'topbar' }, this.title, this.store), this.main);
    window.addEventListener('keydown', (e) => this.onKey(e), true);
    window.addEventListener('pointerdown', () => this.touch(), true);
    this.title.addEventListener('pointerdown', () => this.onTitleTap());
  }

  /** Loads the appliance's info and shows the start screen (or out of service). */
  async boot(): Promise<void> {
    try {
      this.info = await this.api.invoke['kiosk.info']();
    } catch (e) {
      const error = asIpcError(e);
      this.show(messageView('error', this.t.outOfServiceHeading, [this.t.outOfServiceBody], `${error.code}: ${error.message}`, this.t.staffDetails));
      setTimeout(() => void this.boot(), RETRY_BOOT_MS);
      return;
    }
    // A renderer that crashed and reloaded may have left an issuance running: abandon it, so
    // the receipt stays printable, before anyone new is served.
    this.pending = this.api.invoke['kiosk.cancel']().catch(() => undefined);
    this.api.on('progress', (p) => this.onProgress(p));
    this.goStart(true);
  }

  private get t() {
    return KIOSK_STRINGS[this.lang];
  }

  private get ctx(): ScreenContext {
    return { t: this.t, lang: this.lang, info: this.info! };
  }

  private show<V extends View>(view: V, focus: HTMLElement = view.heading): V {
    this.view?.dispose?.();
    this.view = view;
    this.printing = null;
    this.paying = null;
    const tag = KIOSK_LANGUAGE_TAGS[this.lang];
    document.documentElement.lang = tag;
    document.title = this.t.appTitle;
    this.title.textContent = this.t.appTitle;
    this.store.textContent = this.info?.storeName ?? '';
    this.main.replaceChildren(view.el);
    focus.focus();
    // A screen that appears by itself (timed out, declined, done after a long wait at the phone)
    // gets the full inactivity time to be read: counting from the last touch would send it back
    // to start at once.
    this.lastActivity = Date.now();
    this.armIdle();
    return view;
  }

  // ——— screens ———

  private goStart(newResident: boolean): void {
    if (newResident) this.lang = DEFAULT_LANGUAGE;
    this.show(startView(this.ctx, { language: (l) => this.chooseLanguage(l), start: () => this.showEntry('') }));
  }

  private chooseLanguage(l: KioskLanguage): void {
    this.lang = l;
    const view = this.show(startView(this.ctx, { language: (x) => this.chooseLanguage(x), start: () => this.showEntry('') }));
    // Keep the keyboard where it was: on the language just chosen.
    view.el.querySelector<HTMLElement>(`[data-language="${l}"]`)?.focus();
  }

  private showEntry(digits: string): View {
    return this.show(entryView(this.ctx, digits, { submit: (r) => void this.issue(r), back: () => this.goStart(false) }));
  }

  private showAdmin(): void {
    const view = this.show(
      adminView(this.ctx, {
        back: () => this.goStart(false),
        submit: async (code) => {
          try {
            await this.api.invoke['kiosk.adminExit'](code);
            this.show(messageView('info', this.t.adminClosing, [], null, this.t.staffDetails));
          } catch (e) {
            const error = asIpcError(e);
            view.clear();
            if (error.code === 'admin_code_wrong') view.error(this.t.adminWrong);
            else if (error.code === 'admin_locked') view.error(this.t.adminLocked(error.retryAfterSeconds ?? 60));
            else if (error.code === 'admin_exit_disabled') view.error(this.t.adminDisabled);
            else view.error(`${error.code}: ${error.message}`);
          }
        },
      }),
    );
    // Staff see here what the journal could not settle by itself (job names only).
    void this.api.invoke['kiosk.journal']().then(
      (j) => j.staffChecks.length > 0 && view.notice(this.t.adminJournal(j.staffChecks.length), j.staffChecks.map((c) => c.jobName)),
      () => undefined,
    );
  }

  private resultActions(receipt: string): ResultActions {
    return { retry: () => void this.issue(receipt), reenter: () => this.showEntry(''), restart: () => this.goStart(true) };
  }

  private showOutcome(outcome: KioskOutcomeView, receipt: string): void {
    // The paper is out either way; telling the server is the journal's job, not the resident's.
    if (outcome.status === 'printed' || outcome.status === 'printed_unreported') this.show(doneView(this.ctx, { finish: () => this.goStart(true) }, moneyLines(outcome, this.t)));
    else this.show(resultView(this.ctx, outcomeResult(outcome, this.t, this.resultActions(receipt))));
  }

  // ——— one issuance ———

  private async issue(receipt: string): Promise<void> {
    if (this.following) return; // a second tap on Continue
    const mine: Following = { receipt, claim: null };
    this.following = mine;
    this.show(checkingView(this.ctx));
    const before = this.pending;
    const call = before.then(() => this.api.invoke['kiosk.issue'](receipt));
    this.pending = call.catch(() => undefined);
    let result: { outcome: KioskOutcomeView } | { error: IpcError };
    try {
      result = { outcome: await call };
    } catch (e) {
      result = { error: asIpcError(e) };
    }
    // The resident left (Cancel, inactivity): the start screen is already showing.
    if (this.following !== mine) return;
    this.following = null;
    if ('outcome' in result) this.showOutcome(result.outcome, receipt);
    else this.show(resultView(this.ctx, ipcFailureResult(result.error, this.t, this.resultActions(receipt))));
  }

  /** Stops following the issuance and has the core abandon it (the receipt stays printable). */
  private leaveIssuance(newResident: boolean): void {
    this.following = null;
    void this.api.invoke['kiosk.cancel']().catch(() => undefined);
    this.goStart(newResident);
  }

  private showPaying(): ReturnType<typeof payView> {
    if (this.paying) return this.paying;
    const view = this.show(payView(this.ctx, this.following?.claim ?? null, Date.now, { cancel: () => this.cancelPayment() }));
    this.paying = view;
    return view;
  }

  /** Cancel on the payment screen: the core pays everything back; the outcome screen then says what came back. */
  private cancelPayment(): void {
    this.paying?.refunding();
    void this.api.invoke['kiosk.cancel']().catch(() => undefined);
  }

  private showPrinting(): ReturnType<typeof printingView> {
    if (this.printing) return this.printing;
    const view = this.show(printingView(this.ctx, this.following?.claim ?? null));
    this.printing = view;
    return view;
  }

  private onProgress(p: KioskProgressView): void {
    const f = this.following;
    if (!f) return;
    const t = this.t;
    switch (p.kind) {
      case 'claimed':
        f.claim = p.issuance;
        this.show(approveView(this.ctx, p.issuance, Date.now, { cancel: () => this.leaveIssuance(false) }));
        return;
      case 'issuance-status':
        // A kiosk that takes the fee asks for it next; the printing screen follows once paid.
        if (p.status === 'approved' && this.info?.payment === 'cash' && (f.claim?.fee ?? 0) > 0) this.showPaying();
        else if (p.status === 'approved' || p.status === 'delivered') this.showPrinting();
        return;
      case 'payment':
        this.showPaying().update(p.payment);
        return;
      case 'phase':
        if (p.phase === 'refunding') {
          if (this.paying) this.paying.refunding();
          else this.showPrinting().status(t.payRefunding);
        } else if (p.phase === 'fetching_document') this.showPrinting().status(t.printingReceiving);
        else if (p.phase === 'printing') this.showPrinting().status(t.jobPending);
        else if (p.phase === 'reporting' && this.printing) this.printing.status(t.printingFinishing);
        return;
      case 'job': {
        const key = JOB_TEXT[p.job.state];
        if (key) this.showPrinting().status(t[key]);
        return;
      }
      case 'printer':
      case 'outcome':
        // The printer's state shows through the job; the outcome arrives as the call's result.
        return;
    }
  }

  // ——— input ———

  private touch(): void {
    this.lastActivity = Date.now();
    this.armIdle();
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    if (!this.view || !this.info) return;
    const at = idleDeadline(this.view.idle, this.lastActivity, this.info.inactivityMs);
    if (at !== null) this.idleTimer = setTimeout(() => this.onIdle(), Math.max(0, at - Date.now()));
  }

  private onIdle(): void {
    if (this.following) return this.leaveIssuance(true);
    // An idle kiosk already on a fresh start screen stays as it is (no re-announcement).
    if (this.view?.el.classList.contains('screen-start') && this.lang === DEFAULT_LANGUAGE) return;
    this.goStart(true);
  }

  private onTitleTap(): void {
    const now = Date.now();
    this.adminTaps = [...this.adminTaps.filter((t) => now - t < ADMIN_TAP_WINDOW_MS), now];
    if (this.adminTaps.length >= ADMIN_TAPS && !this.following && this.info) {
      this.adminTaps = [];
      this.showAdmin();
    }
  }

  private onKey(e: KeyboardEvent): void {
    this.touch();
    const scanned = this.burst.feed(e.key, e.timeStamp);
    if (scanned !== null) {
      // The scanner's Enter must not also press whatever button has focus.
      e.preventDefault();
      e.stopPropagation();
      this.onScan(scanned);
      return;
    }
    if (this.view?.key?.(e)) {
      e.preventDefault();
      return;
    }
    // A digit where receipts are accepted opens the keypad with it (typed or scanned alike).
    if (this.view?.acceptsReceipt && !this.following && /^[0-9]$/.test(e.key) && !e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault();
      this.showEntry(e.key);
    }
  }

  private onScan(text: string): void {
    if (!this.view?.acceptsReceipt || this.following) return;
    const digits = receiptFromScan(text);
    if (digits === null) return;
    if (entryState(digits) === 'complete') void this.issue(digits);
    // Not a valid receipt: show it on the keypad, where the hint says what is wrong.
    else this.showEntry(digits);
  }
}
