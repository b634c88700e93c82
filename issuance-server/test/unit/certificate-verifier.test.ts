import 'reflect-metadata';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';
import { ensureTestPki, type TestPkiManifest } from '@cert/scripts/pki';
import {
  CertificateVerifier,
  certificateSerial,
  normalizeSerial,
  parseCertificate,
  pemOrDer,
  sha256Hex,
} from '../../src/services/certificate-verifier.ts';
import { ServiceError } from '../../src/services/service-error.ts';

x509.cryptoProvider.set(webcrypto);

const derOf = (path: string) => pemOrDer(readFileSync(path), 'CERTIFICATE');
const anchorOf = (path: string) => {
  const der = derOf(path);
  return { sha256: sha256Hex(der), der };
};

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ServiceError, `expected ServiceError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** Trust that the test changes in place; `bump()` says it changed, as an anchor add or CRL import does. */
let generation = 1;
const bump = () => generation++;

/** A verifier over fixed anchors and a revocation predicate. */
function trusting(anchors: { sha256: string; der: Buffer }[], isRevoked: (anchor: string, serial: string) => boolean = () => false): CertificateVerifier {
  return new CertificateVerifier({ anchors: async () => anchors, isRevoked: async (a, s) => isRevoked(a, s), generation: async () => generation });
}

async function rsaSigningKey(keyPath: string): Promise<webcrypto.CryptoKey> {
  const der = pemOrDer(readFileSync(keyPath), 'PRIVATE KEY');
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
}

describe('certificate verifier (unit, test PKI)', function () {
  this.timeout(120_000);
  let m: TestPkiManifest;
  let authRoot: { sha256: string; der: Buffer };
  let otherRoot: { sha256: string; der: Buffer };
  let revoked: Set<string>;
  let verifier: CertificateVerifier;
  const now = () => new Date();

  before(async () => {
    m = await ensureTestPki();
    authRoot = anchorOf(m.authRoot.certPath);
    otherRoot = anchorOf(m.otherRoot.certPath);
    revoked = new Set();
    verifier = trusting([authRoot], (anchor, serial) => revoked.has(`${anchor}:${serial}`));
  });

  it('accepts a resident authentication certificate and describes it', async () => {
    const der = derOf(m.residents['R0001']!.auth.certPath);
    const v = await verifier.verify(der, now());
    assert.equal(v.sha256, sha256Hex(der));
    assert.equal(v.anchorSha256, authRoot.sha256);
    assert.match(v.subject, new RegExp(`CN=${m.residents['R0001']!.authSubjectCn}`));
    assert.equal(v.serial, certificateSerial(parseCertificate(der)));
    assert.match(v.serial, /^[0-9a-f]+$/);
    assert.ok(v.notAfter.getTime() > Date.now());
  });

  it('accepts every resident auth certificate', async () => {
    for (const [id, r] of Object.entries(m.residents)) {
      const v = await verifier.verify(derOf(r.auth.certPath), now());
      assert.equal(v.anchorSha256, authRoot.sha256, id);
    }
  });

  it('a certificate from another CA → certificate_untrusted', async () => {
    await rejectsWith(verifier.verify(derOf(m.special.wrongCa.certPath), now()), 'certificate_untrusted');
  });

  it('no anchors at all → certificate_untrusted', async () => {
    const empty = trusting([]);
    await rejectsWith(empty.verify(derOf(m.residents['R0001']!.auth.certPath), now()), 'certificate_untrusted');
  });

  it('trusting the other root instead of the JPKI one flips the answers', async () => {
    const other = trusting([otherRoot]);
    assert.equal((await other.verify(derOf(m.special.wrongCa.certPath), now())).anchorSha256, otherRoot.sha256);
    await rejectsWith(other.verify(derOf(m.residents['R0001']!.auth.certPath), now()), 'certificate_untrusted');
  });

  it('an expired certificate → certificate_expired (not untrusted)', async () => {
    await rejectsWith(verifier.verify(derOf(m.special.expired.certPath), now()), 'certificate_expired');
  });

  it('an expired certificate that only claims the anchor as issuer → certificate_untrusted', async () => {
    const keys = await webcrypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 },
      true,
      ['sign', 'verify'],
    );
    const year = 365 * 86_400_000;
    const forged = await x509.X509CertificateGenerator.create({
      subject: 'C=JP, CN=FORGED',
      issuer: new x509.X509Certificate(authRoot.der).subjectName,
      publicKey: keys.publicKey,
      signingKey: await rsaSigningKey(m.otherRoot.keyPath),
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      serialNumber: '0badc0de',
      notBefore: new Date(Date.now() - 3 * year),
      notAfter: new Date(Date.now() - year),
      extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
    });
    await rejectsWith(verifier.verify(new Uint8Array(forged.rawData), now()), 'certificate_untrusted');
  });

  it('a certificate checked before its notBefore → certificate_expired', async () => {
    const der = derOf(m.residents['R0001']!.auth.certPath);
    const notBefore = parseCertificate(der).notBefore.value;
    await rejectsWith(verifier.verify(der, new Date(notBefore.getTime() - 60_000)), 'certificate_expired');
  });

  it('key usage without digitalSignature → certificate_not_for_authentication', async () => {
    await rejectsWith(verifier.verify(derOf(m.special.notForAuth.certPath), now()), 'certificate_not_for_authentication');
  });

  it("a resident's SIGN certificate → certificate_not_for_authentication, whatever the anchors", async () => {
    const signDer = derOf(m.residents['R0001']!.sign.certPath);
    await rejectsWith(verifier.verify(signDer, now()), 'certificate_not_for_authentication');
    const both = trusting([authRoot, anchorOf(m.signRoot.certPath)]);
    await rejectsWith(both.verify(signDer, now()), 'certificate_not_for_authentication');
  });

  it('a CA certificate cannot log in', async () => {
    await rejectsWith(verifier.verify(authRoot.der, now()), 'certificate_not_for_authentication');
  });

  it('garbage is invalid_request', async () => {
    await rejectsWith(verifier.verify(Buffer.from('not a certificate'), now()), 'invalid_request');
  });

  it('a keyUsage, basicConstraints or policies extension that is not what its type says → certificate_not_for_authentication, never a crash', async () => {
    const issuerKey = await rsaSigningKey(m.authRoot.keyPath);
    const authName = new x509.X509Certificate(authRoot.der).subjectName;
    const keys = await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 }, true, ['sign', 'verify']);
    // DER INTEGER 5 where a BIT STRING / SEQUENCE belongs.
    const integer = new Uint8Array([0x02, 0x01, 0x05]);
    for (const oid of ['2.5.29.15', '2.5.29.19', '2.5.29.32']) {
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: '7f01',
        subject: 'C=JP, CN=MALFORMED-EXTENSION',
        issuer: authName.toString(),
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 86_400_000),
        publicKey: keys.publicKey,
        signingKey: issuerKey,
        signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        extensions: [new x509.Extension(oid, true, integer)],
      });
      await rejectsWith(verifier.verify(Buffer.from(cert.rawData), now()), 'certificate_not_for_authentication');
    }
  });

  it('a verified chain is remembered until the trust changes; validity dates are checked on every use', async () => {
    const der = derOf(m.residents['R0002']!.auth.certPath);
    let anchorReads = 0;
    const counting = new CertificateVerifier({
      anchors: async () => (anchorReads++, [authRoot]),
      isRevoked: async () => false,
      generation: async () => generation,
    });
    await counting.verify(der, now());
    await counting.verify(der, now());
    assert.equal(anchorReads, 1, 'the second login reuses the verified chain');
    await rejectsWith(counting.verify(der, new Date(Date.now() + 20 * 365 * 86_400_000)), 'certificate_expired');
    bump();
    await counting.verify(der, now());
    assert.equal(anchorReads, 2, 'a new anchor or CRL means building the chain again');
  });

  describe('revocation', () => {
    it('parseCrl reads the anchor-signed CRL (PEM via pemOrDer, and DER)', async () => {
      const fromDer = await verifier.parseCrl(readFileSync(m.crl.derPath));
      const fromPem = await verifier.parseCrl(pemOrDer(readFileSync(m.crl.pemPath), 'X509 CRL'));
      assert.deepEqual(fromPem, fromDer);
      assert.equal(fromDer.anchorSha256, authRoot.sha256);
      assert.deepEqual(fromDer.serials, m.crl.revokedSerials.map(normalizeSerial));
      assert.ok(fromDer.thisUpdate.getTime() < Date.now());
      assert.ok(fromDer.nextUpdate && fromDer.nextUpdate.getTime() > Date.now());
    });

    it('the revoked certificate passes without the CRL and fails with it → certificate_revoked', async () => {
      const der = derOf(m.special.revoked.certPath);
      revoked.clear();
      const v = await verifier.verify(der, now());
      assert.equal(v.serial, normalizeSerial(m.crl.revokedSerials[0]!));
      const crl = await verifier.parseCrl(readFileSync(m.crl.derPath));
      for (const s of crl.serials) revoked.add(`${crl.anchorSha256}:${s}`);
      bump();
      await rejectsWith(verifier.verify(der, now()), 'certificate_revoked');
      // others stay fine
      await verifier.verify(derOf(m.residents['R0004']!.auth.certPath), now());
      revoked.clear();
      bump();
    });

    it('parseCrl rejects a CRL whose issuer is not an anchor', async () => {
      const onlyOther = trusting([otherRoot]);
      await assert.rejects(onlyOther.parseCrl(readFileSync(m.crl.derPath)), /not a configured trust anchor/);
    });

    it('parseCrl rejects a CRL that names the anchor but is signed by another key', async () => {
      const authName = new x509.X509Certificate(authRoot.der).subjectName;
      const forged = await x509.X509CrlGenerator.create({
        issuer: authName,
        thisUpdate: new Date(Date.now() - 60_000),
        nextUpdate: new Date(Date.now() + 86_400_000),
        entries: [{ serialNumber: '00ab', revocationDate: new Date(Date.now() - 60_000), reason: x509.X509CrlReason.keyCompromise }],
        signingKey: await rsaSigningKey(m.otherRoot.keyPath),
        signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      });
      await assert.rejects(verifier.parseCrl(new Uint8Array(forged.rawData)), /signature does not verify/);
      // the same CRL, signed by the right key, is accepted (so the rejection above is about the signature)
      const genuine = await x509.X509CrlGenerator.create({
        issuer: authName,
        thisUpdate: new Date(Date.now() - 60_000),
        nextUpdate: new Date(Date.now() + 86_400_000),
        entries: [{ serialNumber: '00ab', revocationDate: new Date(Date.now() - 60_000), reason: x509.X509CrlReason.keyCompromise }],
        signingKey: await rsaSigningKey(m.authRoot.keyPath),
        signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      });
      const parsed = await verifier.parseCrl(new Uint8Array(genuine.rawData));
      assert.deepEqual(parsed.serials, ['ab']);
    });

    it('parseCrl rejects garbage', async () => {
      await assert.rejects(verifier.parseCrl(Buffer.from('garbage')), /not a DER X.509 CRL/);
      await assert.rejects(verifier.parseCrl(authRoot.der), /CRL/);
    });
  });

  describe('helpers', () => {
    it('normalizeSerial lowercases and strips leading zeros, keeping one zero', () => {
      assert.equal(normalizeSerial('00AbC1'), 'abc1');
      assert.equal(normalizeSerial('652C6FEF'), '652c6fef');
      assert.equal(normalizeSerial('0000'), '0');
      assert.equal(normalizeSerial('0'), '0');
      assert.equal(normalizeSerial('10'), '10');
      assert.equal(normalizeSerial('00ff00'), 'ff00');
    });

    it('pemOrDer: PEM decoded, DER passed through, wrong label refused', () => {
      const pem = readFileSync(m.authRoot.certPath);
      const der = pemOrDer(pem, 'CERTIFICATE');
      assert.equal(der[0], 0x30);
      assert.deepEqual(pemOrDer(der, 'CERTIFICATE'), der);
      // text around the block and CRLF line ends are fine
      const crlf = Buffer.from(`Bag Attributes\r\n${pem.toString('latin1').replace(/\n/g, '\r\n')}trailer\r\n`, 'latin1');
      assert.deepEqual(pemOrDer(crlf, 'CERTIFICATE'), der);
      // the first block of that label wins
      const two = Buffer.concat([pem, readFileSync(m.otherRoot.certPath)]);
      assert.deepEqual(pemOrDer(two, 'CERTIFICATE'), der);
      assert.throws(() => pemOrDer(pem, 'X509 CRL'), /expected a PEM block "X509 CRL"/);
      assert.throws(() => pemOrDer(readFileSync(m.authRoot.keyPath), 'CERTIFICATE'), /expected a PEM block/);
      const crlDer = pemOrDer(readFileSync(m.crl.pemPath), 'X509 CRL');
      assert.deepEqual(crlDer, readFileSync(m.crl.derPath));
    });
  });
});
