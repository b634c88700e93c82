// Texts made from data, without the DOM (so that they can be checked without a browser): service
// hours, and the words for what went wrong (errors, and the rules' refusals).
import { isRefusalCode, type CertificateTypeInfo, type IpcError } from '@cert/common';
import type { ApplicantStrings } from '@cert/common/i18n';

type Weekday = keyof ApplicantStrings['hours']['days'];
const WEEK: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const same = (days: ReadonlySet<string>, names: readonly string[]) => days.size === names.length && names.every((d) => days.has(d));

/** Why the rules refuse a certificate (when applying or printing), in plain words with what to do; a generic text for a code this build does not know. */
export function refusalText(t: ApplicantStrings, reason: string | undefined): string {
  return reason !== undefined && isRefusalCode(reason) ? t.refusals.reasons[reason] : t.refusals.generic;
}

/** Service hours from the catalog, e.g. `平日 08:30〜17:00` / `Weekdays 08:30–17:00`. */
export function serviceHoursText(t: ApplicantStrings, windows: NonNullable<CertificateTypeInfo['serviceHours']>): string {
  const h = t.hours;
  const dayText = (list: readonly string[]) => {
    const days = new Set(list);
    if (same(days, WEEK)) return h.everyDay;
    if (same(days, WEEK.slice(0, 5))) return h.weekdays;
    if (same(days, WEEK.slice(5))) return h.weekends;
    return WEEK.filter((d) => days.has(d)).map((d) => h.days[d]).join(h.dayList);
  };
  return windows.map((w) => (w.from === '00:00' && w.to === '24:00' ? h.roundTheClock(dayText(w.days)) : h.window(dayText(w.days), w.from, w.to))).join(h.windowList);
}

/** The message of a failed call: a card, PIN or server problem, or the rules' refusal of an application. */
export function errorText(t: ApplicantStrings, e: IpcError): string {
  if (e.code === 'wrong_pin' && e.triesLeft !== undefined) return t.pin.wrongPin(e.triesLeft);
  if (e.code === 'rate_limited') return t.errors.rate_limited(e.retryAfterSeconds);
  if (isRefusalCode(e.code)) return t.format.sentences(t.refusals.atApplication, refusalText(t, e.code));
  if (Object.hasOwn(t.card.kinds, e.code)) return t.card.kinds[e.code as keyof typeof t.card.kinds];
  const text = Object.hasOwn(t.errors, e.code) ? t.errors[e.code as keyof typeof t.errors] : undefined;
  if (typeof text === 'string') return text;
  // A refusal code newer than this build: still a refusal, in general words.
  return e.refusal ? t.format.sentences(t.refusals.atApplication, t.refusals.generic) : t.errors.unexpected(e.code);
}
