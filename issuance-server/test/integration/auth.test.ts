import assert from 'node:assert/strict';
import { challengeResponseSchema, loginResponseSchema, loginSignedText, sha256DigestInfo } from '@cert/common';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { softwareToken } from '@cert/scripts/rig';
import { assertError, TestDevice, TestServer } from './harness.ts';

describe('integration: login', () => {
  let ts: TestServer;
  before(async () => {
    ts = await TestServer.start();
  });
  after(async () => {
    await ts?.close();
  });

  const login = (body: unknown) => ts.http('POST', '/api/v1/auth/login', { json: body });

  it('POST /auth/challenge answers 201 {challengeId, nonce, expiresAt} valid at most 120 s', async () => {
    const before = Date.now();
    const res = await ts.http('POST', '/api/v1/auth/challenge');
    assert.equal(res.status, 201, res.text);
    const c = challengeResponseSchema.parse(res.json);
    assert.deepEqual(Object.keys(res.json).sort(), ['challengeId', 'expiresAt', 'nonce']);
    assert.ok(Buffer.from(c.nonce, 'base64').length >= 16, 'nonce carries at least 128 bits');
    const expires = Date.parse(c.expiresAt);
    assert.ok(expires > before, 'expires in the future');
    assert.ok(expires <= Date.now() + 120_000, `expiresAt ${c.expiresAt} is at most 120 s ahead`);
    const other = challengeResponseSchema.parse((await ts.http('POST', '/api/v1/auth/challenge')).json);
    assert.notEqual(other.challengeId, c.challengeId);
    assert.notEqual(other.nonce, c.nonce);
  });

  it('POST /auth/challenge with an unknown JSON field is 400 invalid_request', async () => {
    assertError(await ts.http('POST', '/api/v1/auth/challenge', { json: { hello: 1 } }), 400, 'invalid_request');
  });

  it('login with a linked, valid card answers sessionToken, expiresAt and resident.displayName', async () => {
    const device = new TestDevice();
    const res = await login(await ts.loginBody(ts.card('R0001'), device));
    assert.equal(res.status, 200, res.text);
    const body = loginResponseSchema.parse(res.json);
    assert.deepEqual(Object.keys(res.json).sort(), ['expiresAt', 'resident', 'sessionToken']);
    assert.deepEqual(Object.keys(res.json.resident), ['displayName']);
    assert.equal(body.resident.displayName, '山田 太郎');
    assert.ok(body.sessionToken.length >= 32);
    const ttl = Date.parse(body.expiresAt) - Date.now();
    assert.ok(ttl > 25 * 60_000 && ttl <= 30 * 60_000, `session lasts the configured 30 min (${ttl} ms)`);
    // The token opens the applicant API.
    const list = await ts.http('GET', '/api/v1/applications', { bearer: body.sessionToken });
    assert.equal(list.status, 200, list.text);
  });

  it('a challenge is single use: replaying a successful login is 401 challenge_invalid', async () => {
    const body = await ts.loginBody(ts.card('R0002'), new TestDevice());
    assert.equal((await login(body)).status, 200);
    assertError(await login(body), 401, 'challenge_invalid');
  });

  it('a challenge is spent by a failed login too', async () => {
    const device = new TestDevice();
    const c = await ts.challenge();
    const good = await ts.loginBody(ts.card('R0001'), device, c);
    const other = await ts.loginBody(ts.card('R0002'), device); // different challenge, other card
    assertError(await login({ ...good, signature: other.signature }), 401, 'signature_invalid');
    assertError(await login(good), 401, 'challenge_invalid');
  });

  it('an unknown challenge is 401 challenge_invalid', async () => {
    const body = await ts.loginBody(ts.card('R0001'), new TestDevice(), { challengeId: randomUUID(), nonce: 'AAAA' });
    assertError(await login(body), 401, 'challenge_invalid');
  });

  it('a signature over a different nonce is 401 signature_invalid', async () => {
    const c = await ts.challenge();
    const body = await ts.loginBody(ts.card('R0001'), new TestDevice(), { challengeId: c.challengeId, nonce: Buffer.alloc(32, 7).toString('base64') });
    assertError(await login(body), 401, 'signature_invalid');
  });

  it('a signature by another card than the certificate is 401 signature_invalid', async () => {
    const c = await ts.challenge();
    const body = await ts.loginBody(ts.card('R0001'), new TestDevice(), c);
    const token = softwareToken(ts.card('R0002'));
    const hash = createHash('sha256').update(loginSignedText(c.challengeId, c.nonce)).digest();
    const foreign = (await token.signDigestInfo(sha256DigestInfo(hash))).toString('base64');
    assertError(await login({ ...body, signature: foreign }), 401, 'signature_invalid');
  });

  it('a truncated signature is 401 signature_invalid, not a 500', async () => {
    const body = await ts.loginBody(ts.card('R0001'), new TestDevice());
    assertError(await login({ ...body, signature: 'AAAA' }), 401, 'signature_invalid');
  });

  it('a card from another CA is 401 certificate_untrusted', async () => {
    assertError(await login(await ts.loginBody(ts.card('wrongCa'), new TestDevice())), 401, 'certificate_untrusted');
  });

  it('an expired card is 401 certificate_expired', async () => {
    assertError(await login(await ts.loginBody(ts.card('expired'), new TestDevice())), 401, 'certificate_expired');
  });

  it('a revoked card is 401 certificate_revoked', async () => {
    assertError(await login(await ts.loginBody(ts.card('revoked'), new TestDevice())), 401, 'certificate_revoked');
  });

  it('a certificate without the authentication key usage is 401 certificate_not_for_authentication', async () => {
    assertError(await login(await ts.loginBody(ts.card('notForAuth'), new TestDevice())), 401, 'certificate_not_for_authentication');
  });

  it('a valid card linked to no resident is 403 resident_not_found', async () => {
    assertError(await login(await ts.loginBody(ts.card('unlinked'), new TestDevice())), 403, 'resident_not_found');
  });

  it('an unknown JSON field is 400 invalid_request', async () => {
    const body = await ts.loginBody(ts.card('R0001'), new TestDevice());
    assertError(await login({ ...body, pin: '1234' }), 400, 'invalid_request');
  });

  it('bad base64 in certificate, signature or device key is 400 invalid_request', async () => {
    const body = await ts.loginBody(ts.card('R0001'), new TestDevice());
    for (const field of ['certificate', 'signature', 'devicePublicKey']) {
      // Not base64, unpadded, base64url alphabet, empty.
      for (const bad of ['not base64!', 'QUJDRA', 'QUJD-_==', '']) {
        assertError(await login({ ...body, [field]: bad }), 400, 'invalid_request', `${field}=${JSON.stringify(bad)}`);
      }
    }
    // Well-formed base64 that is not a certificate.
    assertError(await login({ ...(await ts.loginBody(ts.card('R0001'), new TestDevice())), certificate: 'QUJD' }), 400, 'invalid_request');
  });

  it('a certificate sent as PEM instead of DER is 400 invalid_request, not a 500', async () => {
    const body = await ts.loginBody(ts.card('R0001'), new TestDevice());
    const pem = readFileSync(ts.card('R0001').certPath);
    assertError(await login({ ...body, certificate: pem.toString('base64') }), 400, 'invalid_request');
  });

  it('a device key that is not ECDSA P-256 is 400 invalid_request', async () => {
    const keys = [
      generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey,
      generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey,
      generateKeyPairSync('ed25519').publicKey,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey,
    ];
    for (const k of keys) {
      const body = await ts.loginBody(ts.card('R0001'), new TestDevice());
      const spki = k.export({ format: 'der', type: 'spki' }).toString('base64');
      assertError(await login({ ...body, devicePublicKey: spki }), 400, 'invalid_request', k.asymmetricKeyType);
    }
    // Raw EC point instead of a SubjectPublicKeyInfo.
    const raw = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64');
    assertError(await login({ ...(await ts.loginBody(ts.card('R0001'), new TestDevice())), devicePublicKey: raw }), 400, 'invalid_request');
  });

  it('malformed JSON, non-JSON content and non-object bodies are 400 invalid_request', async () => {
    const cases: { body: string | Buffer; type?: string }[] = [
      { body: '{"challengeId":', type: 'application/json' },
      { body: "{'challengeId': 'x'}", type: 'application/json' },
      { body: 'hello', type: 'text/plain' },
      { body: 'challengeId=x&certificate=y', type: 'application/x-www-form-urlencoded' },
      { body: '[]', type: 'application/json' },
      { body: '"text"', type: 'application/json' },
      { body: 'null', type: 'application/json' },
      { body: '42', type: 'application/json' },
      { body: Buffer.from([0xff, 0xfe, 0x00, 0x7b]), type: 'application/json' },
      { body: '', type: 'application/json' },
      { body: '{}', type: 'application/json' },
    ];
    for (const c of cases) {
      const res = await ts.http('POST', '/api/v1/auth/login', { body: c.body, headers: c.type ? { 'content-type': c.type } : {} });
      assertError(res, 400, 'invalid_request', `${c.type} ${JSON.stringify(c.body.toString())}`);
    }
  });

  it('an oversized body is 413 payload_too_large', async () => {
    const body = await ts.loginBody(ts.card('R0001'), new TestDevice());
    assertError(await login({ ...body, certificate: 'A'.repeat(100_000) }), 413, 'payload_too_large');
  });
});

describe('integration: login challenge expiry', () => {
  let ts: TestServer;
  before(async () => {
    ts = await TestServer.start({ challengeTtlMs: 500 });
  });
  after(async () => {
    await ts?.close();
  });

  it('a challenge used after challengeTtlMs is 401 challenge_invalid', async () => {
    const c = await ts.challenge();
    assert.ok(Date.parse(c.expiresAt) - Date.now() <= 500);
    const body = await ts.loginBody(ts.card('R0001'), new TestDevice(), c);
    ts.advance(650);
    assertError(await ts.http('POST', '/api/v1/auth/login', { json: body }), 401, 'challenge_invalid');
    // A fresh one still works.
    assert.equal((await ts.http('POST', '/api/v1/auth/login', { json: await ts.loginBody(ts.card('R0001'), new TestDevice()) })).status, 200);
  });
});
