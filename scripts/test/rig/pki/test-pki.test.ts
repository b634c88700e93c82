import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { ensureTestPki, generateTestPki, type PkiCredential, type TestPkiManifest } from '../../../src/pki/test-pki.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const [HEADER, ...CSV] = readFileSync(join(REPO_ROOT, 'scripts/demo/residents.csv'), 'utf8').trim().split('\n').map((l) => l.split(',')) as [string[], ...string[][]];
const r0004 = CSV.find((c) => c[0] === 'R0004')!;

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'] }));

/** Runs openssl and reports the exit code and combined output instead of throwing. */
function openssl(...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

function pemBody(path: string): Uint8Array {
  const b64 = readFileSync(path, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

const loadCert = (path: string) => pkijs.Certificate.fromBER(pemBody(path));

function allCredentials(m: TestPkiManifest): [string, PkiCredential][] {
  return [
    ['authRoot', m.authRoot], ['signRoot', m.signRoot], ['otherRoot', m.otherRoot],
    ...Object.entries(m.special),
    ...Object.entries(m.residents).flatMap(([id, r]): [string, PkiCredential][] => [[`${id}.auth`, r.auth], [`${id}.sign`, r.sign]]),
    ['tls', { certPath: m.tls.cert, keyPath: m.tls.key }],
  ];
}

describe('test PKI generator', function () {
  this.timeout(120_000);
  let tmp: string;
  let m: TestPkiManifest;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'test-pki-'));
    m = await generateTestPki(join(tmp, 'pki'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('issues auth+sign for every resident with a card: active residents and 本籍地 users, not the deceased', () => {
    const status = HEADER.indexOf('status');
    const active = CSV.filter((c) => c[status] === 'active' || c[status] === 'non_resident').map((c) => c[0]);
    assert.ok(!active.includes('R0005') && active.includes('R0009'));
    assert.deepEqual(Object.keys(m.residents).sort(), active.sort());
    assert.equal(m.dir, join(tmp, 'pki'));
  });

  it('auth leaves chain to authRoot (strict), sign leaves to signRoot', () => {
    for (const [id, r] of Object.entries(m.residents)) {
      assert.ok(openssl('verify', '-x509_strict', '-CAfile', m.authRoot.certPath, r.auth.certPath).ok, `${id} auth`);
      assert.ok(openssl('verify', '-x509_strict', '-CAfile', m.signRoot.certPath, r.sign.certPath).ok, `${id} sign`);
      assert.ok(!openssl('verify', '-CAfile', m.signRoot.certPath, r.auth.certPath).ok, `${id} auth must not chain to signRoot`);
    }
    assert.ok(openssl('verify', '-CAfile', m.authRoot.certPath, m.special.unlinked.certPath).ok);
  });

  it('wrongCa does not verify against authRoot but does against otherRoot', () => {
    const r = openssl('verify', '-CAfile', m.authRoot.certPath, m.special.wrongCa.certPath);
    assert.ok(!r.ok);
    assert.match(r.out, /unable to get local issuer certificate/);
    assert.ok(openssl('verify', '-CAfile', m.otherRoot.certPath, m.special.wrongCa.certPath).ok);
  });

  it('expired is expired', () => {
    const r = openssl('verify', '-CAfile', m.authRoot.certPath, m.special.expired.certPath);
    assert.ok(!r.ok);
    assert.match(r.out, /certificate has expired/);
    assert.ok(loadCert(m.special.expired.certPath).notAfter.value.getTime() < Date.now());
  });

  it('CRL is signed by authRoot, lists the revoked serial, and PEM and DER agree', () => {
    const text = openssl('crl', '-in', m.crl.pemPath, '-CAfile', m.authRoot.certPath, '-noout', '-text');
    assert.ok(text.ok, text.out);
    assert.match(text.out, /verify OK/);
    assert.match(text.out, /CRL Number/);
    assert.match(text.out, /Authority Key Identifier/);
    assert.equal(readFileSync(m.crl.pemPath, 'utf8').split('\n')[0], '-----BEGIN X509 CRL-----');
    const revokedSerial = openssl('x509', '-in', m.special.revoked.certPath, '-noout', '-serial').out.trim().replace('serial=', '');
    assert.deepEqual(m.crl.revokedSerials, [revokedSerial.toLowerCase()]);
    assert.ok(text.out.includes(`Serial Number: ${revokedSerial}`));
    assert.deepEqual(new Uint8Array(readFileSync(m.crl.derPath)), pemBody(m.crl.pemPath));
  });

  it('CRL-checked verification rejects only the revoked cert', () => {
    const crlCheck = (cert: string) => openssl('verify', '-crl_check', '-CRLfile', m.crl.pemPath, '-CAfile', m.authRoot.certPath, cert);
    const revoked = crlCheck(m.special.revoked.certPath);
    assert.ok(!revoked.ok);
    assert.match(revoked.out, /certificate revoked/);
    assert.ok(crlCheck(m.residents['R0004']!.auth.certPath).ok);
  });

  it('pkijs chain engine reports revoked and untrusted certs', async () => {
    const crl = pkijs.CertificateRevocationList.fromBER(new Uint8Array(readFileSync(m.crl.derPath)));
    const check = (path: string) =>
      new pkijs.CertificateChainValidationEngine({
        trustedCerts: [loadCert(m.authRoot.certPath)], certs: [loadCert(path)], crls: [crl],
      }).verify();
    assert.equal((await check(m.residents['R0004']!.auth.certPath)).result, true);
    const revoked = await check(m.special.revoked.certPath);
    assert.equal(revoked.result, false);
    assert.equal(revoked.resultCode, 12);
    assert.equal((await check(m.special.wrongCa.certPath)).result, false);
  });

  it('sign cert SAN carries the 4 otherNames as [0] EXPLICIT UTF8String', () => {
    const cert = loadCert(m.residents['R0004']!.sign.certPath);
    const ext = cert.extensions!.find((e) => e.extnID === '2.5.29.17')!;
    const san = asn1js.fromBER(ext.extnValue.getValue()).result as asn1js.Sequence;
    const values: Record<string, string> = {};
    for (const gn of san.valueBlock.value as asn1js.Constructed[]) {
      assert.equal(gn.idBlock.tagClass, 3);
      assert.equal(gn.idBlock.tagNumber, 0, 'otherName');
      const [oid, explicit] = gn.valueBlock.value as [asn1js.ObjectIdentifier, asn1js.Constructed];
      assert.equal(explicit.idBlock.tagNumber, 0);
      const utf8 = explicit.valueBlock.value[0]!;
      assert.ok(utf8 instanceof asn1js.Utf8String);
      values[oid.valueBlock.toString()] = utf8.valueBlock.value;
    }
    assert.deepEqual(values, {
      '1.2.392.200149.8.5.5.1': r0004[2], // 佐藤 健
      '1.2.392.200149.8.5.5.3': r0004[5],
      '1.2.392.200149.8.5.5.4': '319791201', // 3 = 昭和
      '1.2.392.200149.8.5.5.5': r0004[6],
    });
    const subject = openssl('x509', '-in', m.residents['R0004']!.sign.certPath, '-noout', '-subject', '-nameopt', 'RFC2253').out;
    assert.match(subject, /^subject=CN=[A-Z2-7]{23},L=Test-shi,L=Tokyo-to,C=JP$/m);
  });

  it('auth subject has only C and a 23-char opaque CN, and no personal data anywhere', () => {
    for (const [id, r] of Object.entries(m.residents)) {
      const cert = loadCert(r.auth.certPath);
      const attrs = cert.subject.typesAndValues.map((tv) => [tv.type, tv.value.valueBlock.value]);
      assert.deepEqual(attrs, [['2.5.4.6', 'JP'], ['2.5.4.3', r.authSubjectCn]]);
      assert.match(r.authSubjectCn, /^[A-Z2-7]{23}$/);
      const der = Buffer.from(pemBody(r.auth.certPath));
      const row = CSV.find((c) => c[0] === id)!;
      for (const personal of [row[2]!, row[6]!, row[4]!.replaceAll('-', '')]) assert.ok(!der.includes(Buffer.from(personal)), `${id}: ${personal}`);
    }
  });

  it('auth certs: digitalSignature only, auth policy, directoryName CRL DP, at most 5 years', () => {
    const text = openssl('x509', '-in', m.residents['R0001']!.auth.certPath, '-noout', '-text').out;
    assert.match(text, /Key Usage: critical\s+Digital Signature\n/);
    assert.match(text, /Policy: 1\.2\.392\.200149\.8\.5\.1\.3\.30/);
    assert.match(text, /DirName:C = JP, O = JPKI-TEST, OU = JPKI for user authentication/);
    const cert = loadCert(m.residents['R0001']!.auth.certPath);
    const fiveYears = new Date(cert.notBefore.value);
    fiveYears.setUTCFullYear(fiveYears.getUTCFullYear() + 5);
    assert.ok(cert.notAfter.value <= fiveYears);
    assert.match(openssl('x509', '-in', m.special.notForAuth.certPath, '-noout', '-text').out, /Key Usage: critical\s+Non Repudiation\n/);
  });

  it('roots are CA:TRUE with keyCertSign+cRLSign, JPKI-TEST DNs', () => {
    for (const [root, ou] of [[m.authRoot, 'JPKI for user authentication'], [m.signRoot, 'JPKI for digital signature']] as const) {
      const text = openssl('x509', '-in', root.certPath, '-noout', '-text', '-nameopt', 'RFC2253').out;
      assert.match(text, /Basic Constraints: critical\s+CA:TRUE/);
      assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
      assert.ok(text.includes(`Subject: OU=Japan Agency for Local Authority Information Systems,OU=${ou},O=JPKI-TEST,C=JP`));
    }
  });

  it('keys are PKCS#8 and match their certificates', () => {
    for (const [name, cred] of allCredentials(m)) {
      assert.match(readFileSync(cred.keyPath, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/, name);
      const fromKey = execFileSync('openssl', ['pkey', '-in', cred.keyPath, '-pubout'], { encoding: 'utf8' });
      const fromCert = execFileSync('openssl', ['x509', '-in', cred.certPath, '-noout', '-pubkey'], { encoding: 'utf8' });
      assert.equal(fromKey, fromCert, name);
    }
  });

  it('TLS server cert serves 127.0.0.1 / ::1 / localhost', async () => {
    for (const flag of [['-verify_ip', '127.0.0.1'], ['-verify_ip', '::1'], ['-verify_hostname', 'localhost']]) {
      assert.ok(openssl('verify', '-purpose', 'sslserver', ...flag, '-CAfile', m.tls.ca, m.tls.cert).ok, flag.join(' '));
    }
    const server = tls.createServer({ key: readFileSync(m.tls.key), cert: readFileSync(m.tls.cert) }, (s) => s.end('hi'));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    try {
      const { port } = server.address() as { port: number };
      const reply = await new Promise<string>((res, rej) => {
        const c = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(m.tls.ca) }, () => c.once('data', (d) => res(String(d))));
        c.on('error', rej);
      });
      assert.equal(reply, 'hi');
    } finally {
      server.close();
    }
  });

  describe('ensureTestPki', () => {
    it('reuses a valid dir', async () => {
      assert.equal((await ensureTestPki(m.dir)).generatedAt, m.generatedAt);
    });

    it('regenerates when a file is corrupted or missing', async () => {
      writeFileSync(m.authRoot.certPath, 'garbage');
      const again = await ensureTestPki(m.dir);
      assert.notEqual(again.generatedAt, m.generatedAt);
      assert.ok(openssl('verify', '-CAfile', again.authRoot.certPath, again.residents['R0001']!.auth.certPath).ok);

      unlinkSync(again.crl.derPath);
      const third = await ensureTestPki(m.dir);
      assert.notEqual(third.generatedAt, again.generatedAt);
      assert.equal((await ensureTestPki(m.dir)).generatedAt, third.generatedAt);
      m = third;
    });

    it('concurrent callers on a fresh dir agree on one PKI and leave no temp dirs', async () => {
      const dir = join(tmp, 'race', 'pki');
      const [a, b] = await Promise.all([ensureTestPki(dir), ensureTestPki(dir)]);
      assert.equal(a.generatedAt, b.generatedAt);
      assert.equal(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).generatedAt, a.generatedAt);
      assert.deepEqual(readdirSync(dirname(dir)), ['pki']);
    });

    it('concurrent CLI processes agree too', async () => {
      const dir = join(tmp, 'race-cli', 'pki');
      const cli = join(REPO_ROOT, 'scripts/src/pki/generate-test-pki.ts');
      const run = () => promisify(execFile)(process.execPath, ['--import', 'tsx', cli, '--dir', dir], { cwd: REPO_ROOT });
      const outs = await Promise.all([run(), run()]);
      assert.deepEqual(outs.map((o) => o.stdout.trim()), [dir, dir]);
      assert.deepEqual(readdirSync(dirname(dir)), ['pki']);
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as TestPkiManifest;
      assert.ok(openssl('verify', '-CAfile', manifest.authRoot.certPath, manifest.special.unlinked.certPath).ok);
    });
  });
});
