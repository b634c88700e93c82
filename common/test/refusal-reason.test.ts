import assert from 'node:assert/strict';
import { isRefusalCode, issuanceStatusResponseSchema, printConfirmationClosedSchema, REFUSAL_CODES } from '../src/index.ts';

describe('refusal reasons as clients read them', () => {
  it('accept the known codes and newer well-formed ones (so a newer server never makes a refusal unreadable), nothing else', () => {
    for (const reason of [...REFUSAL_CODES, 'seal_abolished']) {
      assert.ok(issuanceStatusResponseSchema.safeParse({ issuanceId: 'a', status: 'refused', reason }).success, reason);
      assert.ok(printConfirmationClosedSchema.safeParse({ type: 'print-confirmation-closed', requestId: 'r', status: 'refused', reason }).success, reason);
    }
    for (const reason of ['', 'Moved Out', 'x'.repeat(65), '../etc']) assert.ok(!issuanceStatusResponseSchema.safeParse({ issuanceId: 'a', status: 'refused', reason }).success, reason);
    assert.ok(isRefusalCode('moved_out'));
    assert.ok(!isRefusalCode('seal_abolished'));
  });
});
