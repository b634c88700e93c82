// What the resident reads when a receipt did not print: one screen per cause, each saying what
// happened, whether the application is still there, and what to do next.
import { isRefusalCode, type IpcError, type KioskOutcomeView } from '@cert/common';
import type { KioskStrings } from '@cert/common/i18n';

/** A result screen's content (plain data: this module needs no DOM, so it can be checked without a browser). */
export interface ResultSpec {
  /** The screen's kind, for tests and styling (`wrong-receipt`, `printer`…). */
  kind: string;
  tone: 'error' | 'warning' | 'info';
  heading: string;
  paragraphs: string[];
  /** A technical line for the clerk. */
  staffDetail?: string;
  actions: { label: string; run: () => void; primary?: boolean; id: string }[];
}

/** The ways on from a result screen. */
export interface ResultActions {
  /** The same receipt number again (after staff fixed the printer, after a wait…). */
  retry(): void;
  /** Back to the keypad with an empty number. */
  reenter(): void;
  restart(): void;
}

/** What the resident should know about their money after an outcome: change to take, money returned, a slip code for money owed. */
export function moneyLines(outcome: KioskOutcomeView, t: KioskStrings): string[] {
  const p = outcome.payment;
  if (!p) return [];
  const printed = outcome.status === 'printed' || outcome.status === 'printed_unreported';
  return [
    ...(printed && p.change > 0 ? [t.doneChange(p.change)] : []),
    ...(p.refunded > 0 ? [t.refundPaid(p.refunded)] : []),
    ...(p.refundOwed > 0 && p.slipCode ? [t.refundOwed(p.refundOwed, p.slipCode)] : []),
  ];
}

/** The screen for an outcome other than `printed`, with what became of the resident's money. */
export function outcomeResult(outcome: KioskOutcomeView, t: KioskStrings, a: ResultActions): ResultSpec {
  const spec = resultFor(outcome, t, a);
  const money = moneyLines(outcome, t);
  return money.length > 0 ? { ...spec, paragraphs: [...money, ...spec.paragraphs], kind: spec.kind, ...(outcome.payment?.refundOwed ? { tone: 'error' as const } : {}) } : spec;
}

function resultFor(outcome: KioskOutcomeView, t: KioskStrings, a: ResultActions): ResultSpec {
  const retry = { label: t.tryAgain, run: a.retry, id: 'retry' };
  const restart = { label: t.backToStart, run: a.restart, id: 'restart' };
  const primary = <T extends object>(x: T) => ({ ...x, primary: true });
  const staff = outcome.error ? { staffDetail: outcome.error } : {};
  if (outcome.paymentEnd) {
    const heading = outcome.paymentEnd === 'cancelled' ? t.paymentCancelledHeading : outcome.paymentEnd === 'timeout' ? t.paymentTimeoutHeading : t.paymentFaultHeading;
    const why = outcome.paymentNotice && outcome.paymentEnd === 'fault' ? [t.payNotices[outcome.paymentNotice]] : [];
    return { kind: `payment-${outcome.paymentEnd}`, tone: outcome.paymentEnd === 'fault' ? 'error' : 'info', heading, paragraphs: [...why, t.paymentEndBody], ...(outcome.paymentEnd === 'fault' ? staff : {}), actions: [primary(restart), retry] };
  }
  switch (outcome.status) {
    // The kiosk cannot tell a wrong number from an expired or printed one: the same words for all.
    case 'receipt_not_found':
    case 'receipt_malformed':
      return { kind: 'wrong-receipt', tone: 'error', heading: t.wrongReceiptHeading, paragraphs: [t.wrongReceiptBody], actions: [primary({ label: t.enterAgain, run: a.reenter, id: 'reenter' }), restart] };
    case 'declined':
      return { kind: 'declined', tone: 'info', heading: t.declinedHeading, paragraphs: [t.declinedBody], actions: [primary(restart), retry] };
    // The reason in plain words, and no staff line: the server's text may quote the record (a
    // character of a name), and anyone near the screen can read it. Retrying would be refused again.
    case 'refused': {
      const why = outcome.reason !== undefined && isRefusalCode(outcome.reason) ? t.refusalReasons[outcome.reason] : t.refusalGeneric;
      return { kind: 'refused', tone: 'info', heading: t.refusedHeading, paragraphs: [why, t.refusedBody], actions: [primary(restart)] };
    }
    case 'outcome_unknown':
      return { kind: 'outcome-unknown', tone: 'warning', heading: t.unknownHeading, paragraphs: [t.unknownBody], ...staff, actions: [primary(restart)] };
    // `abandoned`/`cancelled` reach here only when the kiosk itself gave up waiting.
    case 'expired':
    case 'abandoned':
    case 'cancelled':
      return { kind: 'timed-out', tone: 'warning', heading: t.timedOutHeading, paragraphs: [t.timedOutBody], actions: [primary(retry), restart] };
    case 'print_failed':
    case 'printer_unavailable': {
      const condition = outcome.printer ?? (outcome.status === 'printer_unavailable' ? 'offline' : 'ready');
      return { kind: 'printer', tone: 'error', heading: t.printerHeading, paragraphs: [t.printerProblem[condition], t.callStaff, t.notLost], ...staff, actions: [primary(retry), restart] };
    }
    case 'payment_unavailable':
      return { kind: 'payment-unavailable', tone: 'error', heading: t.paymentUnavailableHeading, paragraphs: [t.paymentUnavailableBody], ...staff, actions: [primary(retry), restart] };
    case 'server_unreachable':
      return { kind: 'server-unreachable', tone: 'warning', heading: t.serverHeading, paragraphs: [t.serverBody], actions: [primary(retry), restart] };
    case 'issuance_in_progress':
      return { kind: 'busy', tone: 'warning', heading: t.busyHeading, paragraphs: [t.busyBody], actions: [primary(restart), retry] };
    case 'rate_limited':
      return { kind: 'rate-limited', tone: 'warning', heading: t.rateHeading, paragraphs: [t.rateBody(outcome.retryAfterSeconds === undefined ? null : Math.ceil(outcome.retryAfterSeconds))], actions: [primary(restart)] };
    case 'kiosk_unauthorized':
      return { kind: 'out-of-service', tone: 'error', heading: t.outOfServiceHeading, paragraphs: [t.outOfServiceBody], ...staff, actions: [primary(restart)] };
    // `printed` (also when the server is told later) gets the done screen before this is asked; it is here to keep the switch exhaustive.
    case 'printed':
    case 'printed_unreported':
    case 'error':
      return { kind: 'error', tone: 'error', heading: t.errorHeading, paragraphs: [t.errorBody], ...staff, actions: [primary(retry), restart] };
  }
}

/** The screen for a call that failed below the session (the host is gone, a bug). */
export function ipcFailureResult(error: IpcError, t: KioskStrings, a: ResultActions): ResultSpec {
  const staffDetail = `${error.code}: ${error.message}`;
  if (error.code === 'host_unreachable') {
    return { kind: 'out-of-service', tone: 'error', heading: t.outOfServiceHeading, paragraphs: [t.outOfServiceBody], staffDetail, actions: [{ label: t.backToStart, run: a.restart, id: 'restart', primary: true }] };
  }
  return { kind: 'error', tone: 'error', heading: t.errorHeading, paragraphs: [t.errorBody], staffDetail, actions: [{ label: t.tryAgain, run: a.retry, id: 'retry', primary: true }, { label: t.backToStart, run: a.restart, id: 'restart' }] };
}
