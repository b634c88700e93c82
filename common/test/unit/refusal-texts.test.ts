// Every refusal code of the contract is explained in every language of both apps: in the applicant
// app (when applying, in the print prompt and the receipt list) and at the kiosk (the refusal
// screen), each with its own text, so that no resident ever reads a code or a blank.
import assert from 'node:assert/strict';
import { REFUSAL_CODES } from '../../src/index.ts';
import { applicantStrings, KIOSK_LANGUAGES, KIOSK_STRINGS, type Lang } from '../../src/i18n/index.ts';

const APPLICANT_LANGUAGES: readonly Lang[] = ['ja', 'en'];

/** Checks one language's table: a distinct, non-empty text per code, none the generic one. */
function assertExplainsEveryCode(reasons: Record<string, string>, generic: string, what: string): void {
  assert.deepEqual(Object.keys(reasons).sort(), [...REFUSAL_CODES].sort(), `${what}: exactly the contract's codes`);
  for (const code of REFUSAL_CODES) {
    const text = reasons[code]!;
    assert.ok(text.trim().length >= 10, `${what} ${code}: "${text}"`);
    assert.ok(!/[a-z]+_[a-z_]+/.test(text), `${what} ${code}: a code slipped into the text: "${text}"`);
    assert.notEqual(text, generic, `${what} ${code}: more than the generic text`);
  }
  assert.equal(new Set(Object.values(reasons)).size, REFUSAL_CODES.length, `${what}: one text per code`);
  assert.ok(generic.trim().length >= 10, `${what}: a generic text for codes newer than this build`);
}

describe('refusal texts in every language of both apps', () => {
  for (const lang of APPLICANT_LANGUAGES) {
    it(`applicant app (${lang}): every refusal code, with what to do`, () => {
      const t = applicantStrings[lang];
      assertExplainsEveryCode(t.refusals.reasons, t.refusals.generic, `applicant ${lang}`);
      assert.ok(t.refusals.atApplication.length > 0);
    });
  }

  for (const lang of KIOSK_LANGUAGES) {
    it(`kiosk (${lang}): every refusal code, and the certificate names`, () => {
      const t = KIOSK_STRINGS[lang];
      assertExplainsEveryCode(t.refusalReasons, t.refusalGeneric, `kiosk ${lang}`);
      for (const name of Object.values(t.certificateNames)) assert.ok(name.trim().length > 0, `kiosk ${lang}: a certificate without a name`);
      assert.equal(new Set(Object.values(t.certificateNames)).size, Object.keys(t.certificateNames).length, `kiosk ${lang}: one name per certificate`);
    });
  }

  it('the kiosk texts differ from language to language (no language left as a copy of another)', () => {
    for (const code of REFUSAL_CODES) {
      const texts = KIOSK_LANGUAGES.map((l) => KIOSK_STRINGS[l].refusalReasons[code]);
      assert.equal(new Set(texts).size, KIOSK_LANGUAGES.length, code);
    }
    assert.notEqual(applicantStrings.ja.refusals.reasons.moved_out, applicantStrings.en.refusals.reasons.moved_out);
  });
});
