// The kiosk's screens as DOM builders. Each returns a View: its content, the heading that takes
// focus when it appears (so screen readers announce the new screen), how it takes part in the
// inactivity timeout, and the physical keys it handles.
import type { CreateIssuanceResponse, KioskInfo, PaymentProgressView } from '@cert/common';
import { KIOSK_LANGUAGES, KIOSK_LANGUAGE_TAGS, KIOSK_STRINGS, type KioskLanguage, type KioskStrings } from '@cert/common/i18n';
import { append, button, h, uid, type Child } from './dom.ts';
import type { IdleRule } from './idle-policy.ts';
import { keypad } from './keypad.ts';
import type { ResultSpec } from './outcome-results.ts';
import { displayGroups, entryState, pushDigit } from './receipt-entry.ts';

/** What every screen is built with. */
export interface ScreenContext {
  t: KioskStrings;
  lang: KioskLanguage;
  info: KioskInfo;
}

/** One screen on the kiosk. */
export interface View {
  el: HTMLElement;
  heading: HTMLElement;
  idle: IdleRule;
  /** Whether a scanned receipt starts an issuance from here. */
  acceptsReceipt: boolean;
  /** Handles a physical key the screen uses; returns true when it did. */
  key?(e: KeyboardEvent): boolean;
  /** Stops the screen's timers when it is left. */
  dispose?(): void;
}

const IDLE: IdleRule = { kind: 'idle' };
const BUSY: IdleRule = { kind: 'none' };

function heading(text: string): HTMLHeadingElement {
  // tabindex -1: focusable by script (announced on arrival) but not a tab stop.
  return h('h1', { attrs: { tabindex: '-1' } }, text);
}

const spinner = () => h('div', { class: 'spinner', attrs: { 'aria-hidden': 'true' } });

/** The fee as money in the resident's language (the fee is always yen). */
export function formatFee(fee: number, lang: KioskLanguage): string {
  return new Intl.NumberFormat(KIOSK_LANGUAGE_TAGS[lang], { style: 'currency', currency: 'JPY' }).format(fee);
}

/** Seconds as m:ss. */
export function formatCountdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function claimDetails(ctx: ScreenContext, claim: CreateIssuanceResponse): HTMLElement {
  const row = (label: string, value: string) => [h('dt', {}, label), h('dd', {}, value)];
  return h(
    'dl',
    { class: 'details' },
    ...row(ctx.t.certificateLabel, ctx.t.certificateNames[claim.certificateType]),
    ...row(ctx.t.copiesLabel, ctx.t.copies(claim.copies)),
    ...row(ctx.t.feeLabel, formatFee(claim.fee, ctx.lang)),
  );
}

const isDigitKey = (e: KeyboardEvent) => /^[0-9]$/.test(e.key) && !e.ctrlKey && !e.altKey && !e.metaKey;
// Enter on a focused button presses that button; anywhere else it means "go on".
const enterMeansSubmit = (e: KeyboardEvent) => e.key === 'Enter' && !(e.target instanceof HTMLButtonElement);

/** Start: what this is, the way in, and the seven languages. */
export function startView(ctx: ScreenContext, actions: { language(l: KioskLanguage): void; start(): void }): View {
  const { t } = ctx;
  const h1 = heading(t.startHeading);
  const langHeading = uid('lang');
  const el = h(
    'section',
    { class: 'screen screen-start' },
    h('div', { class: 'col-main' }, h1, h('p', { class: 'lead' }, t.startIntro), button(t.startButton, actions.start, { kind: 'primary', class: 'btn-big', attrs: { 'data-action': 'start' } }), h('p', { class: 'hint' }, t.startScanHint)),
    h(
      'div',
      { class: 'col-side languages', attrs: { role: 'group', 'aria-labelledby': langHeading } },
      h('h2', { id: langHeading }, t.chooseLanguage),
      h(
        'ul',
        {},
        ...KIOSK_LANGUAGES.map((l) =>
          h('li', {}, button(KIOSK_STRINGS[l].languageName, () => actions.language(l), { class: 'btn-language', attrs: { lang: KIOSK_LANGUAGE_TAGS[l], 'aria-pressed': String(l === ctx.lang), 'data-language': l } })),
        ),
      ),
    ),
  );
  return { el, heading: h1, idle: IDLE, acceptsReceipt: true };
}

/** Receipt number entry: keypad, grouped display, the check digit checked as digits arrive. */
export function entryView(ctx: ScreenContext, initial: string, actions: { submit(receipt: string): void; back(): void }): View & { digits(): string } {
  const { t } = ctx;
  let digits = '';
  const h1 = heading(t.entryHeading);
  const labelId = uid('entry-label');
  const helpId = uid('entry-help');
  const shown = h('span', { class: 'digits', attrs: { 'aria-hidden': 'true' } });
  const spoken = h('span', { class: 'sr-only' });
  const display = h('div', { class: 'receipt-display', attrs: { role: 'group', 'aria-labelledby': labelId, 'aria-describedby': helpId } }, shown, spoken);
  const hint = h('p', { class: 'entry-hint', attrs: { role: 'status' } });
  const submit = button(t.submit, () => entryState(digits) === 'complete' && actions.submit(digits), { kind: 'primary', attrs: { 'data-action': 'submit' } });

  const render = () => {
    const state = entryState(digits);
    shown.replaceChildren();
    displayGroups(digits).forEach((g, i) => {
      if (i > 0) append(shown, h('span', { class: 'sep' }, '-'));
      append(shown, h('span', { class: 'group' }, ...[...g].map((c) => h('span', { class: c === '_' ? 'slot' : 'digit' }, c === '_' ? '' : c))));
    });
    // Digits read one by one ("1 2 3…"), not as a large number.
    spoken.textContent = [...digits].join(' ');
    display.dataset.state = state;
    hint.dataset.state = state;
    hint.textContent = state === 'complete' ? t.entryComplete : state === 'mistyped' ? t.entryMistyped : t.entryProgress(digits.length);
    submit.disabled = state !== 'complete';
  };
  const set = (d: string) => {
    digits = d;
    render();
  };
  set(initial);

  const el = h(
    'section',
    { class: 'screen screen-entry' },
    h(
      'div',
      { class: 'col-main' },
      h1,
      h('p', { id: helpId, class: 'lead' }, t.entryHelp),
      h('p', { id: labelId, class: 'label' }, t.entryLabel),
      display,
      hint,
      h('div', { class: 'actions' }, button(t.back, actions.back, { attrs: { 'data-action': 'back' } }), submit),
    ),
    h('div', { class: 'col-side' }, keypad(t, { digit: (d) => set(pushDigit(digits, d)), remove: () => set(digits.slice(0, -1)), clear: () => set('') })),
  );
  return {
    el,
    heading: h1,
    idle: IDLE,
    acceptsReceipt: true,
    digits: () => digits,
    key(e) {
      if (isDigitKey(e)) set(pushDigit(digits, e.key));
      else if (e.key === 'Backspace') set(digits.slice(0, -1));
      else if (enterMeansSubmit(e)) submit.click();
      else return false;
      return true;
    },
  };
}

/** While the printer is checked and the receipt claimed. */
export function checkingView(ctx: ScreenContext): View {
  const h1 = heading(ctx.t.checkingHeading);
  const el = h('section', { class: 'screen screen-wait' }, h1, spinner(), h('p', { class: 'lead', attrs: { role: 'status' } }, ctx.t.checkingBody));
  return { el, heading: h1, idle: BUSY, acceptsReceipt: false };
}

/** Waiting for the resident's own device: what was asked for, the store it names, a countdown. */
export function approveView(ctx: ScreenContext, claim: CreateIssuanceResponse, now: () => number, actions: { cancel(): void }): View {
  const { t, info } = ctx;
  const h1 = heading(t.approveHeading);
  const deadline = Date.parse(claim.expiresAt);
  const total = Math.max(1000, deadline - now());
  const labelId = uid('time-left');
  // role=timer is not live by default: a second-by-second announcement would drown everything else.
  const clock = h('p', { class: 'countdown', attrs: { role: 'timer', 'aria-labelledby': labelId } });
  const bar = h('progress', { attrs: { max: String(total), 'aria-labelledby': labelId } });
  const tick = () => {
    const left = Math.max(0, deadline - now());
    clock.textContent = formatCountdown(left);
    bar.value = left;
  };
  tick();
  const timer = setInterval(tick, 250);
  const el = h(
    'section',
    { class: 'screen screen-approve' },
    h(
      'div',
      { class: 'col-main' },
      h1,
      h('p', { class: 'lead' }, t.approveBody),
      info.storeName ? h('p', { class: 'store' }, t.approveStore(info.storeName)) : null,
      claimDetails(ctx, claim),
    ),
    h('div', { class: 'col-side countdown-box' }, h('p', { id: labelId, class: 'label' }, t.timeLeftLabel), clock, bar, button(t.cancel, actions.cancel, { attrs: { 'data-action': 'cancel' } })),
  );
  return { el, heading: h1, idle: { kind: 'after', deadline }, acceptsReceipt: false, dispose: () => clearInterval(timer) };
}

/**
 * Paying: the amount due, inserted and still to pay in large figures, what money is taken, a
 * countdown while the kiosk waits for money, and Cancel (which pays everything back). Amounts
 * are announced politely as they change; notices (a note returned, a jam) assertively.
 */
export function payView(ctx: ScreenContext, claim: CreateIssuanceResponse | null, now: () => number, actions: { cancel(): void }): View & { update(p: PaymentProgressView): void; refunding(): void } {
  const { t } = ctx;
  const h1 = heading(t.payHeading);
  const amount = (cls: string) => h('dd', { class: `amount ${cls}` });
  const due = amount('due');
  const inserted = amount('inserted');
  const remaining = amount('remaining');
  const figures = h('dl', { class: 'pay-figures', attrs: { 'aria-live': 'polite', 'aria-atomic': 'true' } }, h('dt', {}, t.payDueLabel), due, h('dt', {}, t.payInsertedLabel), inserted, h('dt', {}, t.payRemainingLabel), remaining);
  const status = h('p', { class: 'lead pay-status', attrs: { role: 'status' } }, t.payBody);
  const notice = h('p', { class: 'pay-notice', attrs: { role: 'alert' } });
  const clock = h('p', { class: 'countdown', attrs: { role: 'timer', 'aria-label': t.timeLeftLabel } });
  const cancel = button(t.cancel, actions.cancel, { attrs: { 'data-action': 'cancel' } });
  let deadline: number | null = null;
  const tick = () => {
    clock.textContent = deadline === null ? '' : formatCountdown(Math.max(0, deadline - now()));
  };
  const timer = setInterval(tick, 250);
  const set = (el: HTMLElement, text: string) => {
    if (el.textContent !== text) el.textContent = text;
  };
  const el = h(
    'section',
    { class: 'screen screen-pay' },
    h('div', { class: 'col-main' }, h1, status, figures, notice, h('p', { class: 'hint' }, t.payAccepts), claim ? claimDetails(ctx, claim) : null),
    h('div', { class: 'col-side countdown-box' }, h('p', { class: 'label', attrs: { 'aria-hidden': 'true' } }, t.timeLeftLabel), clock, cancel),
  );
  if (claim) {
    set(due, t.yen(claim.fee));
    set(inserted, t.yen(0));
    set(remaining, t.yen(claim.fee));
  }
  return {
    el,
    heading: h1,
    idle: BUSY,
    acceptsReceipt: false,
    dispose: () => clearInterval(timer),
    update(p) {
      set(due, t.yen(p.due));
      set(inserted, t.yen(p.inserted));
      set(remaining, t.yen(p.remaining));
      deadline = p.state === 'inserting' ? (p.deadline ?? null) : null;
      tick();
      set(status, p.state === 'inserting' ? t.payBody : p.state === 'paying_change' ? t.payChanging : p.state === 'refunding' ? t.payRefunding : t.payPaid);
      set(notice, p.notice ? t.payNotices[p.notice] : '');
      el.dataset.state = p.state;
      cancel.disabled = p.state !== 'inserting';
    },
    refunding() {
      cancel.disabled = true;
      deadline = null;
      tick();
      set(status, t.payRefunding);
    },
  };
}

/** Fetching, printing, reporting: progress in a polite live region. */
export function printingView(ctx: ScreenContext, claim: CreateIssuanceResponse | null): View & { status(text: string): void } {
  const h1 = heading(ctx.t.printingHeading);
  const status = h('p', { class: 'lead print-status', attrs: { role: 'status' } }, ctx.t.printingReceiving);
  const el = h('section', { class: 'screen screen-wait' }, h1, spinner(), status, claim ? claimDetails(ctx, claim) : null);
  return {
    el,
    heading: h1,
    idle: BUSY,
    acceptsReceipt: false,
    status: (text) => {
      if (status.textContent !== text) status.textContent = text;
    },
  };
}

/** Printed: the one thing left is to take the paper (and the change; a slip code for change the kiosk could not pay). */
export function doneView(ctx: ScreenContext, actions: { finish(): void }, money: string[] = []): View {
  const h1 = heading(ctx.t.doneHeading);
  const el = h(
    'section',
    { class: 'screen screen-result tone-success' },
    h('div', { class: 'badge', attrs: { 'aria-hidden': 'true' } }),
    h1,
    h('p', { class: 'lead emphasis' }, ctx.t.doneBody),
    ...money.map((m) => h('p', { class: 'lead money' }, m)),
    h('div', { class: 'actions' }, button(ctx.t.finish, actions.finish, { kind: 'primary', attrs: { 'data-action': 'finish' } })),
  );
  return { el, heading: h1, idle: IDLE, acceptsReceipt: true };
}

/** An outcome that did not print, or any other ending: what happened and what to do now. */
export function resultView(ctx: ScreenContext, spec: ResultSpec): View {
  const h1 = heading(spec.heading);
  const el = h(
    'section',
    { class: `screen screen-result tone-${spec.tone}`, attrs: { 'data-result': spec.kind } },
    h('div', { class: 'badge', attrs: { 'aria-hidden': 'true' } }),
    h1,
    ...spec.paragraphs.map((p, i) => h('p', { class: i === 0 ? 'lead' : '' }, p)),
    spec.staffDetail ? h('p', { class: 'staff-detail' }, h('span', { class: 'staff-label' }, `${ctx.t.staffDetails}: `), h('span', { lang: 'en' }, spec.staffDetail)) : null,
    h('div', { class: 'actions' }, ...spec.actions.map((a) => button(a.label, a.run, { kind: a.primary ? 'primary' : 'secondary', attrs: { 'data-action': a.id } }))),
  );
  return { el, heading: h1, idle: IDLE, acceptsReceipt: true };
}

/** A screen with a message and no way on (closing, out of service). */
export function messageView(tone: 'error' | 'info', heading1: string, paragraphs: string[], staffDetail: Child, staffLabel: string): View {
  const h1 = heading(heading1);
  const el = h(
    'section',
    { class: `screen screen-result tone-${tone}`, attrs: { 'data-result': 'message' } },
    h('div', { class: 'badge', attrs: { 'aria-hidden': 'true' } }),
    h1,
    ...paragraphs.map((p) => h('p', { class: 'lead' }, p)),
    staffDetail ? h('p', { class: 'staff-detail' }, h('span', { class: 'staff-label' }, `${staffLabel}: `), h('span', { lang: 'en' }, staffDetail)) : null,
  );
  return { el, heading: h1, idle: BUSY, acceptsReceipt: false };
}

/** Staff only: the admin code that closes the shell (digits masked), and what the print journal needs staff for. */
export function adminView(ctx: ScreenContext, actions: { submit(code: string): void; back(): void }): View & { error(text: string): void; clear(): void; notice(text: string, items: string[]): void } {
  const { t } = ctx;
  let code = '';
  const h1 = heading(t.adminHeading);
  const labelId = uid('admin-label');
  const dots = h('span', { class: 'digits', attrs: { 'aria-hidden': 'true' } });
  const count = h('span', { class: 'sr-only' });
  const shown = h('div', { class: 'receipt-display code-display', attrs: { role: 'group', 'aria-labelledby': labelId } }, dots, count);
  const message = h('p', { class: 'entry-hint', attrs: { role: 'status' } });
  const journal = h('div', { class: 'staff-detail journal-notice', attrs: { 'data-journal': '' } });
  journal.hidden = true;
  const submit = button(t.adminExit, () => code.length >= 6 && actions.submit(code), { kind: 'primary', attrs: { 'data-action': 'admin-exit' } });
  const set = (c: string) => {
    code = c.slice(0, 12);
    // Dots, and the spoken count only: the code must not be read aloud.
    dots.textContent = '●'.repeat(code.length);
    count.textContent = String(code.length);
    submit.disabled = code.length < 6;
  };
  set('');
  const el = h(
    'section',
    { class: 'screen screen-entry' },
    h('div', { class: 'col-main' }, h1, journal, h('p', { class: 'lead' }, t.adminBody), h('p', { id: labelId, class: 'label' }, t.adminCodeLabel), shown, message, h('div', { class: 'actions' }, button(t.back, actions.back, { attrs: { 'data-action': 'back' } }), submit)),
    h('div', { class: 'col-side' }, keypad(t, { digit: (d) => set(code + d), remove: () => set(code.slice(0, -1)), clear: () => set('') })),
  );
  return {
    el,
    heading: h1,
    idle: IDLE,
    acceptsReceipt: false,
    error: (text) => {
      message.dataset.state = 'mistyped';
      message.textContent = text;
    },
    clear: () => set(''),
    notice: (text, items) => {
      journal.replaceChildren(h('p', {}, text), h('ul', {}, ...items.map((i) => h('li', { lang: 'en' }, i))));
      journal.hidden = false;
    },
    key(e) {
      if (isDigitKey(e)) set(code + e.key);
      else if (e.key === 'Backspace') set(code.slice(0, -1));
      else if (enterMeansSubmit(e)) submit.click();
      else return false;
      return true;
    },
  };
}
