// The print confirmation prompt: when a kiosk asks to print one of the resident's receipts, a
// modal dialog shows the store, the certificate, copies, fee and the time left, and sends the
// resident's Approve or Decline. Requests arriving meanwhile wait in line.
import { FINAL_ISSUANCE_STATUSES, formatReceiptNumber, type IssuanceStatus, type PrintConfirmationRequest } from '@cert/common';
import type { Attention } from './attention.ts';
import type { AppContext } from './context.ts';
import { h, whileBusy, type Messages } from './dom.ts';
import { refusalText } from './texts.ts';

interface Shown {
  req: PrintConfirmationRequest;
  /** The attempt's status as the server last reported it. */
  status: IssuanceStatus;
  /** The resident's answer went out (the dialog waits for the outcome). */
  answered: boolean;
  /** Why the attempt was refused, when it was. */
  reason?: string;
}

/** The print confirmation dialog and its queue. */
export class PrintPrompt {
  private readonly queue: PrintConfirmationRequest[] = [];
  private shown: Shown | null = null;
  private readonly dialog: HTMLDialogElement;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private box: Messages;

  constructor(
    private readonly app: AppContext,
    private readonly attention: Attention,
  ) {
    this.box = app.messages();
    this.dialog = h('dialog', { class: 'dialog prompt', id: 'print-prompt', 'aria-labelledby': 'prompt-title', 'aria-describedby': 'prompt-intro' });
    // Esc must never stand in for an answer: while the request is open, only the buttons decide.
    this.dialog.addEventListener('cancel', (ev) => {
      if (this.shown && !this.finished) ev.preventDefault();
    });
    document.body.append(this.dialog);
  }

  private get finished(): boolean {
    // outcome_unknown is not final on the server, but nothing will happen here until staff settle it.
    return !!this.shown && (FINAL_ISSUANCE_STATUSES.includes(this.shown.status) || this.shown.status === 'outcome_unknown' || this.expired);
  }

  private get expired(): boolean {
    return !!this.shown && this.shown.status === 'confirmation_pending' && Date.parse(this.shown.req.expiresAt) <= Date.now();
  }

  /** A kiosk asks to print: show it now, or after the one on screen. */
  add(req: PrintConfirmationRequest): void {
    if (this.shown?.req.requestId === req.requestId || this.queue.some((q) => q.requestId === req.requestId)) return;
    this.queue.push(req);
    if (!this.shown) this.next();
  }

  /** The server reports how a request went on (approved → delivered → printed, or its end); returns its application, when the request was known. */
  closed(requestId: string, status: IssuanceStatus, reason?: string): string | null {
    if (this.shown?.req.requestId !== requestId) {
      const i = this.queue.findIndex((q) => q.requestId === requestId);
      return i >= 0 ? this.queue.splice(i, 1)[0]!.applicationId : null;
    }
    this.shown.status = status;
    if (reason !== undefined) this.shown.reason = reason;
    this.attention.settle();
    this.render('close');
    return this.shown.req.applicationId;
  }

  /** Re-renders in the current language. */
  rerender(): void {
    if (this.shown) this.render('heading');
  }

  private next(): void {
    const req = this.queue.shift();
    this.shown = req ? { req, status: 'confirmation_pending', answered: false } : null;
    if (!req) {
      this.stopTicker();
      this.dialog.close();
      return;
    }
    const t = this.app.i18n.t.prompt;
    if (!this.dialog.open) this.dialog.showModal();
    this.render('heading');
    this.attention.raise(t.notificationTitle, t.notificationBody(req.kiosk.name), t.titleFlash);
    this.stopTicker();
    this.ticker = setInterval(() => this.tick(), 1000);
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  private tick(): void {
    const el = this.dialog.querySelector('#prompt-time-left');
    if (!this.shown || !el) return;
    if (this.expired) this.render('close');
    else el.textContent = this.timeLeft();
  }

  private timeLeft(): string {
    const seconds = Math.max(0, Math.ceil((Date.parse(this.shown!.req.expiresAt) - Date.now()) / 1000));
    return this.app.i18n.t.prompt.timeLeft(Math.floor(seconds / 60), seconds % 60);
  }

  private respond(button: HTMLButtonElement, approved: boolean): void {
    const shown = this.shown!;
    const box = this.box;
    box.info((s) => s.prompt.busy);
    void whileBusy(button, async () => {
      try {
        await this.app.api.invoke['confirmations.respond'](shown.req.requestId, approved);
        shown.answered = true;
        this.attention.settle();
        // The outcome follows as a status event; until then the line says it is being sent.
        if (this.shown === shown && shown.status === 'confirmation_pending') this.render('close');
      } catch (e) {
        this.app.fail(e, box);
      }
    });
  }

  /** Rebuilds the dialog; `focus` says where the keyboard focus goes afterwards. */
  private render(focus: 'heading' | 'close'): void {
    const { i18n } = this.app;
    const t = i18n.t.prompt;
    const { req, status, answered, reason } = this.shown!;
    const row = (term: string, value: string) => [h('dt', {}, term), h('dd', {}, value)];
    this.box = this.app.messages();
    const open = status === 'confirmation_pending' && !answered && !this.expired;
    const approve = h('button', { type: 'button', class: 'primary', id: 'prompt-approve' }, t.approve);
    const decline = h('button', { type: 'button', id: 'prompt-decline' }, t.decline);
    const close = h('button', { type: 'button', id: 'prompt-close' }, t.close);
    approve.addEventListener('click', () => this.respond(approve, true));
    decline.addEventListener('click', () => this.respond(decline, false));
    close.addEventListener('click', () => this.next());
    if (status === 'refused') this.box.info((s) => s.format.sentences(s.prompt.outcomes.refused, refusalText(s, reason)));
    else if (status !== 'confirmation_pending') this.box.info((s) => s.prompt.outcomes[status]);
    else if (this.expired) this.box.info((s) => s.prompt.timeUp);
    else if (answered) this.box.info((s) => s.prompt.busy);
    this.dialog.replaceChildren(
      h('h2', { id: 'prompt-title', tabindex: -1 }, t.title),
      h('p', { id: 'prompt-intro' }, t.intro),
      h(
        'dl',
        { class: 'summary' },
        ...row(t.store, req.kiosk.name),
        ...row(t.location, req.kiosk.location),
        ...row(t.certificate, this.app.certificateName(req.certificateType)),
        ...row(t.copies, i18n.t.confirm.copiesValue(req.copies)),
        ...row(t.fee, i18n.yen(req.fee)),
        ...row(t.receiptNumber, formatReceiptNumber(req.receiptNumber)),
      ),
      ...(open ? [h('p', { class: 'countdown', id: 'prompt-time-left' }, this.timeLeft())] : []),
      this.box.el,
      h('div', { class: 'actions' }, ...(open ? [approve, decline] : [close])),
    );
    if (!open) this.stopTicker();
    if (focus === 'heading' || open) this.dialog.querySelector<HTMLElement>('#prompt-title')!.focus();
    else close.focus();
  }
}
