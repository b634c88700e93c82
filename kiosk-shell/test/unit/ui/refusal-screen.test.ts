// The kiosk's refusal screen without a browser: in every language, each refusal code of the
// contract gets its own reason (with what to do) above the note that nothing was printed; a code
// newer than this build gets the general text; the server's words never reach the public screen.
import { REFUSAL_CODES } from '@cert/common';
import { KIOSK_LANGUAGES, KIOSK_STRINGS } from '@cert/common/i18n';
import assert from 'node:assert/strict';
import { outcomeResult } from '../../../src/renderer/outcome-results.ts';

const noActions = { retry: () => {}, reenter: () => {}, restart: () => {} };

describe('kiosk refusal texts (no browser)', () => {
  it('every language names each known refusal in plain words and has a generic text for codes it does not know', () => {
    for (const lang of KIOSK_LANGUAGES) {
      const t = KIOSK_STRINGS[lang];
      for (const code of REFUSAL_CODES) {
        const spec = outcomeResult({ receiptNumber: '123456789012', status: 'refused', reason: code, error: 'server text' }, t, noActions);
        assert.deepEqual(spec.paragraphs, [t.refusalReasons[code], t.refusedBody], `${lang} ${code}`);
        assert.equal(spec.staffDetail, undefined, 'the server text may quote the record: never on the public screen');
      }
      const newer = outcomeResult({ receiptNumber: '123456789012', status: 'refused', reason: 'seal_abolished' }, t, noActions);
      assert.deepEqual(newer.paragraphs, [t.refusalGeneric, t.refusedBody], lang);
    }
  });
});
