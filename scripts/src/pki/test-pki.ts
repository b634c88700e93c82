// JPKI-shaped test PKI (see ../shared/jpki-card.md §7): roots, per-resident auth/sign
// credentials, a CRL, deliberately broken certificates for negative tests, and a TLS pair.
import 'reflect-metadata';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import type { webcrypto as wc } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';

x509.cryptoProvider.set(webcrypto);

// tsconfig has no DOM lib, so take WebCrypto types from Node.
type CryptoKey = wc.CryptoKey;
type CryptoKeyPair = wc.CryptoKeyPair;
type KeyAlg = wc.RsaHashedKeyGenParams | wc.EcKeyGenParams;

export interface PkiCredential { certPath: string; keyPath: string }
export interface TestPkiManifest {
  version: 1;
  dir: string;
  generatedAt: string;
  authRoot: PkiCredential;
  signRoot: PkiCredential;
  otherRoot: PkiCredential;
  crl: { pemPath: string; derPath: string; revokedSerials: string[] };
  residents: Record<string, { auth: PkiCredential; sign: PkiCredential; authSubjectCn: string }>;
  special: {
    revoked: PkiCredential & { residentId: string };
    expired: PkiCredential & { residentId: string };
    wrongCa: PkiCredential & { residentId: string };
    notForAuth: PkiCredential & { residentId: string };
    unlinked: PkiCredential;
  };
  tls: { ca: string; cert: string; key: string };
}

const MANIFEST_VERSION = 1;
const DAY = 86_400_000;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RESIDENTS_CSV = fileURLToPath(new URL('../../demo/residents.csv', import.meta.url));
// Login must reach the revocation/chain/key-usage check, so the broken certs belong to a real active resident.
const SPECIAL_RESIDENT = 'R0004';

const JLIS_OU = 'Japan Agency for Local Authority Information Systems';
const AUTH_ROOT_DN = `C=JP, O=JPKI-TEST, OU=JPKI for user authentication, OU=${JLIS_OU}`;
const SIGN_ROOT_DN = `C=JP, O=JPKI-TEST, OU=JPKI for digital signature, OU=${JLIS_OU}`;
const OTHER_ROOT_DN = 'C=JP, O=Not JPKI, CN=Untrusted Test Root';
const TLS_CA_DN = 'CN=Cert Issuance Test TLS CA';

const OID = {
  policyAuth: '1.2.392.200149.8.5.1.3.30',
  policySign: '1.2.392.200149.8.5.1.1.20',
  sanName: '1.2.392.200149.8.5.5.1',
  sanSex: '1.2.392.200149.8.5.5.3',
  sanBirthDate: '1.2.392.200149.8.5.5.4',
  sanAddress: '1.2.392.200149.8.5.5.5',
  subjectAltName: '2.5.29.17',
  crlDistributionPoints: '2.5.29.31',
  crlNumber: '2.5.29.20',
};

const RSA_KEY: wc.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048,
};
const EC_KEY: wc.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const KU = x509.KeyUsageFlags;

/** Where tests and the demo keep the test PKI unless told otherwise. */
export function defaultPkiDir(): string {
  return resolve(process.env.TEST_PKI_DIR ?? join(REPO_ROOT, '.test-pki'));
}

/** Always builds a fresh PKI and swaps it into `dir` (old contents are replaced). */
export async function generateTestPki(dir: string = defaultPkiDir()): Promise<TestPkiManifest> {
  const finalDir = resolve(dir);
  return install(await buildIntoStaging(finalDir), finalDir, false);
}

/** Returns the PKI in `dir` if it is complete and not close to expiry, else generates one (safe under concurrency). */
export async function ensureTestPki(dir: string = defaultPkiDir()): Promise<TestPkiManifest> {
  const finalDir = resolve(dir);
  return (await readUsableManifest(finalDir)) ?? install(await buildIntoStaging(finalDir), finalDir, true);
}

// ---------------------------------------------------------------------------------------------
// Installation

/** Builds into a sibling temp dir so the final dir only ever appears complete (rename is atomic). */
async function buildIntoStaging(finalDir: string): Promise<{ dir: string; manifest: TestPkiManifest }> {
  const dir = join(dirname(finalDir), `.${basename(finalDir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  try {
    const manifest = await buildPki(dir, finalDir);
    return { dir, manifest };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Renames staging into place; with `preferWinner`, a usable PKI another process installed meanwhile wins. */
async function install(staging: { dir: string; manifest: TestPkiManifest }, finalDir: string, preferWinner: boolean): Promise<TestPkiManifest> {
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await tryRename(staging.dir, finalDir)) return staging.manifest;
      const winner = preferWinner ? await readUsableManifest(finalDir) : undefined;
      if (winner) return winner;
      await moveAsideAndDelete(finalDir);
    }
    throw new Error(`could not install test PKI into ${finalDir}`);
  } finally {
    await rm(staging.dir, { recursive: true, force: true }); // no-op once renamed
  }
}

async function tryRename(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EISDIR' || code === 'ENOTDIR') return false;
    throw err;
  }
}

async function moveAsideAndDelete(dir: string): Promise<void> {
  const aside = join(dirname(dir), `.${basename(dir)}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    // `--dir . --force` must not wipe a real folder: only replace what looks like one of ours.
    const entries = await readdir(dir, { withFileTypes: true });
    const foreign = entries.find((e) => !e.isFile() || !/\.(pem|key|crl|json)$/.test(e.name));
    if (foreign) throw new Error(`refusing to replace ${dir}: ${foreign.name} does not belong to a test PKI`);
    await rename(dir, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else already moved it
    throw err;
  }
  await rm(aside, { recursive: true, force: true });
}

async function readUsableManifest(dir: string): Promise<TestPkiManifest | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as TestPkiManifest;
    return isUsable(manifest, dir) ? manifest : undefined;
  } catch {
    return undefined;
  }
}

function isUsable(m: TestPkiManifest, dir: string): boolean {
  if (m.version !== MANIFEST_VERSION || m.dir !== dir) return false;
  const wanted = activeResidents().map((r) => r.id).sort();
  if (JSON.stringify(Object.keys(m.residents).sort()) !== JSON.stringify(wanted)) return false;
  const creds: PkiCredential[] = [
    m.authRoot, m.signRoot, m.otherRoot, ...Object.values(m.special),
    ...Object.values(m.residents).flatMap((r) => [r.auth, r.sign]),
    { certPath: m.tls.cert, keyPath: m.tls.key },
  ];
  const files = [...creds.flatMap((c) => [c.certPath, c.keyPath]), m.tls.ca, m.crl.pemPath, m.crl.derPath];
  if (!files.every((f) => existsSync(f))) return false;
  const liveCerts = creds.filter((c) => c !== m.special.expired).map((c) => c.certPath).concat(m.tls.ca);
  const horizon = Date.now() + 30 * DAY;
  if (!liveCerts.every((f) => new x509.X509Certificate(readFileSync(f, 'utf8')).notAfter.getTime() > horizon)) return false;
  // The CRL is short-lived by design; regenerate before a verifier would call it stale.
  const crl = new x509.X509Crl(readFileSync(m.crl.pemPath, 'utf8'));
  return (crl.nextUpdate?.getTime() ?? 0) > Date.now() + DAY;
}

// ---------------------------------------------------------------------------------------------
// Building

interface Resident {
  id: string; name: string; birthDate: string; sex: string; address: string; status: string;
}

interface Issued { cert: x509.X509Certificate; keys: CryptoKeyPair }

/** Subset of columns we need; the CSV is ours and has no quoted fields. */
function activeResidents(): Resident[] {
  const [header, ...rows] = readFileSync(RESIDENTS_CSV, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const cols = header!.split(',');
  return rows
    .map((line) => {
      const cells = line.split(',');
      const get = (c: string) => cells[cols.indexOf(c)] ?? '';
      return {
        id: get('id'), name: get('name'), birthDate: get('birthDate'), sex: get('sex'),
        address: get('address'), status: get('status'),
      };
    })
    .filter((r) => r.status === 'active' || r.status === 'non_resident');
}

async function buildPki(outDir: string, finalDir: string): Promise<TestPkiManifest> {
  const now = Date.now();
  const residents = activeResidents();
  const rootValidity = { notBefore: new Date(now - DAY), notAfter: addYears(now, 10) };
  const eeValidity = endEntityValidity(now);

  const [authRoot, signRoot, otherRoot, tlsCa] = await Promise.all([
    issueRoot(AUTH_ROOT_DN, 'auth-root', rootValidity),
    issueRoot(SIGN_ROOT_DN, 'sign-root', rootValidity),
    issueRoot(OTHER_ROOT_DN, 'other-root', rootValidity),
    issueRoot(TLS_CA_DN, 'tls-ca', rootValidity, EC_KEY),
  ]);

  const authFor = (residentId: string, label: string, issuer: Issued, keyUsage = KU.digitalSignature, validity = eeValidity) =>
    issueEndEntity({
      issuer, label, validity, keyUsage,
      subject: `C=JP, CN=${opaqueId(residentId, 'auth')}`,
      policy: OID.policyAuth,
    });

  const signFor = (r: Resident) =>
    issueEndEntity({
      issuer: signRoot, label: `sign:${r.id}`, validity: eeValidity,
      keyUsage: KU.digitalSignature | KU.nonRepudiation,
      subject: `C=JP, L=Tokyo-to, L=Test-shi, CN=${opaqueId(r.id, 'sign')}`,
      policy: OID.policySign,
      extraExtensions: [personalDataSan(r)],
    });

  const expiredValidity = { notBefore: addYears(now, -6), notAfter: addYears(now, -1) };
  const [residentCreds, revoked, expired, wrongCa, notForAuth, unlinked, tlsServer] = await Promise.all([
    Promise.all(residents.map(async (r) => ({ r, auth: await authFor(r.id, `auth:${r.id}`, authRoot), sign: await signFor(r) }))),
    authFor(SPECIAL_RESIDENT, 'revoked', authRoot),
    authFor(SPECIAL_RESIDENT, 'expired', authRoot, KU.digitalSignature, expiredValidity),
    authFor(SPECIAL_RESIDENT, 'wrong-ca', otherRoot),
    authFor(SPECIAL_RESIDENT, 'not-for-auth', authRoot, KU.nonRepudiation),
    authFor('UNLINKED', 'unlinked', authRoot),
    issueTlsServer(tlsCa, now),
  ]);

  const crl = await x509.X509CrlGenerator.create({
    issuer: authRoot.cert.subjectName,
    thisUpdate: new Date(now - 3_600_000),
    nextUpdate: new Date(now + 30 * DAY),
    entries: [{ serialNumber: revoked.cert.serialNumber, revocationDate: new Date(now - 3_600_000), reason: x509.X509CrlReason.keyCompromise }],
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(authRoot.cert.publicKey, false, webcrypto),
      new x509.Extension(OID.crlNumber, false, new asn1js.Integer({ value: 1 }).toBER()),
    ],
    signingKey: authRoot.keys.privateKey,
    signingAlgorithm: signingAlg(RSA_KEY),
  });

  await mkdir(outDir, { recursive: true });
  const save = async (name: string, item: Issued): Promise<PkiCredential> => {
    await writeFile(join(outDir, `${name}.pem`), item.cert.toString('pem') + '\n');
    await writeFile(join(outDir, `${name}.key`), await privateKeyPem(item.keys.privateKey), { mode: 0o600 });
    return { certPath: join(finalDir, `${name}.pem`), keyPath: join(finalDir, `${name}.key`) };
  };

  const manifest: TestPkiManifest = {
    version: MANIFEST_VERSION,
    dir: finalDir,
    generatedAt: new Date(now).toISOString(),
    authRoot: await save('auth-root', authRoot),
    signRoot: await save('sign-root', signRoot),
    otherRoot: await save('other-root', otherRoot),
    crl: { pemPath: join(finalDir, 'auth-root.crl.pem'), derPath: join(finalDir, 'auth-root.crl'), revokedSerials: [revoked.cert.serialNumber.toLowerCase()] },
    residents: {},
    special: {
      revoked: { residentId: SPECIAL_RESIDENT, ...(await save('special-revoked', revoked)) },
      expired: { residentId: SPECIAL_RESIDENT, ...(await save('special-expired', expired)) },
      wrongCa: { residentId: SPECIAL_RESIDENT, ...(await save('special-wrong-ca', wrongCa)) },
      notForAuth: { residentId: SPECIAL_RESIDENT, ...(await save('special-not-for-auth', notForAuth)) },
      unlinked: await save('special-unlinked', unlinked),
    },
    tls: { ca: join(finalDir, 'tls-ca.pem'), cert: join(finalDir, 'tls-server.pem'), key: join(finalDir, 'tls-server.key') },
  };
  for (const { r, auth, sign } of residentCreds) {
    manifest.residents[r.id] = {
      auth: await save(`resident-${r.id}-auth`, auth),
      sign: await save(`resident-${r.id}-sign`, sign),
      authSubjectCn: opaqueId(r.id, 'auth'),
    };
  }
  // @peculiar/x509 labels it "CRL"; OpenSSL and Node only read "X509 CRL".
  await writeFile(join(outDir, 'auth-root.crl.pem'), x509.PemConverter.encode(crl.rawData, 'X509 CRL') + '\n');
  await writeFile(join(outDir, 'auth-root.crl'), new Uint8Array(crl.rawData));
  await save('tls-ca', tlsCa);
  await save('tls-server', tlsServer);
  await writeFile(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/**
 * Issues a card (JPKI authentication certificate and its key) for a resident outside the demo
 * register, signed by the test auth root, into `outDir`. Load tests need more residents than the demo has.
 */
export async function issueResidentAuthCard(pki: TestPkiManifest, residentId: string, outDir: string): Promise<PkiCredential> {
  const rootKey = await webcrypto.subtle.importKey('pkcs8', pemDer(pki.authRoot.keyPath), RSA_KEY, true, ['sign']);
  const authRoot: Issued = { cert: new x509.X509Certificate(readFileSync(pki.authRoot.certPath, 'utf8')), keys: { privateKey: rootKey } as CryptoKeyPair };
  const card = await issueEndEntity({
    issuer: authRoot, label: `auth:${residentId}`, keyUsage: KU.digitalSignature, policy: OID.policyAuth,
    subject: `C=JP, CN=${opaqueId(residentId, 'auth')}`,
    validity: endEntityValidity(Date.now()),
  });
  const cred = { certPath: join(outDir, `resident-${residentId}-auth.pem`), keyPath: join(outDir, `resident-${residentId}-auth.key`) };
  await mkdir(outDir, { recursive: true });
  await writeFile(cred.certPath, card.cert.toString('pem') + '\n');
  await writeFile(cred.keyPath, await privateKeyPem(card.keys.privateKey), { mode: 0o600 });
  return cred;
}

function pemDer(path: string): ArrayBuffer {
  const der = Buffer.from(readFileSync(path, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

interface Validity { notBefore: Date; notAfter: Date }

/** JPKI certs end at most 5 years after issuance. */
function endEntityValidity(now: number): Validity {
  return { notBefore: new Date(now - DAY), notAfter: new Date(addYears(now, 5).getTime() - DAY) };
}

async function issueRoot(dn: string, label: string, validity: Validity, keyAlg: KeyAlg = RSA_KEY): Promise<Issued> {
  const keys = await newKeys(keyAlg);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: dn, keys, serialNumber: serialFor(label), ...validity, signingAlgorithm: signingAlg(keyAlg),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(KU.keyCertSign | KU.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
    ],
  });
  return { cert, keys };
}

interface EndEntitySpec {
  issuer: Issued;
  label: string;            // seeds the serial, so it must be unique per issuer
  subject: string;
  validity: Validity;
  keyUsage: x509.KeyUsageFlags;
  policy?: string;
  extraExtensions?: x509.Extension[];
  keyAlg?: KeyAlg;
}

/** The single end-entity issuer used for every kind of leaf (auth, sign, broken variants, TLS). */
async function issueEndEntity(spec: EndEntitySpec): Promise<Issued> {
  const keys = await newKeys(spec.keyAlg ?? RSA_KEY);
  const issuerKeyAlg = spec.issuer.keys.privateKey.algorithm as KeyAlg;
  const cert = await x509.X509CertificateGenerator.create({
    subject: spec.subject,
    issuer: spec.issuer.cert.subjectName,
    publicKey: keys.publicKey,
    signingKey: spec.issuer.keys.privateKey,
    signingAlgorithm: signingAlg(issuerKeyAlg),
    serialNumber: serialFor(spec.label),
    ...spec.validity,
    extensions: [
      new x509.KeyUsagesExtension(spec.keyUsage, true),
      ...(spec.policy ? [new x509.CertificatePolicyExtension([spec.policy])] : []),
      await x509.AuthorityKeyIdentifierExtension.create(spec.issuer.cert.publicKey, false, webcrypto),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ...(spec.policy ? [directoryNameCrlDp(spec.issuer.cert.subjectName)] : []),
      ...(spec.extraExtensions ?? []),
    ],
  });
  return { cert, keys };
}

function issueTlsServer(ca: Issued, now: number): Promise<Issued> {
  return issueEndEntity({
    issuer: ca, label: 'tls-server', keyAlg: EC_KEY,
    subject: 'CN=localhost',
    // Stay under the 398-day limit some TLS clients enforce even for private roots.
    validity: { notBefore: new Date(now - DAY), notAfter: new Date(now + 397 * DAY) },
    keyUsage: KU.digitalSignature,
    extraExtensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' },
      ]),
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// JPKI-specific encodings @peculiar/x509 cannot express directly

/** SAN of otherName entries, each `[0] IMPLICIT SEQUENCE { oid, [0] EXPLICIT UTF8String }` (jpki-card §7.2). */
function personalDataSan(r: Resident): x509.Extension {
  const otherName = (oid: string, value: string) =>
    new asn1js.Constructed({
      idBlock: { tagClass: 3, tagNumber: 0 },
      value: [
        new asn1js.ObjectIdentifier({ value: oid }),
        new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Utf8String({ value })] }),
      ],
    });
  const san = new asn1js.Sequence({
    value: [
      otherName(OID.sanName, r.name),
      otherName(OID.sanSex, r.sex),
      otherName(OID.sanBirthDate, eraBirthDate(r.birthDate)),
      otherName(OID.sanAddress, r.address),
    ],
  });
  return new x509.Extension(OID.subjectAltName, false, san.toBER());
}

/** JPKI CAs publish their CRL location as the issuer's own DN, not a URL (jpki-card §7.4). */
function directoryNameCrlDp(issuer: x509.Name): x509.Extension {
  const name = asn1js.fromBER(issuer.toArrayBuffer()).result;
  const ctx = (tagNumber: number, value: asn1js.AsnType[]) => new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber }, value });
  // DistributionPoint { distributionPoint [0] { fullName [0] { directoryName [4] Name } } }
  const dp = new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [ctx(0, [ctx(0, [ctx(4, [name])])])] })] });
  return new x509.Extension(OID.crlDistributionPoints, false, dp.toBER());
}

/** `EYYYYMMDD`: Japanese era code digit, then the Gregorian date. */
export function eraBirthDate(isoDate: string): string {
  const ymd = isoDate.replaceAll('-', '');
  const era = ymd >= '20190501' ? 5 : ymd >= '19890108' ? 4 : ymd >= '19261225' ? 3 : ymd >= '19120730' ? 2 : 1;
  return `${era}${ymd}`;
}

/** 23-char uppercase base32 derived from the resident, so the CN is stable but carries no personal data. */
export function opaqueId(residentId: string, purpose: 'auth' | 'sign'): string {
  return base32(createHash('sha256').update(`${residentId}:${purpose}`).digest()).slice(0, 23);
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function base32(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, acc = 0, out = '';
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff; // only the low `bits` matter
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** Deterministic per label; first byte in 0x40..0x7f keeps the DER INTEGER positive and 16 bytes long. */
function serialFor(label: string): string {
  const h = createHash('sha256').update(`serial:${label}`).digest().subarray(0, 16);
  h[0] = (h[0]! & 0x3f) | 0x40;
  return h.toString('hex');
}

function addYears(ms: number, years: number): Date {
  const d = new Date(ms);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d;
}

function signingAlg(keyAlg: KeyAlg): wc.Algorithm | wc.EcdsaParams {
  return keyAlg.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}

async function newKeys(alg: KeyAlg): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY') + '\n';
}
