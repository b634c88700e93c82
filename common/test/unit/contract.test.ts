import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, publicDecrypt, sign } from 'node:crypto';
import type { z } from 'zod';
import {
  ERROR_STATUS,
  SHA256_DIGEST_INFO_PREFIX,
  authenticateMessageSchema,
  base64Field,
  createApplicationRequestSchema,
  createIssuanceRequestSchema,
  deviceSocketMessageSchema,
  issuanceResultRequestSchema,
  issuanceStatusQuerySchema,
  loginRequestSchema,
  printConfirmationResponseSchema,
  sha256DigestInfo,
} from '../../src/index.ts';

const ok = <S extends z.ZodType>(schema: S, v: unknown): z.output<S> => {
  const r = schema.safeParse(v);
  assert.ok(r.success, `expected ${JSON.stringify(v)} to pass: ${r.success ? '' : r.error.message}`);
  return r.data;
};
const bad = (schema: z.ZodType, v: unknown) => {
  const r = schema.safeParse(v);
  assert.ok(!r.success, `expected ${JSON.stringify(v)} to be rejected`);
  return r.error;
};

const B64 = Buffer.from('some bytes!').toString('base64'); // 'c29tZSBieXRlcyE=' (padded)

describe('wire contract schemas (common/src/contract)', () => {
  describe('strict request schemas reject unknown fields', () => {
    const login = { challengeId: 'c1', certificate: B64, signature: B64, devicePublicKey: B64 };
    const cases: [string, z.ZodType, Record<string, unknown>][] = [
      ['loginRequestSchema', loginRequestSchema, login],
      ['createApplicationRequestSchema', createApplicationRequestSchema, { certificateType: 'juminhyo', options: { scope: 'self' }, copies: 1 }],
      ['createIssuanceRequestSchema', createIssuanceRequestSchema, { receiptNumber: '1234-5678-9012' }],
      ['issuanceResultRequestSchema', issuanceResultRequestSchema, { outcome: 'failed', detail: 'paper jam' }],
      ['authenticateMessageSchema', authenticateMessageSchema, { type: 'authenticate', devicePublicKey: B64, signature: B64 }],
      ['printConfirmationResponseSchema', printConfirmationResponseSchema, { type: 'print-confirmation-response', requestId: 'r1', approved: true, signature: B64 }],
      ['deviceSocketMessageSchema (authenticate)', deviceSocketMessageSchema, { type: 'authenticate', devicePublicKey: B64, signature: B64 }],
      ['deviceSocketMessageSchema (response)', deviceSocketMessageSchema, { type: 'print-confirmation-response', requestId: 'r1', approved: false, signature: B64 }],
      ['issuanceStatusQuerySchema', issuanceStatusQuerySchema, { waitMs: '1000' }],
    ];
    for (const [name, schema, valid] of cases) {
      it(`${name}: accepts the valid shape, rejects an extra field`, () => {
        ok(schema, valid);
        const err = bad(schema, { ...valid, extra: 1 });
        assert.ok(err.issues.some((i) => i.code === 'unrecognized_keys'), JSON.stringify(err.issues));
        // even a field that looks harmless or is a prototype name
        bad(schema, { ...valid, id: 'x' });
        bad(schema, JSON.parse(`{${Object.entries(valid).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')},"__proto__":{"x":1}}`));
      });
    }

    it('loginRequestSchema requires every field', () => {
      for (const k of Object.keys(login)) {
        const { [k]: _omitted, ...rest } = login as Record<string, unknown>;
        bad(loginRequestSchema, rest);
      }
    });

    it('createApplicationRequestSchema: types, copies range, options default', () => {
      assert.deepEqual(ok(createApplicationRequestSchema, { certificateType: 'juminhyo', copies: 2 }), { certificateType: 'juminhyo', options: {}, copies: 2 });
      bad(createApplicationRequestSchema, { certificateType: 'passport', copies: 1 });
      bad(createApplicationRequestSchema, { certificateType: 'juminhyo', copies: 0 });
      bad(createApplicationRequestSchema, { certificateType: 'juminhyo', copies: 1.5 });
      bad(createApplicationRequestSchema, { certificateType: 'juminhyo', copies: '1' });
      bad(createApplicationRequestSchema, { certificateType: 'juminhyo', copies: 101 });
      bad(createApplicationRequestSchema, { certificateType: 'juminhyo', copies: 1, options: { scope: 1 } });
    });

    it('issuanceResultRequestSchema: outcome is printed or failed', () => {
      ok(issuanceResultRequestSchema, { outcome: 'printed' });
      bad(issuanceResultRequestSchema, { outcome: 'done' });
      bad(issuanceResultRequestSchema, { outcome: 'failed', detail: 'x'.repeat(501) });
    });

    it('deviceSocketMessageSchema rejects unknown message types and server messages', () => {
      bad(deviceSocketMessageSchema, { type: 'hello', nonce: 'n' });
      bad(deviceSocketMessageSchema, { type: 'print-confirmation-response', requestId: 'r1', approved: 'yes', signature: B64 });
      bad(deviceSocketMessageSchema, {});
    });
  });

  describe('base64Field', () => {
    const f = base64Field(64);
    it('accepts standard padded base64', () => {
      for (const n of [1, 2, 3, 4, 5, 6, 48]) ok(f, Buffer.alloc(n, 0xfb).toString('base64'));
      ok(f, '+/+/');
    });
    it('rejects unpadded, url-safe, whitespace and junk', () => {
      bad(f, 'c29tZSBieXRlcyE'); // padding stripped
      bad(f, 'YQ'); // 'a' without padding
      bad(f, 'YQ='); // wrong padding
      bad(f, 'YQ==='); // too much padding
      bad(f, '-_-_'); // url-safe alphabet
      bad(f, Buffer.alloc(6, 0xfb).toString('base64url'));
      bad(f, 'YWJj\nZGVm');
      bad(f, 'YWJj ZGVm');
      bad(f, 'YW=j');
      bad(f, '');
      bad(f, 'not base64!');
      bad(f, 42);
    });
    it('bounds the length by the byte count', () => {
      ok(f, Buffer.alloc(64).toString('base64'));
      bad(f, Buffer.alloc(67).toString('base64'));
      bad(base64Field(16 * 1024), Buffer.alloc(17 * 1024).toString('base64'));
    });
  });

  describe('issuanceStatusQuerySchema', () => {
    it('coerces waitMs, defaults to 0 and caps it at 30000', () => {
      assert.deepEqual(ok(issuanceStatusQuerySchema, {}), { waitMs: 0 });
      assert.equal(ok(issuanceStatusQuerySchema, { waitMs: '30000' }).waitMs, 30000);
      assert.equal(ok(issuanceStatusQuerySchema, { waitMs: '0' }).waitMs, 0);
      bad(issuanceStatusQuerySchema, { waitMs: '30001' });
      bad(issuanceStatusQuerySchema, { waitMs: '1e9' });
      bad(issuanceStatusQuerySchema, { waitMs: '-1' });
      bad(issuanceStatusQuerySchema, { waitMs: '1.5' });
      bad(issuanceStatusQuerySchema, { waitMs: 'abc' });
      bad(issuanceStatusQuerySchema, { waitMs: ['1', '2'] });
    });
    it('since must be an issuance status', () => {
      assert.equal(ok(issuanceStatusQuerySchema, { since: 'approved' }).since, 'approved');
      bad(issuanceStatusQuerySchema, { since: 'submitted' });
    });
  });

  describe('error codes', () => {
    it('public codes keep their HTTP status', () => {
      const expected: Record<string, number> = {
        invalid_request: 400,
        receipt_malformed: 400,
        challenge_invalid: 401,
        signature_invalid: 401,
        certificate_untrusted: 401,
        certificate_expired: 401,
        certificate_revoked: 401,
        certificate_not_for_authentication: 401,
        session_invalid: 401,
        kiosk_unauthorized: 401,
        resident_not_found: 403,
        not_found: 404,
        receipt_not_found: 404,
        invalid_state: 409,
        issuance_in_progress: 409,
        rate_limited: 429,
      };
      for (const [code, status] of Object.entries(expected)) assert.equal(ERROR_STATUS[code as keyof typeof ERROR_STATUS], status, code);
    });
  });

  describe('sha256DigestInfo', () => {
    it('uses the RFC 8017 §9.2 SHA-256 prefix', () => {
      assert.equal(Buffer.from(SHA256_DIGEST_INFO_PREFIX).toString('hex'), '3031300d060960864801650304020105000420');
    });

    it('prefix + hash, 51 bytes; refuses a hash of the wrong size', () => {
      const hash = createHash('sha256').update('x').digest();
      const di = sha256DigestInfo(hash);
      assert.equal(di.length, 51);
      assert.deepEqual(Buffer.from(di.subarray(0, 19)), Buffer.from(SHA256_DIGEST_INFO_PREFIX));
      assert.deepEqual(Buffer.from(di.subarray(19)), hash);
      assert.throws(() => sha256DigestInfo(new Uint8Array(31)), RangeError);
      assert.throws(() => sha256DigestInfo(new Uint8Array(20)), RangeError);
    });

    it('is exactly what an RSASSA-PKCS1-v1_5 / SHA-256 signature wraps (cross-check with OpenSSL)', () => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const data = Buffer.from('jp-cert-issuance/login/v1\nc\nn');
      const sig = sign('sha256', data, privateKey);
      const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, sig);
      assert.deepEqual(recovered, Buffer.from(sha256DigestInfo(createHash('sha256').update(data).digest())));
    });
  });
});
