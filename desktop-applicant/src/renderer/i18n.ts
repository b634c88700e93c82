// The UI language and the formats that depend on it (yen, dates, catalog texts).
import type { CertificateOption, LocalizedText } from '@cert/common';
import { applicantStrings, type ApplicantStrings, type Lang } from '@cert/common/i18n';

const STORAGE_KEY = 'applicant-lang';
const LOCALES: Record<Lang, string> = { ja: 'ja-JP', en: 'en-GB' };

/** The current language with its texts and formats; the choice survives reloads. */
export class I18n {
  private current: Lang;

  constructor() {
    const saved = localStorage.getItem(STORAGE_KEY);
    this.current = saved === 'en' || saved === 'ja' ? saved : 'ja';
    document.documentElement.lang = this.current;
  }

  /** The current language. */
  get lang(): Lang {
    return this.current;
  }

  /** The texts of the current language. */
  get t(): ApplicantStrings {
    return applicantStrings[this.current];
  }

  /** Switches the language (and the document's lang attribute, for screen readers and fonts). */
  set(lang: Lang): void {
    this.current = lang;
    localStorage.setItem(STORAGE_KEY, lang);
    document.documentElement.lang = lang;
  }

  /** An amount in yen, e.g. `1,200円` / `¥1,200`. */
  yen(amount: number): string {
    return this.t.format.yen(amount.toLocaleString(LOCALES[this.current]));
  }

  /** A date and time the way residents read them (local time zone). */
  dateTime(iso: string): string {
    return new Intl.DateTimeFormat(LOCALES[this.current], { dateStyle: 'long', timeStyle: 'short' }).format(new Date(iso));
  }

  /** A catalog text in the current language. */
  pick(text: LocalizedText): string {
    return text[this.current];
  }

  /** An option's label from the catalog (its name when the catalog gives none). */
  optionLabel(option: CertificateOption): string {
    return option.label ? this.pick(option.label) : option.name;
  }

  /** A value's label from the catalog (the value itself when the catalog gives none). */
  valueLabel(option: CertificateOption, value: string): string {
    const label = option.valueLabels?.[value];
    return label ? this.pick(label) : value;
  }
}
